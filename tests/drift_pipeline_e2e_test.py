"""Drift inside the pipeline, and skew against the model it pushed, on small slices.

Two runs in one workspace with `[drift] mode = "block"`: span 1 (no span 0, so drift is
not computed and the model is trained and pushed), then span 2, a copy of span 1 with
fares scaled up and cash re-weighted to card. The second run's DriftCheck flags exactly
those two features, the gate stops before Transform, and the `drift` command reports the
same values. `skew` then compares serving requests made from span 1 with the training
data of the pushed model, found through ML Metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import config as config_lib
from pipeline.drift import samples as drift_samples
from pipeline.metadata import store as metadata_store
from pipeline.summary import summary as run_summary
from tests.conftest import run_cli, slice_spans, taxi_config
from tests.drift_test import without_drift_table

pytestmark = pytest.mark.e2e

ROWS = 1500


class Runs:
    def __init__(self, root: Path):
        self.data = slice_spans(root / "data", ROWS, spans=(1,))
        drift_samples.write_drifted_span(self.data / "span-1" / "data.csv",
                                         self.data / "span-2" / "data.csv")
        self.config_path = taxi_config(root / "taxi.toml", self.data, train_steps=150,
                                       eval_steps=10)
        # Small slices: gate on drift, not on the model's quality.
        text = self.config_path.read_text().replace("lower_bound = 0.7", "lower_bound = 0.5")
        self.config_path.write_text(without_drift_table(text) + '\n[drift]\nmode = "block"\n')
        self.workspace = root / "workspace"
        self.config = config_lib.load(self.config_path).with_overrides(workspace=self.workspace)
        self.first = self.cli("run", "--span", "1")
        self.first_summary = self.summary()
        self.second = self.cli("run")
        self.second_summary = self.summary()

    def cli(self, *args: str):
        return run_cli(*args, "--config", str(self.config_path),
                       *(("--workspace", str(self.workspace)) if args[0] != "drift" else ()))

    def summary(self) -> run_summary.RunSummary:
        return run_summary.summarize(metadata_store.open_store(self.config), self.config.name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("drift_e2e"))


def test_first_run_has_no_previous_span_and_says_drift_was_not_computed(runs):
    assert runs.first.returncode == 0, runs.first.stderr[-3000:]
    assert runs.first_summary.state_of("DriftCheck") == "executed"
    assert runs.first_summary.drift["computed"] is False
    assert "Drift: not computed (no span 0 in" in runs.first.stdout
    assert runs.first_summary.pushed is True


def test_drifted_span_is_flagged_and_blocks_training(runs):
    assert runs.second.returncode == 1, runs.second.stderr[-3000:]
    report = runs.second_summary.drift
    assert report["computed"] is True
    assert (report["baseline"], report["current"]) == ("span 1", "span 2")
    verdicts = {f["feature"]: f["verdict"] for f in report["features"]}
    assert {name for name, verdict in verdicts.items() if verdict != "ok"} == {"fare",
                                                                            "payment_type"}
    assert len(verdicts) == len(runs.config.features.features)
    assert runs.second_summary.state_of("ValidationGate") == "failed"
    assert runs.second_summary.state_of("Transform") is None
    assert "Drift span 2 vs span 1: 2 feature(s) over threshold" in runs.second.stdout
    assert "  fare: jensen_shannon_divergence " in runs.second.stdout
    assert "  payment_type: l_infinity " in runs.second.stdout
    assert "Stopped: data validation found anomalies" in runs.second.stderr


def test_drift_command_reports_the_same_values_as_the_pipeline(runs):
    result = runs.cli("drift", "--baseline", "1", "--current", "2", "--format", "json")
    assert result.returncode == 1, result.stderr[-3000:]
    command = {f["feature"]: f for f in json.loads(result.stdout)["features"]}
    pipeline = {f["feature"]: f for f in runs.second_summary.drift["features"]}
    assert command.keys() == pipeline.keys()
    for name, item in pipeline.items():
        assert command[name]["value"] == pytest.approx(item["value"], abs=1e-9), name
        assert command[name]["verdict"] == item["verdict"]


def test_skew_of_requests_against_the_pushed_model_flags_only_the_skewed_feature(runs, tmp_path):
    requests = drift_samples.serving_requests(runs.data / "span-1" / "data.csv",
                                              tmp_path / "serving" / "requests.csv", every=1)
    result = runs.cli("skew", "--serving", str(requests.parent), "--format", "json")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["comparison"] == "skew"
    assert "span 1, split train" in report["baseline"]
    values = {f["feature"]: round(f["value"], 4) for f in report["features"]}
    over = {f["feature"] for f in report["features"] if f["verdict"] != "ok"}
    assert over == {drift_samples.SKEWED_FEATURE}, values
    assert report["features"][0]["feature"] == drift_samples.SKEWED_FEATURE


def test_skew_of_unchanged_requests_is_within_thresholds(runs, tmp_path):
    source = runs.data / "span-1" / "data.csv"
    header, rows = drift_samples.read_rows(source)
    header = [c for c in header if c != drift_samples.LABEL]
    requests = drift_samples.write_rows(
        tmp_path / "requests.csv", header,
        ({k: v for k, v in row.items() if k != drift_samples.LABEL} for row in rows))
    latest = runs.config.serving_dir / str(max(int(p.name) for p in
                                               runs.config.serving_dir.iterdir()
                                               if p.name.isdigit()))
    result = runs.cli("skew", "--serving", str(requests), "--model", str(latest))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "0 of 14 features over threshold" in result.stdout
