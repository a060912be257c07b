"""What the Evaluator's extra extractor keeps (the whole path runs in pipeline_e2e)."""

import numpy as np
import tensorflow_model_analysis as tfma

from models import eval_extractors
from pipeline import config as config_lib
from pipeline import factory
from tests.conftest import TAXI_CONFIG


def test_the_taxi_config_slices_by_trip_start_hour_only():
    eval_config = factory.eval_config(config_lib.load(TAXI_CONFIG))
    assert eval_extractors.slicing_columns(eval_config) == {"trip_start_hour"}


def test_cross_slices_and_value_slices_count_as_slicing_columns():
    eval_config = tfma.EvalConfig(
        slicing_specs=[tfma.SlicingSpec(feature_values={"company": "Flash"})],
        cross_slicing_specs=[tfma.CrossSlicingSpec(
            baseline_spec=tfma.SlicingSpec(feature_keys=["trip_start_day"]),
            slicing_specs=[tfma.SlicingSpec(feature_keys=["trip_start_hour"])])])
    assert eval_extractors.slicing_columns(eval_config) == {
        "company", "trip_start_day", "trip_start_hour"}


def test_a_batch_keeps_labels_predictions_and_slicing_columns_only():
    batch = {
        tfma.constants.INPUT_KEY: [b"serialized-1", b"serialized-2"],
        tfma.constants.FEATURES_KEY: {"trip_start_hour": np.array([3, 4]),
                                      "fare": np.array([1.5, 2.5])},
        tfma.constants.LABELS_KEY: np.array([0, 1]),
        tfma.constants.PREDICTIONS_KEY: np.array([0.2, 0.9]),
    }
    kept = eval_extractors.keep_features(batch, frozenset({"trip_start_hour"}))
    assert set(kept) == {tfma.constants.FEATURES_KEY, tfma.constants.LABELS_KEY,
                         tfma.constants.PREDICTIONS_KEY}
    assert list(kept[tfma.constants.FEATURES_KEY]) == ["trip_start_hour"]
    assert kept[tfma.constants.LABELS_KEY] is batch[tfma.constants.LABELS_KEY]
    assert "fare" in batch[tfma.constants.FEATURES_KEY]  # the input batch is not changed
