"""The two ways `serve` runs a pushed version on decoded raw rows.

`savedmodel` serializes the rows to tf.Examples and calls the serving signature (the
transform runs inside it); `tflite` feeds the end-to-end int8 file, one tensor per raw
feature, and loads no SavedModel. Both take their raw features from the version's own
transform metadata (`tflite/transform/`, shipped with every push), so the API a client
sees is the same whichever backend answers.
"""

from __future__ import annotations

import json
import os
from typing import Mapping

import numpy as np
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components.drift import SERVING_ENVIRONMENT
from components.layout import SERVING_SIGNATURE, SIDECAR_FILE, TFLITE_SUBDIR, TFT_RAW_SCHEMA
from pipeline.serving.server.decoding import FLOAT, INT, STRING, Input

_DTYPES = {schema_pb2.FLOAT: FLOAT, schema_pb2.INT: INT, schema_pb2.BYTES: STRING}
# The end-to-end file's inputs for a missing value (models/tflite_e2e.py documents them).
_MISSING = {"float32": np.nan, "int64": -1, "string": b""}


def _sidecar(version_dir: str) -> dict:
    with tf.io.gfile.GFile(os.path.join(version_dir, TFLITE_SUBDIR, SIDECAR_FILE)) as handle:
        return json.load(handle)


def raw_inputs(version_dir: str, label: str) -> dict[str, Input]:
    """The raw features a version takes: its transform's raw schema (the curated schema it
    was trained with) in the SERVING environment, without the label.

    The signature parses every feature as optional, so the schema decides: a feature
    whose presence is `min_fraction: 1` (always present in the data) is required.
    """
    from google.protobuf import text_format

    transform = _sidecar(version_dir)["transform"]["tft_output"]
    path = os.path.join(version_dir, TFLITE_SUBDIR, transform, TFT_RAW_SCHEMA)
    with tf.io.gfile.GFile(path) as handle:
        schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    return {f.name: Input(f.name, _DTYPES[f.type], required=f.presence.min_fraction >= 1.0)
            for f in sorted(schema.feature, key=lambda f: f.name)
            if f.name != label and SERVING_ENVIRONMENT not in f.not_in_environment}


class SavedModelBackend:
    name = "savedmodel"

    def __init__(self, version_dir: str, label: str):
        self.inputs = raw_inputs(version_dir, label)
        self._signature = tf.saved_model.load(version_dir).signatures[SERVING_SIGNATURE]

    def predict(self, rows: list[dict]) -> np.ndarray:
        serialized = [to_example(row, self.inputs) for row in rows]
        return self._signature(examples=tf.constant(serialized))["outputs"].numpy()


def to_example(row: dict, inputs: Mapping[str, Input]) -> bytes:
    """One decoded row as the serialized tf.Example the serving signature parses."""
    example = tf.train.Example()
    features = example.features.feature
    for name, value in row.items():
        dtype = inputs[name].dtype
        if dtype == FLOAT:
            features[name].float_list.value.append(value)
        elif dtype == INT:
            features[name].int64_list.value.append(value)
        else:
            features[name].bytes_list.value.append(value.encode("utf-8"))
    return example.SerializeToString()


def example_row(serialized: bytes) -> dict:
    """A serialized tf.Example (TF Serving's request for the SavedModel) as raw values,
    checked by the decoding like any row: an empty feature is a missing value."""
    from google.protobuf.message import DecodeError

    try:
        example = tf.train.Example.FromString(serialized)
    except DecodeError as error:
        raise ValueError(str(error)) from None
    row = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        values = list(getattr(feature, kind).value) if kind else []
        if kind == "bytes_list":
            values = [v.decode("utf-8") for v in values]  # UnicodeDecodeError: a ValueError
        row[name] = values[0] if len(values) == 1 else (values or None)
    return row


def _interpreter(content: bytes):
    """LiteRT's interpreter when it is installed, TensorFlow's otherwise (the same kernels)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    return Interpreter(model_content=content)


class TFLiteBackend:
    """One interpreter per batch size, a power of two (rows padded with missing values):
    resizing an interpreter's inputs re-plans its kernels (XNNPACK's), which at varying
    batch sizes cost a call hundreds of ms. Not thread-safe: one thread calls it
    (batching.py), and the registry's warm-up before the version is served."""

    name = "tflite"
    MAX_ROWS = 1024  # the largest interpreter; bigger batches run in slices of this

    def __init__(self, version_dir: str, label: str):
        self.inputs = raw_inputs(version_dir, label)
        e2e = _sidecar(version_dir)["end_to_end"]
        path = os.path.join(version_dir, TFLITE_SUBDIR, e2e["file"])
        with tf.io.gfile.GFile(path, "rb") as handle:
            self._content = handle.read()
        self._signature, self._output = e2e["signature"], e2e["output"]
        self._columns = [(spec["name"], spec["dtype"]) for spec in e2e["inputs"]]
        # All made at load: a broken file fails the load, not a request.
        self._runners = {1 << k: _interpreter(self._content).get_signature_runner(
            self._signature) for k in range(self.MAX_ROWS.bit_length())}

    def predict(self, rows: list[dict]) -> np.ndarray:
        if len(rows) > self.MAX_ROWS:
            return np.concatenate([self.predict(rows[i:i + self.MAX_ROWS])
                                   for i in range(0, len(rows), self.MAX_ROWS)])
        size = 1 << (len(rows) - 1).bit_length()
        data = {}
        for name, dtype in self._columns:
            missing = _MISSING[dtype]
            if dtype == "string":
                values = [row[name].encode("utf-8") if name in row else missing for row in rows]
                data[name] = np.array(values + [missing] * (size - len(rows)), dtype=object)
            else:
                values = [row.get(name, missing) for row in rows]
                data[name] = np.array(values + [missing] * (size - len(rows)), dtype=dtype)
        return self._runners[size](**data)[self._output][:len(rows)]


def load(backend: str, version_dir: str, label: str):
    return (TFLiteBackend if backend == "tflite" else SavedModelBackend)(version_dir, label)


def warm_up_row(inputs: Mapping[str, Input]) -> dict:
    """A row with every required feature at a neutral value: the first prediction builds
    the graph's (or interpreter's) state, so the first client does not wait for it."""
    zero = {FLOAT: 0.0, INT: 0, STRING: ""}
    return {spec.name: zero[spec.dtype] for spec in inputs.values() if spec.required}
