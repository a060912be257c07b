"""The ML Metadata connection a run and the reports share, chosen by the config."""

from __future__ import annotations

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.config import Config, ConfigError


def connection_config(config: Config) -> metadata_store_pb2.ConnectionConfig:
    connection = metadata_store_pb2.ConnectionConfig()
    if config.metadata.backend == "sqlite":
        connection.sqlite.filename_uri = str(config.metadata_path)
        connection.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE)
        return connection
    raise ConfigError(f"{config.source}: [metadata.backend] unsupported backend "
                      f"'{config.metadata.backend}' (supported: sqlite)")


def open_store(config: Config) -> metadata_store.MetadataStore:
    return metadata_store.MetadataStore(connection_config(config))
