"""Train/serving skew on the bundled serving sample (data/taxi_serving).

The sample is span 3's requests (the data `make run` trains on) sent by a client that
reports trip durations in minutes; compared with span 3 in the schema's SERVING
environment, trip_seconds must be flagged and nothing else.
"""

from __future__ import annotations

import pytest
import tensorflow_data_validation as tfdv

from components import drift
from pipeline import config as config_lib
from pipeline.drift import samples as drift_samples
from tests.conftest import TAXI_CONFIG, TAXI_SCHEMA


def test_bundled_serving_sample_is_what_its_generator_makes(tmp_path):
    regenerated = drift_samples.serving_requests(drift_samples.SERVING_SOURCE,
                                                 tmp_path / "requests.csv")
    assert regenerated.read_bytes() == drift_samples.SERVING_SAMPLE.read_bytes()
    header, _ = drift_samples.read_rows(drift_samples.SERVING_SAMPLE)
    assert drift_samples.LABEL not in header


@pytest.fixture(scope="module")
def skew_report() -> drift.Report:
    config = config_lib.load(TAXI_CONFIG)
    kinds = config.drift_features()
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    training = drift.compute_statistics(str(drift_samples.SERVING_SOURCE), drift.CSV, schema,
                                        kinds)
    serving = drift.compute_statistics(*drift.data_files(str(drift_samples.SERVING_SAMPLE.parent)),
                                       schema, kinds)
    return drift.compare(drift.SKEW, training, serving, schema, kinds,
                         drift.Thresholds.from_dict(config.drift.thresholds_dict()))


def test_skew_flags_the_skewed_feature_and_only_it(skew_report):
    assert [r.feature for r in skew_report.over] == [drift_samples.SKEWED_FEATURE]
    skewed = skew_report.over[0]
    assert skewed.metric == drift.JENSEN_SHANNON and skewed.value > 0.5
    others = [r for r in skew_report.features if r.feature != drift_samples.SKEWED_FEATURE]
    assert others and all(r.verdict == drift.OK and r.value < r.threshold for r in others)


def test_every_feature_is_compared_and_the_missing_label_is_not_a_finding(skew_report):
    config = config_lib.load(TAXI_CONFIG)
    assert {r.feature for r in skew_report.features} == set(config.features.names)
    assert not [r for r in skew_report.features if r.verdict == drift.MISSING]


def test_schema_skew_comparator_sets_the_threshold(tmp_path, skew_report):
    config = config_lib.load(TAXI_CONFIG)
    kinds = config.drift_features()
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    tfdv.get_feature(schema, "trip_seconds").skew_comparator.jensen_shannon_divergence \
        .threshold = 1.0
    report = drift.compare(drift.SKEW, skew_report.baseline_statistics,
                           skew_report.current_statistics, schema, kinds, drift.Thresholds())
    seconds = next(r for r in report.features if r.feature == "trip_seconds")
    assert (seconds.threshold, seconds.threshold_source, seconds.verdict) == (1.0, "schema", "ok")
    assert not report.over
