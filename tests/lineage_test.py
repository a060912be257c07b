"""`python -m pipeline lineage` on the default SQLite store: two runs on two spans and a
cached re-run (the assertions live in tests/lineage_checks.py, shared with the
database-server test), plus user mistakes that need no run at all."""

from __future__ import annotations

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tests.lineage_checks import LineageAssertions, LineageScenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> LineageScenario:
    return LineageScenario(tmp_path_factory.mktemp("lineage"))


@pytest.mark.e2e
class TestLineageOnSqlite(LineageAssertions):
    pass


@pytest.mark.parametrize("question", [("model", "--latest"), ("span", "1"), ("runs",)])
def test_a_workspace_without_a_store_is_an_error_and_stays_empty(tmp_path, question):
    workspace = tmp_path / "nowhere"
    result = run_cli("lineage", *question, "--config", str(TAXI_CONFIG), "--workspace",
                     str(workspace), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: SQLite store ") and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not workspace.exists()


def test_model_needs_a_path_or_latest():
    result = run_cli("lineage", "model", timeout=120)
    assert result.returncode == 2
    assert "one of the arguments pushed_model --latest is required" in result.stderr


def test_an_unreachable_server_is_an_error_in_one_line(tmp_path):
    from tests.dbserver import free_port

    config = tmp_path / "taxi.toml"
    text = TAXI_CONFIG.read_text(encoding="utf-8")
    start = text.index("[metadata]")
    config.write_text(text[:start] + f'[metadata]\nbackend = "postgresql"\nhost = '
                      f'"127.0.0.1"\nport = {free_port()}\nuser = "nobody"\n',
                      encoding="utf-8")
    result = run_cli("lineage", "runs", "--config", str(config), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot open the postgresql store nobody@127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
