"""Size, per-example latency and eval-split quality of the pushed models.

Conveyor pushes a SavedModel (transform + model, on serialized tf.Examples) and an int8
TFLite core (the dense layers only; a client applies the shipped transform first). The
core's latency alone flatters TFLite, so the TFLite row is measured twice: the core on
ready input vectors, and end to end (parse, transform, encode, core) as
pipeline/served_model.TFLitePredictor does it. The size target compares the int8 file
with the same core converted to a float32 TFLite file by the trainer (recorded in the
sidecar), so both sides carry the same flatbuffer overhead; the core's raw parameter
bytes are shown beside it.
Each model is scored on its own pipeline's eval split (the two ExampleGens split the
rows differently, and scoring on the other's split would score on training rows).
"""

from __future__ import annotations

import glob
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EVAL_LIMIT = 20_000  # eval examples scored per model (the first ones of the split)
BATCH_SIZES = (1, 256)
LATENCY_SECONDS = 2.0  # time spent timing each (model, batch size)


@dataclass
class ModelFigures:
    name: str
    size_bytes: int
    examples: int
    accuracy: float
    auc: float
    latency_us: dict[int, float] = field(default_factory=dict)  # batch size → µs per example
    note: str = ""


def dir_bytes(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def eval_examples(examples_uri: str, limit: int = EVAL_LIMIT) -> list[bytes]:
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(examples_uri, "Split-eval", "*")))
    if not files:
        raise FileNotFoundError(f"{examples_uri}/Split-eval: no example files")
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").take(limit)
    return [record.numpy() for record in dataset]


def _value(example, key: str):
    feature = example.features.feature.get(key)
    if feature is None:
        return None
    for kind in ("float_list", "int64_list", "bytes_list"):
        values = getattr(feature, kind).value
        if values:
            return values[0]
    return None


def conveyor_labels(serialized: list[bytes], label: str) -> np.ndarray:
    import tensorflow as tf

    return np.array([int(_value(tf.train.Example.FromString(s), label) or 0)
                     for s in serialized])


def stock_labels(serialized: list[bytes]) -> np.ndarray:
    """The stock preprocessing_fn's label: tips > 20% of fare, 0 when fare is missing."""
    import tensorflow as tf

    from pipeline.dataset.bundled_data import big_tipper

    labels = []
    for s in serialized:
        example = tf.train.Example.FromString(s)
        tips, fare = _value(example, "tips"), _value(example, "fare")
        labels.append(big_tipper(str(tips) if tips is not None else "",
                                 str(fare) if fare is not None else ""))
    return np.array(labels)


def quality(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    scores = np.asarray(probabilities, np.float64).reshape(-1)
    accuracy = float(np.mean((scores > 0.5).astype(int) == labels))
    auc = float(roc_auc_score(labels, scores)) if len(set(labels.tolist())) == 2 else float("nan")
    return accuracy, auc


def per_example_us(predict, inputs, batch_size: int, seconds: float = LATENCY_SECONDS) -> float:
    """Median over repeated calls of one batch, divided by the batch size, after a warm-up."""
    batch = inputs[:batch_size]
    if len(batch) < batch_size:
        reps = -(-batch_size // max(len(batch), 1))
        batch = (batch * reps)[:batch_size] if isinstance(batch, list) else np.concatenate(
            [batch] * reps)[:batch_size]
    predict(batch)
    times, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        started = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - started)
    return float(np.median(times)) / batch_size * 1e6


class FixedCore:
    """The int8 core with its input tensor sized once per batch size: invoke cost only."""

    def __init__(self, content: bytes):
        import tensorflow as tf

        self._make = lambda: tf.lite.Interpreter(model_content=content)
        self._by_size = {}

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        size = len(vectors)
        if size not in self._by_size:
            interpreter = self._make()
            detail = interpreter.get_input_details()[0]
            interpreter.resize_tensor_input(detail["index"], [size, vectors.shape[1]])
            interpreter.allocate_tensors()
            self._by_size[size] = (interpreter, interpreter.get_input_details()[0],
                                   interpreter.get_output_details()[0])
        interpreter, source, sink = self._by_size[size]
        scale, zero = source["quantization"]
        interpreter.set_tensor(source["index"], np.clip(
            np.round(vectors / scale + zero), -128, 127).astype(np.int8))
        interpreter.invoke()
        out_scale, out_zero = sink["quantization"]
        return (interpreter.get_tensor(sink["index"]).astype(np.float32) - out_zero) * out_scale


def core_parameter_bytes(saved_model_dir: Path) -> int:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model_dir))  # see components/trainer.serving_module
    return int(sum(int(np.prod(v.shape)) * v.dtype.size for v in loaded.trainable))


def measure_conveyor(version_dir: Path, examples_uri: str, label: str,
                     note: str = "") -> tuple[list[ModelFigures], dict]:
    """SavedModel, TFLite core and TFLite end to end of one Conveyor model version."""
    from components.layout import SIDECAR_FILE, TFLITE_FILE, TFLITE_SUBDIR
    from pipeline.serving.predictors import SavedModelPredictor, TFLitePredictor

    serialized = eval_examples(examples_uri)
    labels = conveyor_labels(serialized, label)
    saved = SavedModelPredictor(version_dir)
    lite = TFLitePredictor(version_dir)
    tflite_file = Path(version_dir) / TFLITE_SUBDIR / TFLITE_FILE
    core = FixedCore(tflite_file.read_bytes())
    vectors = lite.encode(serialized[:max(BATCH_SIZES)])

    figures = []
    saved_probabilities = saved.predict(serialized)
    accuracy, auc = quality(saved_probabilities, labels)
    saved_size = dir_bytes(version_dir) - dir_bytes(Path(version_dir) / "tflite")
    figures.append(ModelFigures("Conveyor SavedModel", saved_size, len(labels), accuracy, auc, {
        b: per_example_us(saved.predict, serialized, b) for b in BATCH_SIZES}, note))
    lite_probabilities = lite.predict(serialized)
    accuracy, auc = quality(lite_probabilities, labels)
    figures.append(ModelFigures("Conveyor int8 TFLite core", tflite_file.stat().st_size,
                                len(labels), accuracy, auc, {
                                    b: per_example_us(core, vectors, b) for b in BATCH_SIZES},
                                "core only, on encoded vectors"))
    figures.append(ModelFigures("Conveyor int8 TFLite end to end",
                                dir_bytes(Path(version_dir) / "tflite"), len(labels), accuracy,
                                auc, {b: per_example_us(lite.predict, serialized, b)
                                      for b in BATCH_SIZES},
                                "parse + transform + encode + core; size incl. transform"))
    sidecar = json.loads((Path(version_dir) / TFLITE_SUBDIR / SIDECAR_FILE).read_text())
    sizes = {"float_core_tflite_bytes": sidecar.get("size", {}).get("float_tflite_bytes"),
             "float_core_param_bytes": core_parameter_bytes(version_dir),
             "int8_tflite_bytes": tflite_file.stat().st_size,
             "savedmodel_bytes": saved_size}
    return figures, sizes


def measure_stock(saved_model_dir: Path, examples_uri: str, note: str = "") -> ModelFigures:
    from pipeline.serving.predictors import SavedModelPredictor

    serialized = eval_examples(examples_uri)
    labels = stock_labels(serialized)
    saved = SavedModelPredictor(saved_model_dir)
    accuracy, auc = quality(saved.predict(serialized), labels)
    return ModelFigures("stock SavedModel", dir_bytes(saved_model_dir), len(labels), accuracy,
                        auc, {b: per_example_us(saved.predict, serialized, b)
                              for b in BATCH_SIZES}, note)
