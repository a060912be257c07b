"""End-to-end int8 TFLite model: raw features in, class probabilities out, builtins only.

The transform graph itself does not convert (example parsing, hashing for OOV buckets),
so its analyzed statistics are read back as plain data (`preprocessing_spec`) and the
same preprocessing is rebuilt from TFLite builtins: z-scores from the mean and deviation,
vocabulary lookups in a static hash table, bucket ids by comparing with the boundaries.
Boundaries and the ids of out-of-vocabulary keys come from the transform layer itself
(`transform_probe`): the OOV hash has no builtin, so the keys the model will meet (the
missing value, sampled values, every integer near the vocabulary) carry their ids.
The data goes into the sidecar too, so a client that feeds the int8 core directly
needs no TensorFlow artifact; the core file is cut out of this file (`tflite_cut`), so
the two compute the same int8 numbers.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

from models.features import BUCKETIZED, CATEGORICAL, NUMERIC, Z_SCORE_CLIP, FeatureSet
from models.model import hold_variables
from models.preprocessing import vocabulary_name
from models.transform_probe import Probe

# The preprocessing's operators; the core uses none of them, so they stay in float32.
FLOAT_OPS = ["SUB", "MUL", "DIV", "MINIMUM", "MAXIMUM", "SELECT_V2", "GREATER_EQUAL",
             "NOT_EQUAL", "EQUAL", "SUM", "CAST", "REDUCE_MAX", "ZEROS_LIKE", "ONES_LIKE",
             "GREATER", "EXPAND_DIMS", "RESHAPE", "FILL", "GATHER", "LESS_EQUAL",
             "LOGICAL_AND"]
OUTPUT = "probabilities"
SIGNATURE = "serving_default"
MISSING_INT = -1  # what the transform substitutes for a missing integer category
# Integer categories get their transform ids for every value in a range around the
# vocabulary, at most this many: one int32 per value in the file and the sidecar.
ID_RANGE_MAX = 4096


def preprocessing_spec(feature_set: FeatureSet, transform_output, raw: dict,
                       transformed: dict, probe: Probe) -> list[dict]:
    """Per feature, the transform's analyzed values, read back from (raw, transformed) rows.

    `raw` holds dense numpy columns (NaN / "" / -1 where missing), `transformed` the
    transform layer's outputs for the same rows; `probe` asks the layer for other values.
    """
    specs = []
    for feature in feature_set.features:
        values, out = raw[feature.name], np.asarray(transformed[feature.transformed]).reshape(-1)
        spec = {"name": feature.name, "kind": feature.kind, "width": None}
        if feature.kind == NUMERIC:
            spec.update(dtype="float32", missing="NaN or absent: z-score 0 (the mean)",
                        clip=Z_SCORE_CLIP, **_z_score(feature.name, values, out))
            spec["width"] = 1
        elif feature.kind == BUCKETIZED:
            spec.update(dtype="float32",
                        boundaries=probe.boundaries(feature.name, feature.transformed, values),
                        missing_id=feature.buckets, width=feature.buckets + 1)
        elif feature.kind == CATEGORICAL:
            spec.update(_vocabulary(feature, transform_output, values.dtype))
            spec.update(_out_of_vocabulary(feature, spec, values, probe))
        specs.append(spec)
    return specs


def _z_score(name: str, values: np.ndarray, out: np.ndarray) -> dict:
    """Mean and deviation from the unclipped z-scores: z = (x - mean) / std is a line."""
    keep = ~np.isnan(values) & (np.abs(out) < Z_SCORE_CLIP)
    x, z = values[keep].astype(np.float64), out[keep].astype(np.float64)
    if len(np.unique(x)) < 2:
        raise ValueError(f"feature {name!r}: fewer than two distinct values to read its z-score")
    slope, intercept = np.polyfit(x, z, 1)
    std = 1.0 / slope
    return {"mean": float(np.float32(-intercept * std)), "std": float(np.float32(std))}


def _vocabulary(feature, transform_output, dtype) -> dict:
    path = transform_output.vocabulary_file_by_name(vocabulary_name(feature))
    with tf.io.gfile.GFile(path, "rb") as handle:
        tokens = [line.rstrip(b"\n").decode("utf-8") for line in handle]
    integer = np.issubdtype(dtype, np.integer)
    return {"dtype": "int64" if integer else "string",
            "vocabulary": [int(t) for t in tokens] if integer else tokens,
            "oov_id": len(tokens), "width": len(tokens) + feature.oov_buckets,
            "missing": str(MISSING_INT) if integer else "empty string",
            "oov_rule": ("ids are positions in the vocabulary list; a value not in it takes "
                         "its id from id_range (integers) or oov_ids (strings) when listed "
                         "there, else oov_id (the first OOV bucket)")}


def _out_of_vocabulary(feature, spec: dict, sample: np.ndarray, probe: Probe) -> dict:
    """The transform's ids of the keys outside the vocabulary that the model will meet."""
    if spec["dtype"] == "int64":
        first, count = _id_range([*spec["vocabulary"], *sample.tolist(), MISSING_INT])
        keys = list(range(first, first + count))
        return {"id_range": {"first": first, "ids": probe.ids(feature.name, feature.transformed,
                                                             keys)}}
    known = set(spec["vocabulary"])
    keys = sorted({""} | {v.decode("utf-8") for v in sample} - known)
    ids = probe.ids(feature.name, feature.transformed, [k.encode("utf-8") for k in keys])
    return {"oov_ids": dict(zip(keys, ids))}


def _id_range(known: list[int]) -> tuple[int, int]:
    """(first, count): the known integers' span with as wide a margin on each side again,
    within ID_RANGE_MAX values."""
    low, high = min(known), max(known)
    span = high - low + 1
    margin = max(0, min(span, (ID_RANGE_MAX - span) // 2))
    return low - margin, min(span + 2 * margin, ID_RANGE_MAX)


def encode(specs: list[dict], tables: dict, tensors: list[tf.Tensor]) -> tf.Tensor:
    """The core's float input vector from raw feature tensors, in layout order."""
    parts = []
    for spec, tensor in zip(specs, tensors):
        if spec["kind"] == NUMERIC:
            z = (tensor - spec["mean"]) / spec["std"]
            z = tf.where(tf.not_equal(tensor, tensor), tf.zeros_like(z), z)  # NaN: the mean
            parts.append(tf.expand_dims(tf.clip_by_value(z, -spec["clip"], spec["clip"]), 1))
            continue
        if spec["kind"] == BUCKETIZED:
            bounds = tf.constant(spec["boundaries"], tf.float32)
            ids = tf.reduce_sum(tf.cast(tf.expand_dims(tensor, 1) >= bounds, tf.int32), axis=1)
            ids = tf.where(tf.not_equal(tensor, tensor), spec["missing_id"], ids)
        elif spec["dtype"] == "string":
            ids = tf.cast(tables[spec["name"]].lookup(tensor), tf.int32)
        else:
            ids = _integer_ids(spec, tensor)
        # A comparison, not tf.one_hot: the converter's int8 ONE_HOT ignores the zero point
        # of the concatenated vector, which turns every off value into a wrong number.
        hot = tf.equal(tf.expand_dims(ids, 1), tf.range(spec["width"], dtype=ids.dtype)[tf.newaxis, :])
        parts.append(tf.where(hot, tf.ones_like(hot, tf.float32), tf.zeros_like(hot, tf.float32)))
    return tf.concat(parts, axis=1)


def _integer_ids(spec: dict, tensor: tf.Tensor) -> tf.Tensor:
    """From the id range where the key lies in it (a comparison per bound, no arithmetic
    that could overflow), else from the vocabulary when some of it lies outside the range
    (a span over ID_RANGE_MAX), else oov_id."""
    first, ids = spec["id_range"]["first"], spec["id_range"]["ids"]
    last = first + len(ids) - 1
    inside = tf.logical_and(tensor >= first, tensor <= last)
    index = tf.clip_by_value(tensor, first, last) - first
    covered = all(first <= key <= last for key in spec["vocabulary"])
    outside = tf.fill(tf.shape(tensor), spec["oov_id"]) if covered else \
        _integer_lookup(spec, tensor)
    return tf.where(inside, tf.gather(tf.constant(ids, tf.int32), index), outside)


def _integer_lookup(spec: dict, tensor: tf.Tensor) -> tf.Tensor:
    """Vocabulary ids of integer keys by comparison: TFLite's hash table has no int64 -> int64
    kind, and the vocabularies are small enough for one row of comparisons per example."""
    keys = tf.constant(spec["vocabulary"], tf.int64)
    match = tf.cast(tf.equal(tf.expand_dims(tensor, 1), keys[tf.newaxis, :]), tf.int32)
    ids = tf.reduce_sum(match * tf.range(len(spec["vocabulary"]), dtype=tf.int32), axis=1)
    return tf.where(tf.reduce_max(match, axis=1) > 0, ids, spec["oov_id"])


def input_dtype(spec: dict):
    return {"float32": tf.float32, "int64": tf.int64, "string": tf.string}[spec["dtype"]]


class EndToEnd(tf.Module):
    """Raw feature tensors -> encoded vector -> core -> probabilities (holding the core's
    variables, not the core: see `models.model.hold_variables`)."""

    def __init__(self, specs: list[dict], core: tf.keras.Model):
        super().__init__()
        self.specs = specs
        hold_variables(core, self)
        self.tables = {}
        for spec in specs:
            if spec["kind"] == CATEGORICAL and spec["dtype"] == "string":
                oov = spec["oov_ids"]
                keys = tf.constant([*spec["vocabulary"], *oov], input_dtype(spec))
                initializer = tf.lookup.KeyValueTensorInitializer(
                    keys, tf.constant([*range(len(spec["vocabulary"])), *oov.values()],
                                      tf.int64))
                self.tables[spec["name"]] = tf.lookup.StaticHashTable(
                    initializer, default_value=spec["oov_id"])
        signature = [tf.TensorSpec([None], input_dtype(s), name=s["name"]) for s in specs]
        self.serve = tf.function(
            lambda *t: {OUTPUT: core(encode(self.specs, self.tables, t), training=False)},
            input_signature=signature)


def convert(module: EndToEnd, raw: dict) -> bytes:
    """int8 kernels wherever they exist, float builtins for the lookups; float in and out."""
    rows = len(next(iter(raw.values())))

    def samples():
        for i in range(rows):
            yield {s["name"]: _calibration_input(raw[s["name"]][i:i + 1], s)
                   for s in module.specs}

    with tempfile.TemporaryDirectory() as folder:
        saved = os.path.join(folder, "e2e")
        tf.saved_model.save(module, saved, signatures={SIGNATURE: module.serve})
        converter = tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=[SIGNATURE])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = samples
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                               tf.lite.OpsSet.TFLITE_BUILTINS]
        converter.exclude_conversion_metadata = True
        # Calibrate, then quantize with the preprocessing's ops left in float: quantized,
        # the raw inputs (a latitude, a NaN) lose the precision that the comparisons and
        # z-scores need, and the core would not start from the vector the client computes.
        # This is the converter's selective quantization (what QuantizationDebugger does).
        converter._experimental_calibrate_only = True  # pylint: disable=protected-access
        calibrated = converter.convert()
    from tensorflow.lite.python import convert as lite_convert

    return lite_convert.mlir_quantize(calibrated, fully_quantize=False,
                                      denylisted_ops=FLOAT_OPS)


def _calibration_input(values: np.ndarray, spec: dict) -> np.ndarray:
    """Strings as a fixed-width bytes array: fed an object array of bytes, the calibrator's
    lookups matched no vocabulary key, so the core's activation ranges were measured on
    all-OOV inputs and the int8 model capped its probabilities where those inputs end."""
    return values.astype(np.bytes_) if spec["dtype"] == "string" else np.asarray(values)


def write(path: str, content: bytes) -> None:
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(content)


def dense_columns(feature_set: FeatureSet, batch: dict) -> dict:
    """Raw features of a parsed batch as one numpy column each, missing as the inputs take it:
    NaN for a number, "" for a string category, -1 for an integer one."""
    columns = {}
    for feature in feature_set.features:
        values = batch[feature.name]
        integer = values.dtype.is_integer and feature.kind == CATEGORICAL
        if feature.kind == CATEGORICAL:
            default = MISSING_INT if integer else b""
        else:
            default, values = np.nan, tf.cast(values, tf.float32) if not isinstance(
                values, tf.SparseTensor) else tf.SparseTensor(
                    values.indices, tf.cast(values.values, tf.float32), values.dense_shape)
        if isinstance(values, tf.SparseTensor):
            values = tf.sparse.to_dense(tf.SparseTensor(
                values.indices, values.values, [values.dense_shape[0], 1]), default)
        columns[feature.name] = np.asarray(values).reshape(-1)
    return columns
