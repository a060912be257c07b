"""monitor's durations, --until, windows of log files, and its one-line input errors."""

from __future__ import annotations

import datetime
import time

import pytest

from pipeline.errors import DataError
from pipeline.monitor import windows
from pipeline.serving import log_files
from tests.conftest import TAXI_DATA, run_cli, taxi_config

NOW = 1_790_000_000.0


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("2h", 7200), ("1d", 86400),
                                           ("1h30m", 5400), ("90s", 90), (" 2H ", 7200),
                                           ("1.5h", 5400), ("1w", 604800)])
def test_durations(text, seconds):
    assert windows.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "-1h", "h", "1 h", "0m", "10", "1h-5m"])
def test_bad_durations_name_the_option(text):
    with pytest.raises(DataError, match=r"^--since '.*': "):
        windows.parse_duration(text)


def test_until_is_now_a_duration_ago_or_an_iso_time():
    assert windows.parse_until(None, NOW) == NOW
    assert windows.parse_until("2h", NOW) == NOW - 7200
    utc = datetime.datetime(2026, 12, 2, 17, 0, tzinfo=datetime.timezone.utc).timestamp()
    assert windows.parse_until("2026-12-02T17:00:00Z", NOW) == utc
    assert windows.parse_until("2026-12-02T17:00:00", NOW) == utc
    assert windows.parse_until("2026-12-02T18:00:00+01:00", NOW) == utc
    with pytest.raises(DataError, match="^--until 'yesterday': "):
        windows.parse_until("yesterday", NOW)


def log_file(first: float, last: float, pid: int = 7, seq: int = 1) -> str:
    return (f"{log_files.PREFIX}{log_files.stamp(first)}-{log_files.stamp(last)}-{pid}-{seq}"
            f"{log_files.SUFFIX}")


def test_names_carry_the_first_and_last_record_times():
    parsed = log_files.closed_file("/logs", log_file(NOW - 60.25, NOW))
    assert (parsed.path, parsed.first, parsed.last) == (
        "/logs/" + log_file(NOW - 60.25, NOW), NOW - 60.25, NOW)
    assert log_files.closed_file("/logs", "_open-" + log_file(NOW, NOW)) is None
    assert log_files.closed_file("/logs", "requests.csv") is None


def test_a_file_belongs_to_the_window_of_its_last_record(tmp_path):
    names = [log_file(NOW - 7400, NOW - 7300, seq=1),  # before both windows
             log_file(NOW - 3700, NOW - 3600, seq=2),  # last record on the previous window's end
             log_file(NOW - 3650, NOW - 3601, seq=3),  # in the previous window
             log_file(NOW - 3599, NOW - 10, seq=4),
             log_file(NOW - 5, NOW, seq=5)]  # last record at the window's end: the next one
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / ("_open-" + names[0])).write_bytes(b"")
    files = log_files.list_closed(str(tmp_path))
    assert [f.path.rsplit("-", 1)[1] for f in files] == [f"{n}{log_files.SUFFIX}"
                                                         for n in range(1, 6)]
    window = windows.Window(NOW - 3600, NOW)
    assert [f.path.rsplit("-", 1)[1][0] for f in window.select(files)] == ["2", "4"]
    previous = window.previous()
    assert (previous.start, previous.end) == (NOW - 7200, NOW - 3600)
    assert [f.path.rsplit("-", 1)[1][0] for f in previous.select(files)] == ["3"]
    assert window.describe() == f"{windows.iso(NOW - 3600)} to {windows.iso(NOW)}"


def test_input_errors_exit_2_with_one_line(tmp_path):
    config = taxi_config(tmp_path / "taxi.toml", TAXI_DATA)
    workspace = tmp_path / "workspace"
    common = ("--config", str(config), "--workspace", str(workspace))
    bad = run_cli("monitor", *common, "--since", "an hour")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["error: --since 'an hour': not a duration such "
                                               "as 30m, 2h, 1d or 1h30m"]
    empty = run_cli("monitor", *common)
    assert empty.returncode == 2
    assert "request_logs/taxi: no closed request log files in" in empty.stderr
    logs = workspace / "request_logs" / "taxi"
    logs.mkdir(parents=True)
    now = time.time()
    (logs / log_file(now - 60, now - 30)).write_bytes(b"")
    unserved = run_cli("monitor", *common, "--since", "10m")
    assert unserved.returncode == 2
    assert unserved.stderr.strip().splitlines() == [
        f"error: {workspace / 'serving' / 'taxi'}: no pushed model (run the pipeline first, "
        f"or pass --model)"]
