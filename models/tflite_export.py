"""Full-integer (int8) TFLite export of the model's dense core, with a parity check.

TFX's own TFLite rewriter never sets int8 ops or int8 input/output types, so the
converter is configured here. `export` takes the conversion as a function: the Trainer's
(`tflite_deploy.convert`) builds the end-to-end file and cuts the core out of it, and
`core_only` converts the core alone; the sidecar JSON tells a consumer how to build the
core's input from the transform's outputs and how to (de)quantize.
When post-training quantization loses more accuracy than allowed, the core is
fine-tuned with quantization-aware training (tensorflow-model-optimization) and
converted again.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import numpy as np
import tensorflow as tf

from components.layout import SIDECAR_FILE, TFLITE_FILE
from models.model import Segment, hold_variables, predicted_class

# Folder of the Model artifact (beside Format-Serving) that holds the TFLite export.
SIDECAR_FORMAT = "conveyor-tflite/1"


@dataclass(frozen=True)
class Converted:
    """What one conversion of a Keras core yields: the int8 core file, and the end-to-end
    file it was cut from when the conversion built one (`tflite_deploy.convert`)."""

    core: bytes
    end_to_end: Optional[bytes] = None


@dataclass(frozen=True)
class Parity:
    method: str
    float_accuracy: float
    tflite_accuracy: float
    examples: int

    @property
    def gap(self) -> float:
        return abs(self.float_accuracy - self.tflite_accuracy)


def convert_int8(core: tf.keras.Model, representative: np.ndarray) -> bytes:
    """Converts with int8 kernels and int8 input and output tensors."""
    def samples():
        for row in representative:
            yield [row[np.newaxis, :].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(core)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter.exclude_conversion_metadata = True
    return converter.convert()


def core_only(representative: np.ndarray) -> Callable[[tf.keras.Model], Converted]:
    """A converter of the core alone, calibrated on encoded vectors (no end-to-end file)."""
    return lambda core: Converted(convert_int8(core, representative))


def quantize(vectors, scale: float, zero_point: int) -> tf.Tensor:
    """float -> int8 as TFLite's QUANTIZE kernel does it: x / scale in double precision,
    halves rounded away from zero (tf.round takes them to even), then the zero point.
    TF ops, so that a client's input graph can end in the core's int8 input."""
    scaled = tf.cast(vectors, tf.float64) / np.float64(np.float32(scale))
    rounded = tf.sign(scaled) * tf.floor(tf.abs(scaled) + 0.5)
    return tf.cast(tf.clip_by_value(rounded + zero_point, -128, 127), tf.int8)


def float_size(core: tf.keras.Model) -> int:
    """Bytes of the same core as a float32 TFLite file: the like-for-like size baseline
    (converted around `models.model.hold_variables`, not from the Keras model)."""
    holder = hold_variables(core)
    spec = tf.TensorSpec([None, *core.inputs[0].shape[1:]], tf.float32)
    function = tf.function(lambda x: core(x, training=False)).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], holder)
    converter.exclude_conversion_metadata = True
    return len(converter.convert())


class Int8Model:
    """Runs an int8 TFLite core on float vectors: quantize in, dequantize out."""

    def __init__(self, content: bytes):
        self.interpreter = tf.lite.Interpreter(model_content=content)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self._shape = tuple(self.input["shape"])

    def _fit_batch(self, shape) -> None:
        """Resizes the input only when the batch shape changes (allocation is not free)."""
        if self._shape != tuple(shape):
            self.interpreter.resize_tensor_input(self.input["index"], list(shape))
            self.interpreter.allocate_tensors()
            self._shape = tuple(shape)

    def quantize(self, vectors) -> tf.Tensor:
        """Float vectors as this core's int8 input."""
        scale, zero = self.input["quantization"]
        return quantize(vectors, scale, zero)

    def predict(self, vectors: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return self.predict_quantized(self.quantize(vectors).numpy(), batch_size)

    def predict_quantized(self, quantized: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Probabilities from the core's int8 input, as `quantize` makes it."""
        out_scale, out_zero = self.output["quantization"]
        results = []
        for start in range(0, len(quantized), batch_size):
            batch = quantized[start:start + batch_size]
            self._fit_batch(batch.shape)
            self.interpreter.set_tensor(self.input["index"], batch)
            self.interpreter.invoke()
            raw = self.interpreter.get_tensor(self.output["index"]).astype(np.float32)
            results.append((raw - out_zero) * out_scale)
        return np.concatenate(results)


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted_class(probabilities) == labels.reshape(-1)))


def measure_parity(method: str, core: tf.keras.Model, content: bytes, vectors: np.ndarray,
                   labels: np.ndarray) -> Parity:
    float_accuracy = accuracy(core.predict(vectors, batch_size=1024, verbose=0), labels)
    tflite_accuracy = accuracy(Int8Model(content).predict(vectors), labels)
    return Parity(method, float_accuracy, tflite_accuracy, len(labels))


def quantization_aware_core(core: tf.keras.Model, train: Iterable, steps: int,
                            loss: str) -> tf.keras.Model:
    """Fine-tunes a QAT copy of the core on (vector, label) batches.

    Only the dense layers are annotated (they hold every weight); the weightless slice
    and concatenate layers are left to the converter, which quantizes them from the
    representative data. Annotating the whole model fails on the custom slice layer.
    """
    import tensorflow_model_optimization as tfmot

    from models.model import SliceColumns

    quantize = tfmot.quantization.keras

    def annotate(layer):
        if isinstance(layer, tf.keras.layers.Dense):
            return quantize.quantize_annotate_layer(layer)
        return layer

    annotated = tf.keras.models.clone_model(core, clone_function=annotate)
    annotated.set_weights(core.get_weights())
    with quantize.quantize_scope({"SliceColumns": SliceColumns}):
        qat = quantize.quantize_apply(annotated)
    qat.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss=loss)
    qat.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
    return qat


def export(core: tf.keras.Model, convert: Callable[[tf.keras.Model], Converted],
           eval_vectors: np.ndarray, eval_labels: np.ndarray, max_gap: float,
           qat_data: Optional[Callable[[], Iterable]] = None, qat_steps: int = 0,
           loss: str = "binary_crossentropy") -> tuple[Converted, Parity]:
    """Post-training quantization, falling back to quantization-aware training on a miss."""
    converted = convert(core)
    parity = measure_parity("post_training", core, converted.core, eval_vectors, eval_labels)
    if parity.gap <= max_gap or qat_data is None or qat_steps <= 0:
        return converted, parity
    qat = quantization_aware_core(core, qat_data(), qat_steps, loss)
    qat_converted = convert(qat)
    qat_parity = measure_parity("quantization_aware", core, qat_converted.core, eval_vectors,
                                eval_labels)
    if qat_parity.gap < parity.gap:
        return qat_converted, qat_parity
    return converted, parity


def write(directory: str, content: bytes, parity: Parity, layout: list[Segment],
          label_info: dict, transform_dir: str, float_bytes: Optional[int] = None,
          extra: Optional[dict] = None) -> None:
    """`directory` may be a bucket URI (the Model artifact's), so only tf.io.gfile touches it."""
    directory = str(directory)
    tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(os.path.join(directory, TFLITE_FILE), "wb") as handle:
        handle.write(content)
    sidecar = describe(content, parity, layout, label_info, transform_dir)
    sidecar["size"] = {"int8_tflite_bytes": len(content), "float_tflite_bytes": float_bytes}
    sidecar.update(extra or {})
    with tf.io.gfile.GFile(os.path.join(directory, SIDECAR_FILE), "w") as handle:
        handle.write(json.dumps(sidecar, indent=2, sort_keys=True))


def describe(content: bytes, parity: Parity, layout: list[Segment], label_info: dict,
             transform_dir: str) -> dict:
    model = Int8Model(content)
    in_scale, in_zero = model.input["quantization"]
    out_scale, out_zero = model.output["quantization"]
    return {
        "format": SIDECAR_FORMAT,
        "input": {
            "name": model.input["name"],
            "shape": [int(d) for d in model.input["shape"]],
            "dtype": np.dtype(model.input["dtype"]).name,
            "scale": float(in_scale), "zero_point": int(in_zero),
            "layout": [dataclasses.asdict(s) for s in layout],
        },
        "output": {
            "name": model.output["name"],
            "shape": [int(d) for d in model.output["shape"]],
            "dtype": np.dtype(model.output["dtype"]).name,
            "scale": float(out_scale), "zero_point": int(out_zero),
            **label_info,
        },
        "transform": {
            "tft_output": transform_dir,
            "how": ("parse tf.Examples and apply this tf.Transform output (tft.TFTransformOutput "
                    "of this folder); each output named in "
                    "input.layout fills [offset, offset+width): z_score values as they are, "
                    "ids one-hot; then quantize with input.scale and input.zero_point"),
        },
        "parity": {**dataclasses.asdict(parity), "gap": parity.gap},
    }
