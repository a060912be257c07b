"""preprocessing_fn through TFT's real Beam implementation, on a tiny dataset."""

import functools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from models.features import (BUCKETIZED, CATEGORICAL, NUMERIC, Z_SCORE_CLIP, Feature,
                                 FeatureSet, Label)
from models.preprocessing import preprocessing_fn

FEATURES = FeatureSet(
    label=Label("label", 2),
    features=(Feature("fare", NUMERIC), Feature("company", CATEGORICAL, top_k=2, oov_buckets=1),
              Feature("hour", CATEGORICAL, top_k=10, oov_buckets=1),
              Feature("lat", BUCKETIZED, buckets=2)))

SPEC = {
    "fare": tf.io.VarLenFeature(tf.float32),
    "company": tf.io.VarLenFeature(tf.string),
    "hour": tf.io.FixedLenFeature([], tf.int64),
    "lat": tf.io.VarLenFeature(tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
}

ROWS = [
    {"fare": [1.0], "company": [b"a"], "hour": 1, "lat": [10.0], "label": 0},
    {"fare": [3.0], "company": [b"a"], "hour": 2, "lat": [20.0], "label": 1},
    {"fare": [5.0], "company": [b"b"], "hour": 1, "lat": [30.0], "label": 1},
    {"fare": [], "company": [b"c"], "hour": 3, "lat": [], "label": 0},
    {"fare": [1000.0], "company": [], "hour": 1, "lat": [40.0], "label": 0},
]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(SPEC))
    fn = functools.partial(preprocessing_fn, custom_config={"features": FEATURES.to_dict()})
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (data, _), _ = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    return data


def column(rows, name):
    return np.array([row[name] for row in rows])


def test_every_output_is_dense_one_value_per_row(transformed):
    assert len(transformed) == len(ROWS)
    assert set(transformed[0]) == {"fare_xf", "company_xf", "hour_xf", "lat_xf", "label_xf"}
    for row in transformed:
        for value in row.values():
            assert np.ndim(value) == 0


def test_numeric_is_z_scored_over_present_values_missing_is_the_mean_and_outliers_clipped(
        transformed):
    fare = column(transformed, "fare_xf")
    present = np.array([1.0, 3.0, 5.0, 1000.0])
    expected = (present - present.mean()) / present.std()
    np.testing.assert_allclose(fare[[0, 1, 2]], expected[:3], rtol=1e-4)
    assert fare[3] == 0.0  # missing: the mean
    assert fare[4] == pytest.approx(min(expected[3], Z_SCORE_CLIP))
    assert np.all(np.abs(fare) <= Z_SCORE_CLIP)


def test_vocabulary_keeps_top_k_and_sends_the_rest_to_oov(transformed):
    company = column(transformed, "company_xf")
    # "a" is the most frequent (id 0); top_k=2 keeps one more; the rest share the OOV id 2.
    assert company[0] == company[1] == 0
    assert set(company[[2, 3, 4]]) <= {1, 2}
    assert company.max() == 2  # top_k + oov_buckets - 1
    hour = column(transformed, "hour_xf")
    assert hour[0] == hour[2] == hour[4]  # integer categories get a vocabulary too
    assert len(set(hour)) == 3


def test_bucketized_has_a_bucket_for_missing_values(transformed):
    lat = column(transformed, "lat_xf")
    assert lat[3] == 2  # buckets=2: ids 0-1 for values, 2 for missing
    assert set(lat[[0, 1, 2, 4]]) <= {0, 1}
    assert lat[0] <= lat[1] <= lat[2] <= lat[4]


def test_label_passes_through_as_int(transformed):
    assert list(column(transformed, "label_xf")) == [r["label"] for r in ROWS]
