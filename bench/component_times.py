"""Per-component wall time of a pipeline's latest run, as ML Metadata recorded it.

Each execution's time is last_update_time − create_time: from the moment the
orchestrator registered it to the moment it published its outputs (or was found
cached). The examples artifact's split URIs, read from the same store, feed the model
measurements.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.metadata.walker import Walker


@dataclass(frozen=True)
class ComponentTime:
    node: str
    state: str
    seconds: float


def open_sqlite(path: Path) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def latest_run_times(store: metadata_store.MetadataStore,
                     pipeline_name: str) -> list[ComponentTime]:
    walk = Walker(store, pipeline_name)
    run = walk.latest_run()
    if run is None:
        return []
    return [ComponentTime(e.node, e.state, (e.execution.last_update_time_since_epoch
                                            - e.execution.create_time_since_epoch) / 1000.0)
            for e in walk.run_executions(run)]


def latest_run_times_at(metadata: Path, pipeline_name: str) -> list[ComponentTime]:
    """`latest_run_times` from the SQLite store at `metadata`; none when a run that never
    started (or a cut-off one) left no store."""
    if not metadata.exists():
        return []
    return latest_run_times(open_sqlite(metadata), pipeline_name)


def latest_output_uri(store: metadata_store.MetadataStore, pipeline_name: str, node: str,
                      key: str) -> str | None:
    """The URI of the `key` output the latest run of `node` produced or reused."""
    walk = Walker(store, pipeline_name)
    for run in reversed(walk.runs()):
        for execution in walk.run_executions(run):
            if execution.node == node:
                artifacts = walk.outputs(execution.execution).get(key)
                if artifacts:
                    return artifacts[0].uri
    return None


def examples_uri(store: metadata_store.MetadataStore, pipeline_name: str,
                 node: str = "CsvExampleGen") -> str | None:
    return latest_output_uri(store, pipeline_name, node, "examples")


def model_uri(store: metadata_store.MetadataStore, pipeline_name: str,
              node: str = "Trainer") -> str | None:
    return latest_output_uri(store, pipeline_name, node, "model")
