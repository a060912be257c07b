"""The end-to-end file's preprocessing gives the ids tf.Transform gives: bucket boundaries to
the last float32 bit, out-of-vocabulary keys (the missing value too) in their hash buckets."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from models import tflite_e2e
from models.features import BUCKETIZED, CATEGORICAL, NUMERIC, Feature, FeatureSet, Label
from models.preprocessing import preprocessing_fn
from models.transform_probe import Probe

FEATURES = FeatureSet(
    label=Label("label", 2),
    features=(Feature("fare", NUMERIC),
              Feature("company", CATEGORICAL, top_k=3, oov_buckets=4),
              Feature("hour", CATEGORICAL, top_k=5, oov_buckets=3),
              Feature("lat", BUCKETIZED, buckets=4)))
SPEC = {
    "fare": tf.io.VarLenFeature(tf.float32),
    "company": tf.io.VarLenFeature(tf.string),
    "hour": tf.io.VarLenFeature(tf.int64),
    "lat": tf.io.VarLenFeature(tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
}
COMPANIES = [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]


def rows(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        out.append({
            "fare": [] if i % 11 == 0 else [float(rng.gamma(2.0, 5.0))],
            "company": [] if i % 5 == 0 else [COMPANIES[min(int(rng.exponential(1.5)), 6)]],
            "hour": [] if i % 13 == 0 else [int(rng.integers(0, 12))],
            "lat": [] if i % 7 == 0 else [float(np.float32(rng.uniform(41.6, 42.1)))],
            "label": int(i % 2)})
    return out


def serialized(row: dict) -> bytes:
    example = tf.train.Example()
    for name, values in row.items():
        feature = example.features.feature[name]
        values = values if isinstance(values, list) else [values]
        if name == "company":
            feature.bytes_list.value.extend(values)
        elif name in ("hour", "label"):
            feature.int64_list.value.extend(values)
        else:
            feature.float_list.value.extend(values)
    return example.SerializeToString()


def parsed(batch_rows: list[dict]) -> dict:
    return tf.io.parse_example(tf.constant([serialized(r) for r in batch_rows]), SPEC)


@pytest.fixture(scope="module")
def transform(tmp_path_factory):
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(SPEC))
    fn = functools.partial(preprocessing_fn, custom_config={"features": FEATURES.to_dict()})
    output = str(tmp_path_factory.mktemp("transform_output"))
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        transform_fn = (rows(400, 0), metadata) | tft_beam.AnalyzeDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(output)
    return tft.TFTransformOutput(output)


@pytest.fixture(scope="module")
def specs(transform):
    layer = transform.transform_features_layer()
    batch = parsed(rows(60, 1))  # the Trainer's sample: few rows, some values never in it
    columns = tflite_e2e.dense_columns(FEATURES, batch)
    transformed = {k: v.numpy() for k, v in layer(batch).items()}
    return tflite_e2e.preprocessing_spec(FEATURES, transform, columns, transformed,
                                         Probe(layer, batch))


def ids_both_ways(transform, specs, batch_rows: list[dict]) -> tuple[dict, dict]:
    """Per feature, the ids the transform gives and the ids the end-to-end encoding gives."""
    batch = parsed(batch_rows)
    expected = {k: v.numpy() for k, v in transform.transform_features_layer()(batch).items()}
    module = tflite_e2e.EndToEnd(specs, tf.keras.Sequential([tf.keras.Input((1,))]))
    columns = tflite_e2e.dense_columns(FEATURES, batch)
    vector = tflite_e2e.encode(specs, module.tables,
                               [tf.constant(columns[s["name"]]) for s in specs]).numpy()
    got, offset = {}, 0
    for spec in specs:
        part = vector[:, offset:offset + spec["width"]]
        got[spec["name"]] = part[:, 0] if spec["kind"] == NUMERIC else part.argmax(axis=1)
        offset += spec["width"]
    return ({f.name: expected[f.transformed].reshape(-1) for f in FEATURES.features}, got)


def test_every_bucket_boundary_is_the_transform_s_to_the_last_bit(transform, specs):
    boundaries = np.array(next(s for s in specs if s["name"] == "lat")["boundaries"], np.float32)
    assert len(boundaries) == 3
    on_and_beside = np.concatenate([boundaries, np.nextafter(boundaries, -np.inf),
                                    np.nextafter(boundaries, np.inf)])
    values = np.concatenate([on_and_beside, np.random.default_rng(2).uniform(41.5, 42.2, 500)])
    expected, got = ids_both_ways(transform, specs, [
        {"lat": [float(v)], "label": 0} for v in values.astype(np.float32)])
    np.testing.assert_array_equal(got["lat"], expected["lat"])


def test_out_of_vocabulary_keys_take_the_transform_s_hash_bucket(transform, specs):
    company = next(s for s in specs if s["name"] == "company")
    assert "" in company["oov_ids"]  # the missing value: the vocabulary drops the empty string
    hour = next(s for s in specs if s["name"] == "hour")
    assert hour["id_range"]["first"] <= -1  # the missing integer
    sampled = [k.encode() for k in [*company["vocabulary"], *company["oov_ids"]] if k]
    assert len(sampled) > len(company["vocabulary"])  # some sampled values are out of it
    batch_rows = [{"company": [c], "hour": [h], "label": 0}
                  for c in sampled for h in (-5, 0, 7, 11, 14, 20)]  # 14, 20: never seen
    batch_rows += [{"label": 0}]  # everything missing
    expected, got = ids_both_ways(transform, specs, batch_rows)
    for name in ("company", "hour", "fare", "lat"):
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    assert max(expected["company"]) > company["oov_id"], "no row met an OOV bucket but the first"


def test_a_string_never_seen_goes_to_the_first_oov_bucket(transform, specs):
    company = next(s for s in specs if s["name"] == "company")
    _, got = ids_both_ways(transform, specs, [{"company": [b"never seen"], "label": 0}])
    assert got["company"][0] == company["oov_id"]
