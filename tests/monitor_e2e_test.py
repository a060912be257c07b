"""Request logs close the loop: push a small span-3 model, log the bundled serving sample
through RequestLog (as `serve` does, at sample rate 1.0), then `skew --serving <logs>` and
`monitor --since 1h` flag `trip_seconds`, the feature the sample's client gets wrong, and
nothing else."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import pytest
import tensorflow as tf

from pipeline import config as config_lib
from pipeline.drift import samples as drift_samples
from pipeline.serving import log_files
from pipeline.serving.request_log import open_request_log
from tests.conftest import run_cli, slice_spans, taxi_config
from tests.drift_report_html_test import _Tags

pytestmark = pytest.mark.e2e

# All of span 3 (5,000 rows) and all of the sample (every other row of it): on a smaller
# slice, sampling noise alone puts a coordinate just over its threshold.
ROWS = 5000


class Pushed:
    def __init__(self, root: Path):
        data = slice_spans(root / "data", ROWS, spans=(3,))
        self.config_path = taxi_config(root / "taxi.toml", data, train_steps=100, eval_steps=5)
        text = self.config_path.read_text().replace("lower_bound = 0.7", "lower_bound = 0.5")
        text = text.replace("log_sample_rate = 0.1", "log_sample_rate = 1.0")
        self.config_path.write_text(text.replace("log_rotate_mb = 16", "log_rotate_mb = 0.05"))
        self.workspace = root / "workspace"
        self.config = config_lib.load(self.config_path).with_overrides(workspace=self.workspace)
        self.run = self.cli("run")

    def cli(self, *args: str):
        return run_cli(*args, "--config", str(self.config_path), "--workspace",
                       str(self.workspace))


@pytest.fixture(scope="module")
def pushed(tmp_path_factory) -> Pushed:
    pushed = Pushed(tmp_path_factory.mktemp("monitor_e2e"))
    assert pushed.run.returncode == 0, pushed.run.stderr[-3000:]
    rows = drift_samples.request_rows()[:ROWS // 2]
    log = open_request_log(pushed.config)
    for start in range(0, len(rows), 3):  # requests of a few rows each
        log.record(rows[start:start + 3])
    log.close()
    pushed.logged = len(rows)
    return pushed


def test_the_log_holds_every_row_in_closed_files(pushed):
    files = log_files.list_closed(str(pushed.config.request_log_dir))
    assert len(files) > 3
    count = sum(1 for f in files for _ in tf.data.TFRecordDataset(f.path, compression_type="GZIP"))
    assert count == pushed.logged


def test_skew_on_the_request_logs_flags_only_trip_seconds(pushed):
    result = pushed.cli("skew", "--serving", str(pushed.config.request_log_dir), "--format",
                        "json")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads(result.stdout)
    over = {f["feature"] for f in report["features"] if f["verdict"] != "ok"}
    assert over == {drift_samples.SKEWED_FEATURE}, report["features"]
    assert len(report["features"]) == len(pushed.config.drift_features())


def test_logged_rows_measure_the_same_as_the_same_rows_in_csv(pushed, tmp_path):
    header, rows = drift_samples.read_rows(drift_samples.SERVING_SAMPLE)
    csv = drift_samples.write_rows(tmp_path / "csv" / "requests.csv", header,
                                   rows[:pushed.logged])
    logged, direct = (json.loads(pushed.cli("skew", "--serving", str(path), "--format",
                                            "json").stdout)
                      for path in (pushed.config.request_log_dir, csv.parent))
    values = {f["feature"]: f["value"] for f in direct["features"]}
    assert {f["feature"]: f["value"] for f in logged["features"]} == pytest.approx(values,
                                                                                abs=1e-9)


def test_monitor_flags_trip_seconds_from_the_last_hour_of_logs(pushed):
    result = pushed.cli("monitor", "--since", "1h", "--format", "json")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["format"] == "conveyor.monitor/1" and report["verdict"] == "over"
    files = log_files.list_closed(str(pushed.config.request_log_dir))
    assert report["window"]["files"] == len(files)
    assert report["previous_window"]["files"] == 0 and report["drift"] is None
    skew = report["skew"]
    assert skew["comparison"] == "skew" and "span 3, split train" in skew["baseline"]
    over = [f["feature"] for f in skew["features"] if f["verdict"] != "ok"]
    assert over == [drift_samples.SKEWED_FEATURE]


def test_monitor_writes_the_self_contained_html_report(pushed, tmp_path):
    output = tmp_path / "monitor.html"
    result = pushed.cli("monitor", "--since", "1h", "--format", "html", "--output", str(output))
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"wrote {output}: 1 finding(s)" in result.stderr
    page = output.read_text()
    parser = _Tags()
    parser.feed(page)
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    assert ("table", {"id": "summary"}) in parser.tags
    assert ("tr", {"class": "over"}) in parser.tags
    over_row = page.split('<tr class="over">', 1)[1].split("</tr>", 1)[0]
    assert ">trip_seconds<" in over_row and page.count('<tr class="over">') == 1
    assert "Drift: not computed (no request log files in the previous window" in page


def test_monitor_drift_against_the_previous_window(pushed, tmp_path):
    """Another workspace on a copy of the metadata: an hour and a half ago the client sent
    seconds; for the last hour the same rows in minutes. Drift between the two windows is
    trip_seconds alone, as is skew."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(pushed.workspace / pushed.config.metadata.path, workspace)
    config = dataclasses.replace(pushed.config, workspace=workspace)
    earlier = time.time() - 5400
    for rows, clock in ((drift_samples.request_rows(drift_samples.SERVING_SOURCE)[::2],
                         lambda: earlier),
                        (drift_samples.request_rows(), time.time)):
        log = open_request_log(config, clock=clock)
        log.record(rows)
        log.close()
    (version,) = [p for p in pushed.config.serving_dir.iterdir() if p.name.isdigit()]
    result = run_cli("monitor", "--config", str(pushed.config_path), "--workspace",
                     str(workspace), "--model", str(version), "--format", "json")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["window"]["files"] >= 1 and report["previous_window"]["files"] >= 1
    for comparison in ("skew", "drift"):
        over = [f["feature"] for f in report[comparison]["features"] if f["verdict"] != "ok"]
        assert over == [drift_samples.SKEWED_FEATURE], (comparison, report[comparison])
    assert report["drift"]["baseline"].startswith("requests ")
