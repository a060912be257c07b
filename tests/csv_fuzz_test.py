"""The CSV reader under coverage-guided fuzzing (tests/fuzz/csv_reader_fuzz.py): a
bounded pass from the checked-in seed corpus, and every input that once failed replayed
as a regression case. `make fuzz` runs the longer pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.csv_reader_fuzz import check_one

FUZZ = Path(__file__).parent / "fuzz"
CRASHES = sorted((FUZZ / "crashes").iterdir())
BOUNDED_SECONDS = 45
BOUNDED_RUNS = 20000


@pytest.mark.parametrize("path", CRASHES, ids=[path.name for path in CRASHES])
def test_an_input_that_once_failed_reads_or_is_refused(path):
    check_one(path.read_bytes())


def test_a_crash_is_caught_by_the_replay():
    with pytest.raises(AssertionError, match="does not name the file"):
        _replay_with_an_unnamed_error()


def _replay_with_an_unnamed_error():
    from unittest import mock

    from components.csv_ingest import reader
    from components.errors import InputError

    with mock.patch.object(reader, "read_table", side_effect=InputError("no file here")):
        check_one((FUZZ / "corpus" / "valid").read_bytes())


def test_a_bounded_fuzzing_pass_finds_no_crash(tmp_path):
    corpus = tmp_path / "corpus"  # libFuzzer adds what it finds to the first folder
    shutil.copytree(FUZZ / "corpus", corpus)
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.csv_reader_fuzz", f"-max_total_time={BOUNDED_SECONDS}",
         f"-runs={BOUNDED_RUNS}", "-timeout=10", f"-artifact_prefix={tmp_path}/",
         str(corpus), str(FUZZ / "crashes")],
        cwd=FUZZ.parent.parent, capture_output=True, text=True, timeout=BOUNDED_SECONDS + 60,
        env={**os.environ, "TF_USE_LEGACY_KERAS": "1"})
    found = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert result.returncode == 0 and not found, (
        f"the fuzzer stopped with {result.returncode}, inputs {found} in {tmp_path} "
        f"(copy them to tests/fuzz/crashes/):\n{result.stderr[-3000:]}")
    assert "Done " in result.stderr, result.stderr[-3000:]
