"""`drift` and `skew` on bad input: exit status 2 and one line naming what is wrong."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, slice_spans, taxi_config
from tests.cli_test import one_line_error


@pytest.fixture
def config(tmp_path):
    data = slice_spans(tmp_path / "data", 50, spans=(1,))
    (data / "span-2").mkdir()  # a span with no data
    return taxi_config(tmp_path / "c.toml", data)


@pytest.mark.parametrize("baseline, current, expected", [
    ("1", "{tmp}/nowhere", "{tmp}/nowhere: no such file or folder"),
    ("9", "1", "no span 9 (spans present: 1, 2)"),
    ("2", "1", "span-2: span 2 holds no data files"),
    ("1", "{tmp}/notes.txt", "{tmp}/notes.txt: not a CSV (.csv) or TFRecord"),
    ("1", "{tmp}/header_only.csv", "{tmp}/header_only.csv: header only, no data rows"),
])
def test_drift_bad_input(tmp_path, config, baseline, current, expected):
    (tmp_path / "notes.txt").write_text("not data\n")
    header = (tmp_path / "data" / "span-1" / "data.csv").read_text().splitlines()[0]
    (tmp_path / "header_only.csv").write_text(header + "\n")
    result = run_cli("drift", "--config", str(config), "--baseline", baseline.format(tmp=tmp_path),
                     "--current", current.format(tmp=tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert expected.format(tmp=tmp_path) in one_line_error(result)


def test_drift_of_a_span_against_itself_is_clean_and_writes_json(tmp_path, config):
    output = tmp_path / "out" / "report.json"
    result = run_cli("drift", "--config", str(config), "--baseline", "1", "--current",
                     str(tmp_path / "data" / "span-1" / "data.csv"), "--format", "json",
                     "--output", str(output))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(output.read_text())
    assert report["verdict"] == "ok" and report["features_over_threshold"] == 0
    assert all(f["value"] == 0 for f in report["features"])
    assert result.stdout == ""


def test_skew_serving_path_that_does_not_exist(tmp_path, config):
    result = run_cli("skew", "--config", str(config), "--workspace", str(tmp_path / "ws"),
                     "--serving", str(tmp_path / "requests"))
    assert result.returncode == 2
    assert f"{tmp_path}/requests: no such file or folder" in one_line_error(result)


def test_skew_without_a_pushed_model(tmp_path, config):
    result = run_cli("skew", "--config", str(config), "--workspace", str(tmp_path / "ws"),
                     "--serving", str(tmp_path / "data" / "span-1"))
    assert result.returncode == 2
    assert "no pushed model (run the pipeline first, or pass --model)" in one_line_error(result)


def test_skew_model_that_is_not_a_pushed_version(tmp_path, config):
    (tmp_path / "model").mkdir()
    result = run_cli("skew", "--config", str(config), "--workspace", str(tmp_path / "ws"),
                     "--serving", str(tmp_path / "data" / "span-1"), "--model",
                     str(tmp_path / "model"))
    assert result.returncode == 2
    assert "model: not a pushed model version (no conveyor_push.json)" in one_line_error(result)


def test_skew_serving_file_that_is_not_csv_or_tfrecord(tmp_path, config):
    (tmp_path / "requests.json").write_text("{}")
    result = run_cli("skew", "--config", str(config), "--workspace", str(tmp_path / "ws"),
                     "--serving", str(tmp_path / "requests.json"))
    assert result.returncode == 2
    assert "requests.json: not a CSV (.csv) or TFRecord" in one_line_error(result)
