"""Runs the pipeline in this process with TFX's LocalDagRunner, Beam's DirectRunner
and ML Metadata in SQLite under the workspace."""

from __future__ import annotations

import datetime

from tfx import v1 as tfx

from pipeline import factory, metadata_store
from pipeline.config import Config, ConfigError
from pipeline.spans import check_columns, select_span


def locations(config: Config) -> factory.Locations:
    return factory.Locations(data_root=str(config.data_root), schema_file=str(config.schema),
                             pipeline_root=str(config.pipeline_root),
                             serving_dir=str(config.serving_dir))


def preflight(config: Config) -> int:
    """Checks made before any component starts; returns the span the run will ingest."""
    if not config.schema.is_file():
        raise ConfigError(f"{config.source}: [pipeline.schema] schema file {config.schema} "
                          f"does not exist")
    span = select_span(config.data_root, config.span)
    check_columns(span, config.features)
    return span.number


def run(config: Config) -> datetime.datetime:
    """Runs the whole pipeline; returns the time it started (to find the run in MLMD)."""
    preflight(config)
    config.workspace.mkdir(parents=True, exist_ok=True)
    pipeline = factory.create_pipeline(config, locations(config), config.beam.pipeline_args(),
                                       metadata_store.connection_config(config))
    started = datetime.datetime.now()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return started
