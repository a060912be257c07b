"""The bad-input corpus: each file goes through the real pipeline, after a model is served.

Every case must end with a clear message naming the file, line or feature, a non-zero
exit, no new push and the served model byte-for-byte untouched. CRLF line endings, a
byte-order mark and an unseen category are accepted (the last one reported).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from components.versioned_pusher.versions import versions
from pipeline.metadata import health as metadata_health
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import Walker
from tests.conftest import SmallTaxi, run_cli

pytestmark = pytest.mark.e2e

ROWS = 1200
BAD_SPAN = 9


class Served(SmallTaxi):
    """A workspace with one model pushed from a clean run, shared by the cases."""

    def __init__(self, root: Path):
        super().__init__(root, ROWS)
        first = self.cli("run")
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        self.lines = (self.data / "span-2" / "data.csv").read_text().splitlines()
        self.header = self.lines[0].split(",")

    def serving_fingerprint(self) -> dict[str, str]:
        return {str(p.relative_to(self.config.serving_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.config.serving_dir.rglob("*")) if p.is_file()}

    def latest_states(self) -> dict[str, str]:
        store = metadata_store.open_store(self.config)
        walk = Walker(store, self.config.name)
        return {e.node: e.state for e in walk.run_executions(walk.latest_run())}

    def with_cell(self, column: str, value: str | list[str], every: int = 40) -> bytes:
        """`value` (or the values in turn) in `column` on every `every`-th data row."""
        values = [value] if isinstance(value, str) else value
        index = self.header.index(column)
        rows = [self.lines[0]]
        for number, line in enumerate(self.lines[1:]):
            cells = line.split(",")
            if number % every == 0 and len(cells) == len(self.header):
                cells[index] = values[(number // every) % len(values)]
            rows.append(",".join(cells))
        return ("\n".join(rows) + "\n").encode()

    def with_line(self, line_number: int, line: str) -> bytes:
        rows = list(self.lines)
        rows[line_number - 1] = line
        return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    return Served(tmp_path_factory.mktemp("bad_input"))


def _extra_field(s: Served) -> bytes:
    return s.with_line(3, s.lines[2] + ",surplus")


def _missing_field(s: Served) -> bytes:
    return s.with_line(3, s.lines[2].rsplit(",", 1)[0])


def _embedded_newline(s: Served) -> bytes:
    cells = s.lines[4].split(",")
    cells[s.header.index("payment_type")] = '"Credit\nCard"'
    return s.with_line(5, ",".join(cells))


def _not_utf8(s: Served) -> bytes:
    cells = s.lines[6].split(",")
    cells[s.header.index("company")] = "Cafe Latin1 Cab"
    return s.with_line(7, ",".join(cells)).replace(b"Cafe Latin1", b"Caf\xe9 Latin1")


def _missing_column(s: Served) -> bytes:
    index = s.header.index("trip_miles")
    return ("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != index)
                      for line in s.lines) + "\n").encode()


def _unknown_column(s: Served) -> bytes:
    return ("\n".join([s.lines[0] + ",driver_rating"]
                      + [line + ",4.5" for line in s.lines[1:]]) + "\n").encode()


@dataclass(frozen=True)
class Case:
    name: str
    content: Callable[[Served], bytes]
    exit_code: int
    message: str  # must appear in the output (stderr's last line, or stdout's anomaly list)


REJECTED = [
    Case("too_many_columns", _extra_field, 2, "line 3: 19 fields, but the header has 18"),
    Case("too_few_columns", _missing_field, 2, "line 3: 17 fields, but the header has 18"),
    Case("string_in_numeric", lambda s: s.with_cell("trip_seconds", "ten minutes"), 2,
         "line 2: column 'trip_seconds': 'ten minutes' is not an integer"),
    Case("empty_file", lambda s: b"", 2, "empty file"),
    Case("header_only", lambda s: (s.lines[0] + "\n").encode(), 2, "header only, no data rows"),
    Case("missing_required_column", _missing_column, 2,
         "feature 'trip_miles' is not a column of this file"),
    Case("unknown_column", _unknown_column, 1, "] driver_rating: "),
    Case("label_missing_in_many_rows", lambda s: s.with_cell("big_tipper", "", every=3), 1,
         "] big_tipper: "),
    Case("nan_and_inf", lambda s: s.with_cell("fare", ["nan", "inf", "-inf"], every=30), 1,
         "] fare: "),
    Case("far_outside_domain", lambda s: s.with_cell("trip_miles", "99999"), 1,
         "] trip_miles: "),
    Case("not_utf8", _not_utf8, 2, "line 7: bytes that are not UTF-8"),
    Case("quoted_newline", _embedded_newline, 2,
         "column 'payment_type': a quoted value contains a line break"),
]


def write_bad_span(served: Served, content: bytes) -> Path:
    span = served.data / f"span-{BAD_SPAN}"
    span.mkdir()
    (span / "data.csv").write_bytes(content)
    return span


@pytest.mark.parametrize("case", REJECTED, ids=[c.name for c in REJECTED])
def test_bad_input_is_rejected_clearly_and_the_served_model_is_untouched(served, case):
    before = served.serving_fingerprint()
    versions_before = versions(str(served.config.serving_dir))
    span = write_bad_span(served, case.content(served))
    try:
        result = served.cli("run")
    finally:
        shutil.rmtree(span)
    output = result.stdout + result.stderr
    assert result.returncode == case.exit_code, output[-3000:]
    assert case.message in output, output[-3000:]
    assert f"span-{BAD_SPAN}" in output or case.exit_code == 1
    assert "Traceback" not in result.stderr
    states = served.latest_states()
    assert not {"Transform", "Trainer", "VersionedPusher"} & {
        node for node, state in states.items() if state == "executed"}
    assert versions(str(served.config.serving_dir)) == versions_before
    assert served.serving_fingerprint() == before
    assert metadata_health.check(metadata_store.open_store(served.config), served.config.name,
                                str(served.config.pipeline_root)) == []


def _crlf_and_bom(s: Served) -> bytes:
    return ("\ufeff" + "\r\n".join(s.lines) + "\r\n").encode("utf-8")


def _unseen_category(s: Served) -> bytes:
    return s.with_cell("company", "Zebra Night Cabs", every=200)


@pytest.mark.parametrize("content,reported", [
    (_crlf_and_bom, None),
    (_unseen_category, "Unseen categories of company (tolerated, mapped to OOV buckets): "
                       "'Zebra Night Cabs'"),
], ids=["crlf_and_bom", "unseen_category"])
def test_accepted_input_validates(served, content, reported):
    span = write_bad_span(served, content(served))
    try:
        result = served.cli("validate")
    finally:
        shutil.rmtree(span)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Anomalies: none" in result.stdout
    assert f"(span {BAD_SPAN})" in result.stdout
    if reported:
        assert reported in result.stdout
    assert served.latest_states()["ValidationGate"] == "executed"


def test_a_model_that_misses_its_threshold_is_not_pushed_and_the_summary_says_why(served,
                                                                                tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text(served.config_path.read_text().replace("lower_bound = 0.7",
                                                             "lower_bound = 0.999"))
    before = served.serving_fingerprint()
    result = run_cli("run", "--config", str(strict), "--workspace", str(served.workspace))
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Blessing: NOT BLESSED" in result.stdout
    assert "auc (value, slice overall) = " in result.stdout
    assert "misses >= 0.999" in result.stdout
    assert "Not pushed: model not blessed by the Evaluator" in result.stdout
    assert served.serving_fingerprint() == before
