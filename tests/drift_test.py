"""Drift measured by TFDV's comparators on a span built from the bundled data.

The drifted span is the same rows as its baseline with fares scaled up and cash payments
re-weighted to card (pipeline/drift_samples.py), so every other feature is unchanged:
the two drifted features must be flagged and no other one.
"""

from __future__ import annotations

import json
import os

import pytest
import tensorflow_data_validation as tfdv
from tfx.types import standard_artifacts

from components import drift, layout
from components.drift_check import executor as drift_check
from components.drift_check.component import DriftReport
from components.validation_gate import executor as gate
from pipeline import config as config_lib
from pipeline.drift import samples as drift_samples
from tests.conftest import TAXI_CONFIG, TAXI_SCHEMA, slice_spans, taxi_config
from tests.validation_gate_test import anomalies_artifact, schema_artifact

ROWS = 2000


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    data = slice_spans(root / "data", ROWS, spans=(1,))
    drift_samples.write_drifted_span(data / "span-1" / "data.csv", data / "span-2" / "data.csv")
    config = config_lib.load(TAXI_CONFIG)
    kinds = config.drift_features()
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    stats = {n: drift.compute_statistics(*drift.data_files(str(data / f"span-{n}")), schema,
                                         kinds) for n in (1, 2)}
    return data, kinds, schema, stats


def test_drifted_features_are_flagged_and_unchanged_ones_are_not(setup):
    _, kinds, schema, stats = setup
    report = drift.compare(drift.DRIFT, stats[1], stats[2], schema, kinds, drift.Thresholds())
    results = {r.feature: r for r in report.features}
    assert set(results) == set(kinds)
    assert {r.feature for r in report.over} == set(drift_samples.DRIFTED_FEATURES)
    assert results["fare"].metric == drift.JENSEN_SHANNON
    assert results["payment_type"].metric == drift.L_INFINITY
    for name in drift_samples.DRIFTED_FEATURES:
        assert results[name].value > results[name].threshold
    for name in set(kinds) - set(drift_samples.DRIFTED_FEATURES):
        assert results[name].verdict == drift.OK and results[name].value < 0.01, results[name]
    # Integer categoricals are measured (not the 0 L-infinity reads on numeric statistics).
    assert results["trip_start_hour"].metric == drift.L_INFINITY
    # Sorted by how far over threshold.
    assert [r.feature for r in report.features[:2]] == ["payment_type", "fare"]


def test_integer_categoricals_really_are_compared(setup, tmp_path):
    """Evening trips only: trip_start_hour (an INT column) must read a large L-infinity
    distance, where TFDV's numeric statistics alone would read 0."""
    data, kinds, schema, stats = setup
    header, rows = drift_samples.read_rows(data / "span-1" / "data.csv")
    evening = drift_samples.write_rows(tmp_path / "evening.csv", header,
                                       [r for r in rows if int(r["trip_start_hour"]) >= 18])
    other = drift.compute_statistics(str(evening), drift.CSV, schema, kinds)
    report = drift.compare(drift.DRIFT, stats[1], other, schema, kinds, drift.Thresholds())
    hour = next(r for r in report.features if r.feature == "trip_start_hour")
    assert hour.metric == drift.L_INFINITY and hour.value > 0.1 and hour.verdict == drift.OVER


def test_schema_comparator_wins_over_config_and_per_feature_override_over_default(setup):
    _, kinds, schema, stats = setup
    curated = tfdv.load_schema_text(str(TAXI_SCHEMA))
    tfdv.get_feature(curated, "fare").drift_comparator.jensen_shannon_divergence.threshold = 0.95
    thresholds = drift.Thresholds(per_feature={"payment_type": 0.9, "fare": 0.001})
    report = drift.compare(drift.DRIFT, stats[1], stats[2], curated, kinds, thresholds)
    results = {r.feature: r for r in report.features}
    assert (results["fare"].threshold, results["fare"].threshold_source) == (0.95, "schema")
    assert results["fare"].verdict == drift.OK
    assert (results["payment_type"].threshold,
            results["payment_type"].threshold_source) == (0.9, "config feature")
    assert results["company"].threshold_source == "config default"
    assert not report.over


def test_json_shape_is_one_object_per_feature_with_the_documented_fields(setup):
    _, kinds, schema, stats = setup
    data = drift.compare(drift.DRIFT, stats[1], stats[2], schema, kinds, drift.Thresholds(),
                         baseline_name="span 1", current_name="span 2").to_dict()
    assert data["format"] == "conveyor.drift/1"
    assert (data["comparison"], data["baseline"], data["current"]) == ("drift", "span 1",
                                                                       "span 2")
    assert data["verdict"] == "over" and data["features_over_threshold"] == 2
    for item in data["features"]:
        assert set(item) == {"feature", "kind", "metric", "value", "threshold", "verdict",
                             "threshold_source"}
    json.dumps(data)


def test_drift_check_executor_without_a_previous_span_says_why(setup, tmp_path):
    data, kinds, schema, _ = setup
    report = drift_check.check_span(str(data), 1, schema, kinds, drift.Thresholds(),
                                    str(tmp_path))
    assert report["computed"] is False and report["reason"] == f"no span 0 in {data}"


def drift_report_artifact(root, report: dict) -> DriftReport:
    artifact = DriftReport()
    artifact.uri = str(root / "drift")
    os.makedirs(artifact.uri)
    with open(os.path.join(artifact.uri, layout.DRIFT_REPORT_FILE), "w") as handle:
        json.dump(report, handle)
    return artifact


def test_gate_stops_on_drift_over_threshold_and_passes_otherwise(setup, tmp_path):
    data, kinds, schema, _ = setup
    report = drift_check.check_span(str(data), 2, schema, kinds, drift.Thresholds(),
                                    str(tmp_path / "stats"))
    assert report["computed"] is True
    clean = anomalies_artifact(tmp_path, {"train": [], "eval": []})
    out = standard_artifacts.Schema()
    out.uri = str(tmp_path / "validated")
    os.makedirs(out.uri)
    with pytest.raises(gate.AnomaliesFound) as error:
        gate.Executor().Do({"schema": [schema_artifact(tmp_path)], "anomalies": [clean],
                            "drift": [drift_report_artifact(tmp_path, report)]},
                           {"validated_schema": [out]}, {"splits": '["train", "eval"]'})
    assert "[drift] fare: DRIFT_JENSEN_SHANNON_DIVERGENCE_HIGH" in str(error.value)
    assert "[drift] payment_type: DRIFT_L_INFINITY_HIGH" in str(error.value)
    assert not os.listdir(out.uri)

    calm = dict(report, features=[dict(f, verdict="ok") for f in report["features"]])
    (tmp_path / "drift").rename(tmp_path / "drift-over")
    gate.Executor().Do({"schema": [schema_artifact_again(tmp_path)], "anomalies": [clean],
                        "drift": [drift_report_artifact(tmp_path, calm)]},
                       {"validated_schema": [out]}, {"splits": '["train", "eval"]'})
    assert os.listdir(out.uri)


def schema_artifact_again(root):
    return schema_artifact(root / "again")


def config_with_drift(tmp_path, table: str):
    """The taxi config with its [drift] table replaced by `table`."""
    path = taxi_config(tmp_path / "c.toml", tmp_path)
    path.write_text(without_drift_table(path.read_text()) + f"\n[drift]\n{table}\n")
    return path


def without_drift_table(text: str) -> str:
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.startswith("[drift")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("table, message", [
    ('mode = "stop"', "[drift.mode] unknown mode 'stop' (expected one of warn, block)"),
    ("numeric_threshold = 2", "[drift.numeric_threshold] must be in (0, 1], got 2.0"),
    ("[drift.thresholds]\nno_such_feature = 0.2", "[drift.thresholds] unknown key(s) "
                                                  "no_such_feature"),
    ('[drift.thresholds]\nfare = "high"', "[drift.thresholds.fare] expected float"),
])
def test_drift_table_is_validated_on_load(tmp_path, table, message):
    path = config_with_drift(tmp_path, table)
    with pytest.raises(config_lib.ConfigError) as error:
        config_lib.load(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_drift_table_overrides_reach_the_thresholds(tmp_path):
    path = config_with_drift(tmp_path, 'mode = "block"\ncategorical_threshold = 0.2\n'
                                       '[drift.thresholds]\nfare = 0.05')
    config = config_lib.load(path)
    assert config.drift.mode == "block"
    thresholds = drift.Thresholds.from_dict(config.drift.thresholds_dict())
    assert thresholds.for_feature("fare", drift.NUMERIC) == (0.05, "config feature")
    assert thresholds.for_feature("company", drift.CATEGORICAL) == (0.2, "config default")
    assert thresholds.for_feature("trip_miles", drift.NUMERIC) == (0.1, "config default")
