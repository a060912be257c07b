"""The HTML drift report in a real headless Chromium (Debian's `chromium`, installed by
scripts/system_deps.sh): it renders without console errors, the summary table is in the
DOM, and a screenshot is not empty. The page must fetch nothing from the network.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import tensorflow_data_validation as tfdv

from components import drift
from pipeline import config as config_lib
from pipeline.drift import report as drift_report
from pipeline.drift import samples as drift_samples
from tests.conftest import TAXI_CONFIG, TAXI_SCHEMA, slice_spans

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> drift.Report:
    root = tmp_path_factory.mktemp("html")
    data = slice_spans(root / "data", 1000, spans=(1,))
    drifted = drift_samples.write_drifted_span(data / "span-1" / "data.csv",
                                               root / "drifted" / "data.csv")
    kinds = config_lib.load(TAXI_CONFIG).drift_features()
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    baseline = drift.compute_statistics(str(data / "span-1" / "data.csv"), drift.CSV, schema,
                                        kinds)
    current = drift.compute_statistics(str(drifted), drift.CSV, schema, kinds)
    return drift.compare(drift.DRIFT, baseline, current, schema, kinds, drift.Thresholds(),
                         baseline_name="span 1", current_name="drifted <copy>")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained(report):
    page = drift_report.render_html(report)
    parser = _Tags()
    parser.feed(page)
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    for tag, attrs in parser.tags:
        for key in ("src", "href"):
            assert not re.match(r"^(https?:)?//", attrs.get(key) or ""), (tag, attrs)
    assert "@import" not in page and "url(" not in page
    # One picture per feature, escaped names.
    assert names.count("svg") == len(report.features)
    assert "drifted &lt;copy&gt;" in page


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not found; "
                                    "scripts/system_deps.sh installs it (make test)")


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless Chromium run on `page` with a fresh profile, logging to stderr."""
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                           "--enable-logging=stderr", "--v=0", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    """Chromium logs every console message (and uncaught errors) as INFO:CONSOLE lines."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@needs_chromium
def test_console_check_sees_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    result = chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console_messages(result.stderr))


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(drift_report.render_html(report), encoding="utf-8")

    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = _Tags()
    parser.feed(dom.stdout)
    assert ("table", {"id": "summary"}) in parser.tags
    rows = re.findall(r"<tr[^>]*>\s*<td><a href=\"#f-([^\"]+)\"", dom.stdout)
    assert rows == [f.feature for f in report.features]
    assert rows[:2] == ["payment_type", "fare"]

    shot = tmp_path / "shot.png"
    screenshot = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}",
                          "--window-size=1200,1600")
    assert screenshot.returncode == 0, screenshot.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    assert _png_size(shot) == (1200, 1600)

    assert not console_messages(dom.stderr) + console_messages(screenshot.stderr)


def test_a_page_of_two_reports_keeps_every_id_unique_and_every_link_whole(report):
    import dataclasses

    skew = dataclasses.replace(report, comparison=drift.SKEW)
    page = drift_report.render_html_page("Monitor", [skew, report], "<p>intro</p>\n")
    parser = _Tags()
    parser.feed(page)
    ids = [attrs["id"] for _, attrs in parser.tags if "id" in attrs]
    assert len(ids) == len(set(ids)) and {"skew-summary", "drift-summary"} <= set(ids)
    links = [attrs["href"][1:] for tag, attrs in parser.tags if tag == "a"]
    assert links and set(links) <= set(ids)
    assert page.count("<h2>") == 2 and "<p>intro</p>" in page
