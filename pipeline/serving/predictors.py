"""Loads a pushed model version the way a client would: the SavedModel's serving
signature, or the int8 TFLite core fed through the shipped transform and sidecar.

This is the reference client for the TFLite export (tests and the benchmark use it),
so the sidecar is proven sufficient rather than assumed to be.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components.layout import SERVING_SIGNATURE, SIDECAR_FILE, TFLITE_FILE, TFLITE_SUBDIR
from models.tflite_export import Int8Model


class SavedModelPredictor:
    def __init__(self, version_dir: Path | str):
        self.model = tf.saved_model.load(str(version_dir))
        self.signature = self.model.signatures[SERVING_SIGNATURE]

    def predict(self, serialized: list[bytes], batch_size: int = 1024) -> np.ndarray:
        outputs = [self.signature(examples=tf.constant(serialized[i:i + batch_size]))["outputs"]
                   for i in range(0, len(serialized), batch_size)]
        return np.concatenate([o.numpy() for o in outputs])


class TFLitePredictor:
    """Parse → transform → encode per the sidecar's layout → int8 core → dequantize.

    Preparing the input is the TF part (the transform has vocabulary lookups, which are
    not TFLite ops); it runs as one compiled graph that ends in the core's int8 input,
    the core in the TFLite interpreter.
    """

    def __init__(self, version_dir: Path | str):
        folder = Path(version_dir) / TFLITE_SUBDIR
        self.sidecar = json.loads((folder / SIDECAR_FILE).read_text(encoding="utf-8"))
        self.core = Int8Model((folder / TFLITE_FILE).read_bytes())
        self.transform = tft.TFTransformOutput(str(folder / self.sidecar["transform"]["tft_output"]))
        self.raw_spec = self.transform.raw_feature_spec()
        self.raw_spec.pop(self.sidecar["output"]["label"], None)
        self.transform_layer = self.transform.transform_features_layer()
        self.layout = self.sidecar["input"]["layout"]
        # The int8 values of a one-hot slice's 0 and 1, by the core's own rounding.
        self._off, self._on = (int(v) for v in self.core.quantize([0.0, 1.0]).numpy())
        self._int8_graph = self._graph(quantized=True)

    def _graph(self, quantized: bool):
        """`_lay_out` as its one concrete function: at batch 1 a tf.function's own dispatch
        (binding and matching arguments) costs as much as the graph (docs/BENCHMARKS.md)."""
        return tf.function(lambda serialized: self._lay_out(serialized, quantized)
                           ).get_concrete_function(tf.TensorSpec([None], tf.string))

    @functools.cached_property
    def _float_graph(self):
        """Traced on first use: predictions never need the float vectors."""
        return self._graph(quantized=False)

    def encode(self, serialized: list[bytes]) -> np.ndarray:
        """The core's input as float vectors (before quantization)."""
        return self._float_graph(tf.constant(serialized)).numpy()

    def _lay_out(self, serialized, quantized: bool):
        """Parse, transform and lay out per the sidecar. `quantized`: as the core's int8
        input, a one-hot slice taking the int8 values of 0 and 1 directly, so that only the
        z-scores go through the float → int8 rounding (the same values, a fraction of the
        work: the vector is mostly one-hot)."""
        transformed = self.transform_layer(tf.io.parse_example(serialized, self.raw_spec))
        parts = []
        for segment in self.layout:
            values = tf.reshape(transformed[segment["transformed"]], [-1])
            if segment["encoding"] == "z_score":
                column = tf.reshape(tf.cast(values, tf.float32), [-1, 1])
                parts.append(self.core.quantize(column) if quantized else column)
            elif quantized:
                parts.append(tf.one_hot(tf.cast(values, tf.int64), segment["width"],
                                        on_value=self._on, off_value=self._off, dtype=tf.int8))
            else:
                parts.append(tf.one_hot(tf.cast(values, tf.int64), segment["width"]))
        return tf.concat(parts, axis=1)

    def predict(self, serialized: list[bytes], batch_size: int = 1024) -> np.ndarray:
        return np.concatenate([
            self.core.predict_quantized(self._int8_graph(tf.constant(serialized[i:i + batch_size]))
                                        .numpy())
            for i in range(0, len(serialized), batch_size)])
