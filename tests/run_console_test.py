"""The run's terminal: native libraries' writes to descriptor 2 go to the workspace log
while Python's progress lines stay on the terminal, and each finished component's line
says how long it took."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from pipeline.cli import _Progress
from pipeline.runners import console
from pipeline.summary.text import duration


def test_native_writes_go_to_the_log_and_python_stderr_stays(tmp_path, capfd):
    log = tmp_path / "ws" / console.RUN_LOG
    with console.native_stderr_to(log):
        os.write(2, b"W0000 native converter line\n")
        # A child process (as Beam's workers or a C++ library's helper) inherits fd 2.
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'child line\\n')"],
                       check=True)
        print("  running Trainer ...", file=sys.stderr, flush=True)
    os.write(2, b"after the block\n")
    terminal = capfd.readouterr().err
    assert "running Trainer" in terminal and "after the block" in terminal
    assert "W0000" not in terminal and "child line" not in terminal
    assert log.read_text() == "W0000 native converter line\nchild line\n"


def test_without_a_log_nothing_is_redirected(capfd):
    with console.native_stderr_to(None):
        os.write(2, b"verbose native line\n")
    assert "verbose native line" in capfd.readouterr().err


def _record(message: str, created: float) -> logging.LogRecord:
    record = logging.LogRecord("absl", logging.INFO, __file__, 1, message, None, None)
    record.created = created
    return record


def test_progress_lines_give_each_components_time(capsys):
    progress = _Progress()
    progress.emit(_record("Component Trainer is running.", 100.0))
    progress.emit(_record("Component Evaluator is running.", 101.0))
    progress.emit(_record("Component Trainer is finished.", 172.4))
    progress.emit(_record("Component Evaluator is finished.", 104.5))
    progress.emit(_record("Something else entirely.", 105.0))
    assert capsys.readouterr().err.splitlines() == [
        "  running Trainer ...", "  running Evaluator ...",
        "  finished Trainer in 1m12s", "  finished Evaluator in 3.5s"]


def test_durations_read_as_people_read_them():
    assert [duration(s) for s in (None, 0.04, 9.94, 12.4, 59.6, 185)] == \
        ["", "0.0s", "9.9s", "12s", "1m00s", "3m05s"]
