"""The lineage scenario with ML Metadata on real database servers (started on loopback
by tests/dbserver.py): the pipeline runs against them through the config's [metadata]
table alone, and MariaDB (MySQL backend) and PostgreSQL answer as SQLite does.

On PostgreSQL the cached re-run once failed in most attempts (a cached Trainer's or
Evaluator's outputs published under each other's keys: pipeline/runners/cached_outputs.py
says why); the full scenario here is what shows it does not any more."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from tests.dbserver import (mariadb_server, postgres_bin_dir,  # noqa: F401  (fixtures)
                            postgres_server)
from tests.conftest import TAXI_CONFIG, run_cli
from tests.lineage_checks import LineageAssertions, LineageScenario

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, mariadb_server) -> LineageScenario:  # noqa: F811
    return LineageScenario(tmp_path_factory.mktemp("lineage_mariadb"),
                           metadata_toml=mariadb_server.metadata_toml())


class OnAServer(LineageAssertions):
    def test_nothing_was_written_to_sqlite(self, scenario):
        assert not (scenario.workspace / "metadata.sqlite").exists()


class TestLineageOnMariaDB(OnAServer):
    pass


def test_a_database_that_does_not_exist_is_an_error_not_created(tmp_path,
                                                               postgres_server):  # noqa: F811
    missing = dataclasses.replace(postgres_server, database="no_such_db")
    text = TAXI_CONFIG.read_text(encoding="utf-8")
    config = tmp_path / "taxi.toml"
    config.write_text(text[:text.index("[metadata]")] + missing.metadata_toml(),
                      encoding="utf-8")
    result = run_cli("lineage", "runs", "--config", str(config), "--workspace",
                     str(tmp_path / "ws"), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot open the postgresql store ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no_such_db" not in databases(postgres_server)
    assert postgres_server.database in databases(postgres_server)


class TestLineageOnPostgreSQL(OnAServer):
    @pytest.fixture(scope="class")
    def scenario(self, tmp_path_factory, postgres_server) -> LineageScenario:  # noqa: F811
        return LineageScenario(tmp_path_factory.mktemp("lineage_pg"),
                               metadata_toml=postgres_server.metadata_toml())


def databases(server) -> list[str]:
    listed = subprocess.run([str(postgres_bin_dir() / "psql"), "-h", server.host, "-p",
                             str(server.port), "-U", server.user, "-d", "postgres", "-At",
                             "-c", "SELECT datname FROM pg_database"],
                            capture_output=True, text=True, timeout=60, check=True)
    return listed.stdout.split()
