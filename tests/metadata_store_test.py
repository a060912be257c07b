"""The [metadata] table: which ML Metadata backend a config names, and how it connects."""

from __future__ import annotations

import pytest

from pipeline import config as config_lib
from pipeline.metadata import store as metadata_store
from tests.conftest import TAXI_CONFIG


def config_with(tmp_path, metadata: str) -> config_lib.Config:
    text = TAXI_CONFIG.read_text(encoding="utf-8")
    text = text[:text.index("[metadata]")] + metadata
    text = text.replace('"../', f'"{TAXI_CONFIG.parent.parent}/')
    path = tmp_path / "taxi.toml"
    path.write_text(text, encoding="utf-8")
    return config_lib.load(path)


def test_an_unknown_backend_is_named_with_file_and_key(tmp_path):
    with pytest.raises(config_lib.ConfigError, match=r"\[metadata.backend\] unknown backend "
                                                     r"'oracle'"):
        config_with(tmp_path, '[metadata]\nbackend = "oracle"\n')


def test_postgresql_connection_reads_the_password_from_the_environment(tmp_path, monkeypatch):
    config = config_with(tmp_path, '[metadata]\nbackend = "postgresql"\nhost = "db.internal"\n'
                                   'port = 6543\ndatabase = "ml"\nuser = "conveyor"\n'
                                   'password_env = "CONVEYOR_TEST_DB_PASSWORD"\n')
    with pytest.raises(config_lib.ConfigError, match="CONVEYOR_TEST_DB_PASSWORD is not set"):
        metadata_store.connection_config(config)
    monkeypatch.setenv("CONVEYOR_TEST_DB_PASSWORD", "s3cret")
    connection = metadata_store.connection_config(config, create=False)
    server = connection.postgresql
    assert (server.host, server.port, server.dbname, server.user, server.password) == (
        "db.internal", "6543", "ml", "conveyor", "s3cret")
    assert server.skip_db_creation is True
    assert "s3cret" not in metadata_store.describe(config)
    assert metadata_store.connection_config(config).postgresql.skip_db_creation is False


def test_mysql_connection_defaults_to_port_3306(tmp_path):
    config = config_with(tmp_path, '[metadata]\nbackend = "mysql"\nuser = "root"\n')
    server = metadata_store.connection_config(config).mysql
    assert (server.host, server.port, server.database, server.user) == (
        "127.0.0.1", 3306, "mlmd", "root")


def test_sqlite_is_opened_read_only_for_reports(tmp_path):
    config = config_with(tmp_path, '[metadata]\nbackend = "sqlite"\n').with_overrides(
        workspace=tmp_path / "ws")
    from ml_metadata.proto import metadata_store_pb2

    assert metadata_store.connection_config(config, create=False).sqlite.connection_mode == (
        metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
    with pytest.raises(metadata_store.StoreUnavailable, match="does not exist"):
        metadata_store.open_store(config, create=False)
    assert not (tmp_path / "ws").exists()
