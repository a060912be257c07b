"""The run's HTML page, end to end: a small taxi run writes it, its tables say what ML
Metadata and the artifacts say, `report` writes the same page again from the store alone,
it renders in headless Chromium, a cached re-run names the serving version, and a run
stopped by anomalies gets a page that shows them on their feature. The terminal shows
progress and the summary only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline import evaluation, readers
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import REPORT_PROPERTY, Walker, string_property
from tests.conftest import SmallTaxi
from tests.drift_report_html_test import (_png_size, chromium, console_messages,
                                          needs_chromium)

pytestmark = pytest.mark.e2e

ROWS = 1000
NATIVE_NOISE = ("tf_tfl_flatbuffer_helpers", "fully_quantize", "XNNPACK", "W0000")


class Tables(HTMLParser):
    """Each <table id=...>'s rows as lists of cell texts, and every tag seen."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict]] = []
        self._table, self._row, self._cell = None, None, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def body(self, table: str) -> list[list[str]]:
        return self.tables[table][1:]  # without the header row


class Workspace(SmallTaxi):
    """One clean run of two small spans; the tests add runs in order."""

    def __init__(self, root: Path):
        super().__init__(root, ROWS)
        self.first = self.cli("run")
        assert self.first.returncode == 0, self.first.stderr[-3000:]

    def walker(self) -> Walker:
        return Walker(metadata_store.open_store(self.config), self.config.name)


def report_line(stdout: str) -> Path:
    [path] = re.findall(r"^Report: (.+)$", stdout, re.MULTILINE)
    return Path(path)


@pytest.fixture(scope="module")
def taxi(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("run_report"))


def test_terminal_shows_progress_with_times_and_the_summary_only(taxi):
    assert not [line for line in taxi.first.stderr.splitlines()
                if any(noise in line for noise in NATIVE_NOISE)], taxi.first.stderr[-3000:]
    assert re.search(r"^  finished Trainer in \d", taxi.first.stderr, re.MULTILINE)
    assert re.search(r"^  Trainer +executed +\d", taxi.first.stdout, re.MULTILINE)
    # The converter's lines are kept in the workspace, not lost.
    assert "XNNPACK" in (taxi.workspace / "logs" / "native-stderr.log").read_text()


def test_page_says_what_ml_metadata_and_the_artifacts_say(taxi):
    page_path = report_line(taxi.first.stdout)
    walk = taxi.walker()
    run = walk.latest_run()
    assert string_property(run, REPORT_PROPERTY) == str(page_path)
    page = Tables(page_path.read_text(encoding="utf-8"))

    executions = walk.run_executions(run)
    assert [row[:2] for row in page.body("component-table")] == \
        [[e.node, e.state] for e in executions]
    outputs = {e.node: walk.outputs(e.execution) for e in executions}
    statistics = outputs["StatisticsGen"]["statistics"][0]
    assert {split: int(rows) for split, rows in page.body("split-table")} == \
        readers.rows_per_split(statistics)
    features = {row[0] for row in page.body("feature-table")}
    [(_, train)] = [s for s in readers.split_statistics(statistics) if s[0] == "train"]
    assert features == {".".join(f.path.step) for f in train.datasets[0].features}
    drift = readers.drift_report(outputs["DriftCheck"]["drift"][0])
    over = [f["feature"] for f in drift["features"] if f["verdict"] != "ok"]
    assert sorted(row[0] for row in page.body("feature-table") if row[4].endswith(": over")) \
        == sorted(over)

    uri = outputs["Evaluator"]["evaluation"][0].uri
    overall = evaluation.overall_metrics(uri)
    assert {row[0]: row[1] for row in page.body("overall-metrics")} == \
        {name: f"{value:.4f}" for name, value in overall.items() if not name.endswith("_diff")}
    slices = [row[0] for row in page.body("slice-metrics")]
    assert slices[0] == "overall" and len(slices) == len(evaluation.metrics_by_slice(uri))
    assert any(tag == "svg" and "by slice" in attrs.get("aria-label", "")
               for tag, attrs in page.tags)
    pushed = outputs["VersionedPusher"]["pushed_model"][0]
    version = string_property(pushed, "pushed_version")
    assert f"version {version}" in page_path.read_text(encoding="utf-8")
    assert [row[0] for row in page.body("pushed-files")] == ["SavedModel", "TFLite (int8)"]
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "link", "img", "iframe"})


def test_report_command_writes_the_same_page_from_the_store(taxi, tmp_path):
    original = report_line(taxi.first.stdout)
    run_id = taxi.walker().latest_run().name
    again = tmp_path / "again.html"
    result = taxi.cli("report", "--run", run_id, "--output", str(again))
    assert result.returncode == 0, result.stderr[-2000:]
    assert again.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
    runs = taxi.cli("lineage", "runs")
    assert f"report: {original}" in runs.stdout
    missing = taxi.cli("report", "--run", "no-such-run")
    assert missing.returncode == 2 and "no-such-run" in missing.stderr


@needs_chromium
def test_page_renders_in_headless_chromium(taxi, tmp_path):
    page = report_line(taxi.first.stdout)
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ("table", {"id": "component-table"}) in Tables(dom.stdout).tags
    shot = tmp_path / "shot.png"
    screenshot = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}",
                          "--window-size=1300,2400")
    assert screenshot.returncode == 0, screenshot.stderr[-2000:]
    assert _png_size(shot) == (1300, 2400) and shot.stat().st_size > 50_000
    assert not console_messages(dom.stderr) + console_messages(screenshot.stderr)


def test_cached_rerun_names_the_serving_version(taxi):
    pushed = taxi.walker().latest_pushed()
    again = taxi.cli("run", "--rerun")  # a run through TFX's cache has its own page
    assert again.returncode == 0, again.stderr[-2000:]
    version = string_property(pushed, "pushed_version")
    assert f"Serving version {version} (cached run, nothing new pushed)" in again.stdout
    assert "Pushed SavedModel" not in again.stdout
    page = report_line(again.stdout).read_text(encoding="utf-8")
    assert f"Cached run: version {version} keeps serving" in page


def test_a_run_stopped_by_anomalies_has_a_page_showing_them(taxi):
    span = taxi.data / "span-3" / "data.csv"
    lines = (taxi.data / "span-2" / "data.csv").read_text().splitlines()
    column = lines[0].split(",").index("trip_miles")
    rows = [lines[0]] + [",".join("99999" if i == column else cell
                                  for i, cell in enumerate(line.split(",")))
                         for line in lines[1:]]
    span.parent.mkdir()
    span.write_text("\n".join(rows) + "\n")
    result = taxi.cli("run", "--span", "3")
    assert result.returncode == 1, result.stderr[-2000:]
    page_text = report_line(result.stdout).read_text(encoding="utf-8")
    page = Tables(page_text)
    anomalous = {row[1] for row in page.body("anomaly-table")}
    assert "trip_miles" in anomalous
    flagged = {row[0] for row in page.body("feature-table") if row[5] != "none"}
    assert flagged == anomalous
    assert "Stopped at" in page_text and "Not evaluated in this run" in page_text
    assert "Nothing pushed in this run" in page_text
    states = dict(row[:2] for row in page.body("component-table"))
    assert states.get("ValidationGate") == "failed" and "Trainer" not in states
