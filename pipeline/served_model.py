"""Loads a pushed model version the way a client would: the SavedModel's serving
signature, or the int8 TFLite core fed through the shipped transform and sidecar.

This is the reference client for the TFLite export (tests and the benchmark use it),
so the sidecar is proven sufficient rather than assumed to be.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components.tflite_export import SIDECAR_FILE, TFLITE_FILE, Int8Model
from components.versioned_pusher.executor import TFLITE_SUBDIR

SERVING_SIGNATURE = "serving_default"


class SavedModelPredictor:
    def __init__(self, version_dir: Path | str):
        self.model = tf.saved_model.load(str(version_dir))
        self.signature = self.model.signatures[SERVING_SIGNATURE]

    def predict(self, serialized: list[bytes], batch_size: int = 1024) -> np.ndarray:
        outputs = [self.signature(examples=tf.constant(serialized[i:i + batch_size]))["outputs"]
                   for i in range(0, len(serialized), batch_size)]
        return np.concatenate([o.numpy() for o in outputs])


class TFLitePredictor:
    """Parse → transform → encode per the sidecar's layout → int8 core → dequantize."""

    def __init__(self, version_dir: Path | str):
        folder = Path(version_dir) / TFLITE_SUBDIR
        self.sidecar = json.loads((folder / SIDECAR_FILE).read_text(encoding="utf-8"))
        self.core = Int8Model((folder / TFLITE_FILE).read_bytes())
        self.transform = tft.TFTransformOutput(str(folder / self.sidecar["transform"]["tft_output"]))
        self.raw_spec = self.transform.raw_feature_spec()
        self.raw_spec.pop(self.sidecar["output"]["label"], None)
        self.layout = self.sidecar["input"]["layout"]
        self.width = sum(s["width"] for s in self.layout)

    def encode(self, serialized: list[bytes]) -> np.ndarray:
        raw = tf.io.parse_example(tf.constant(serialized), self.raw_spec)
        transformed = self.transform.transform_raw_features(raw)
        vectors = np.zeros((len(serialized), self.width), np.float32)
        for segment in self.layout:
            values = transformed[segment["transformed"]].numpy().reshape(-1)
            if segment["encoding"] == "z_score":
                vectors[:, segment["offset"]] = values
            else:
                vectors[np.arange(len(values)), segment["offset"] + values.astype(np.int64)] = 1.0
        return vectors

    def predict(self, serialized: list[bytes], batch_size: int = 1024) -> np.ndarray:
        return np.concatenate([self.core.predict(self.encode(serialized[i:i + batch_size]))
                               for i in range(0, len(serialized), batch_size)])
