"""The benchmark's smallest size completes and prints its table (a smoke test, not a timing:
nothing here asserts on speed, only that every section, row and column is there)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

SMOKE = ["--sizes", "0.1", "--train-steps", "50", "--eval-steps", "10"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    output = work / "BENCHMARKS.md"
    result = subprocess.run([sys.executable, "bench/run.py", *SMOKE, "--work-dir", str(work),
                             "--output", str(output)],
                            cwd=REPO, capture_output=True, text=True, timeout=1800)
    return result, output, work


def test_completes_and_prints_every_table(smoke_run):
    result, _, _ = smoke_run
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "== 0.1× (1,500 rows in 1 file(s)) ==" in out
    for column in ("metric", "stock", "Conveyor", "Conveyor/stock", "target", "verdict",
                   "component", "size (KiB)", "µs/example @1", "µs/example @256", "accuracy",
                   "AUC"):
        assert column in out, column
    for row in ("end-to-end wall (s)", "cached re-run (s)", "re-run through TFX's cache (s)",
                "peak memory (MiB)",
                "ingestion (rows/s)", "CsvExampleGen", "Transform", "Trainer", "Evaluator",
                "Conveyor SavedModel", "Conveyor int8 TFLite core",
                "Conveyor int8 TFLite end to end", "stock SavedModel",
                "float32 TFLite core / int8 TFLite bytes", "AUC TFLite vs SavedModel"):
        line = next((l for l in out.splitlines() if l.startswith(row)), None)
        assert line is not None, f"no row {row!r}"
        assert re.search(r"\d", line[len(row):]), f"row {row!r} has no figure: {line}"
    for header in ("command: python bench/run.py", "machine: ", "versions: tfx 1.16"):
        assert header in out


def test_writes_the_results_into_the_markdown_file(smoke_run):
    result, output, _ = smoke_run
    assert result.returncode == 0, result.stderr[-3000:]
    text = output.read_text(encoding="utf-8")
    assert "<!-- bench:results:start -->" in text and "<!-- bench:results:end -->" in text
    assert "| end-to-end wall (s) |" in text


def test_removes_its_temporary_folders(smoke_run):
    _, _, work = smoke_run
    assert [p.name for p in work.iterdir()] == ["BENCHMARKS.md"]
