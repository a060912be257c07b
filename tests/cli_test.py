"""`python -m pipeline` on user mistakes: exit status 2 and one line naming the problem."""

import fcntl

from pipeline.runners.workspace_lock import LOCK_FILE
from tests.conftest import run_cli, slice_spans, taxi_config


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert "Traceback" not in result.stderr
    return lines[-1]


def test_missing_config_file(tmp_path):
    result = run_cli("run", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert "nope.toml: config file not found" in one_line_error(result)


def test_span_that_does_not_exist(tmp_path):
    data = slice_spans(tmp_path / "data", 10, spans=(1, 2))
    config = taxi_config(tmp_path / "c.toml", data)
    result = run_cli("run", "--config", str(config), "--span", "9", "--workspace",
                     str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "no span 9 (spans present: 1, 2)" in one_line_error(result)


def test_label_not_in_the_data(tmp_path):
    data = slice_spans(tmp_path / "data", 10, spans=(1,))
    config = taxi_config(tmp_path / "c.toml", data)
    config.write_text(config.read_text().replace('name = "big_tipper"', 'name = "tip"'))
    result = run_cli("run", "--config", str(config), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 2
    line = one_line_error(result)
    assert "label 'tip' is not a column" in line and "span-1/data.csv" in line


def test_data_root_override_that_is_not_a_folder(tmp_path):
    result = run_cli("run", "--data-root", str(tmp_path / "missing"), "--workspace",
                     str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "missing: data root is not a folder" in one_line_error(result)


def test_a_second_run_on_a_busy_workspace_stops_at_once(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    with open(workspace / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # as a run in progress holds it
        result = run_cli("run", "--workspace", str(workspace))
    assert result.returncode == 2
    assert "a run is already in progress" in one_line_error(result)


def test_usage_error_exits_2():
    result = run_cli("run", "--span", "three")
    assert result.returncode == 2
    assert "invalid int value" in result.stderr


def test_an_error_from_a_threaded_beam_worker_is_reported_by_its_message():
    """Beam's multi_threading DirectRunner (a user's [beam] choice) re-raises a worker's
    error as the text of its traceback; the CLI's one line must still be its message."""
    from pipeline.errors import first_line

    worker = RuntimeError(
        "Traceback (most recent call last):\n"
        '  File "apache_beam/runners/common.py", line 1501, in process\n'
        "components.csv_ingest.reader.CsvError: /d/span-4/data.csv: line 2: column 'fare': "
        "'twelve dollars' is not a number as the schema requires [while running 'WriteSplits']\n")
    assert first_line(worker) == ("/d/span-4/data.csv: line 2: column 'fare': 'twelve dollars' "
                                   "is not a number as the schema requires")
    plain = ValueError("/d/a.csv: empty file [while running 'ReadCsv']\nmore")
    assert first_line(plain) == "/d/a.csv: empty file"
