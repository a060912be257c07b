"""The ML Metadata connection a run and the reports share, chosen by the config.

A run may create its store (a new SQLite file, a new database on the server); a report
such as `lineage` only reads, so it opens with `create=False` and a store that is
missing or unreachable is a one-line ConfigError rather than a fresh, empty store.
"""

from __future__ import annotations

import os

from ml_metadata import errors, metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.config import Config, ConfigError

DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432}


class StoreUnavailable(ConfigError):
    """The configured metadata store does not exist or cannot be reached."""


def connection_config(config: Config, *,
                      create: bool = True) -> metadata_store_pb2.ConnectionConfig:
    metadata = config.metadata
    connection = metadata_store_pb2.ConnectionConfig()
    if metadata.backend == "sqlite":
        connection.sqlite.filename_uri = str(config.metadata_path)
        connection.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE if create
            else metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
        return connection
    port = metadata.port or DEFAULT_PORTS.get(metadata.backend)
    if metadata.backend == "mysql":
        server = connection.mysql
        server.host, server.port, server.database = metadata.host, port, metadata.database
    elif metadata.backend == "postgresql":
        server = connection.postgresql
        server.host, server.port, server.dbname = metadata.host, str(port), metadata.database
    else:
        raise ConfigError(f"{config.source}: [metadata.backend] unsupported backend "
                          f"'{metadata.backend}' (supported: sqlite, mysql, postgresql)")
    server.user = metadata.user
    password = _password(config)
    if password:
        server.password = password
    server.skip_db_creation = not create
    return connection


def describe(config: Config) -> str:
    """Where the store is, for messages (never the password)."""
    metadata = config.metadata
    if metadata.backend == "sqlite":
        return f"SQLite store {config.metadata_path}"
    port = metadata.port or DEFAULT_PORTS.get(metadata.backend)
    return (f"{metadata.backend} store {metadata.user + '@' if metadata.user else ''}"
            f"{metadata.host}:{port}/{metadata.database}")


def open_store(config: Config, *, create: bool = True) -> metadata_store.MetadataStore:
    if not create and config.metadata.backend == "sqlite" and not config.metadata_path.is_file():
        raise StoreUnavailable(f"{describe(config)} does not exist "
                               f"(no run has used this workspace; check --workspace/--config)")
    try:
        return metadata_store.MetadataStore(connection_config(config, create=create))
    except (RuntimeError, errors.StatusError) as error:  # MLMD's failed connection
        detail = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        hint = "" if config.metadata.backend == "sqlite" else " (is the server running?)"
        raise StoreUnavailable(f"cannot open the {describe(config)}: "
                               f"{detail.rstrip(': ') or 'connection failed'}{hint}") from None


def _password(config: Config) -> str:
    name = config.metadata.password_env
    if not name:
        return ""
    if name not in os.environ:
        raise ConfigError(f"{config.source}: [metadata.password_env] environment variable "
                          f"{name} is not set")
    return os.environ[name]
