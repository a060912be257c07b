"""Small queries over ML Metadata as TFX's orchestrators record it.

TFX attaches each execution to three contexts: the pipeline, the pipeline run (named
by its run id) and the node (`<pipeline>.<component id>`). Everything the run summary
and later reports need follows from those and the input/output events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.types import artifact_utils
from tfx.types.artifact import Artifact

from components.artifact_properties import int_property  # noqa: F401  (re-exported)

PIPELINE_RUN = "pipeline_run"
NODE = "node"

_STATES = {
    metadata_store_pb2.Execution.NEW: "new",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.COMPLETE: "executed",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


@dataclass(frozen=True)
class NodeExecution:
    node: str  # the component id, e.g. "Trainer"
    state: str  # executed, cached, failed, ...
    execution: metadata_store_pb2.Execution


def latest_run(store: metadata_store.MetadataStore,
               pipeline_name: str) -> Optional[metadata_store_pb2.Context]:
    """The most recently created run context of the pipeline."""
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline is None:
        return None
    runs = [c for c in store.get_children_contexts_by_context(pipeline.id)
            if c.type == PIPELINE_RUN] or [
        c for c in store.get_contexts_by_type(PIPELINE_RUN)]
    return max(runs, key=lambda c: (c.create_time_since_epoch, c.id), default=None)


def run_executions(store: metadata_store.MetadataStore,
                   run: metadata_store_pb2.Context) -> list[NodeExecution]:
    """The run's executions in the order they started, each named by its component id."""
    executions = sorted(store.get_executions_by_context(run.id),
                        key=lambda e: (e.create_time_since_epoch, e.id))
    return [NodeExecution(node_of(store, execution), state_of(execution), execution)
            for execution in executions]


def pipeline_runs(store: metadata_store.MetadataStore,
                  pipeline_name: str) -> list[metadata_store_pb2.Context]:
    """Every run context of the pipeline, oldest first."""
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline is None:
        return []
    runs = [c for c in store.get_children_contexts_by_context(pipeline.id)
            if c.type == PIPELINE_RUN]
    return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


def node_of(store: metadata_store.MetadataStore,
            execution: metadata_store_pb2.Execution) -> str:
    """The component id of an execution (e.g. "Trainer"), from its node context."""
    nodes = [c for c in store.get_contexts_by_execution(execution.id) if c.type == NODE]
    return nodes[0].name.split(".", 1)[-1] if nodes else execution.type


def run_of(store: metadata_store.MetadataStore,
           execution: metadata_store_pb2.Execution) -> str:
    """The run id (the pipeline_run context's name) an execution belongs to."""
    runs = [c for c in store.get_contexts_by_execution(execution.id) if c.type == PIPELINE_RUN]
    return runs[0].name if runs else ""


def state_of(execution: metadata_store_pb2.Execution) -> str:
    return _STATES.get(execution.last_known_state, "unknown")


def outputs(store: metadata_store.MetadataStore,
            execution: metadata_store_pb2.Execution) -> dict[str, list[Artifact]]:
    """Output artifacts of an execution by output key, as TFX Artifact objects."""
    return _artifacts_by_key(store, execution, {metadata_store_pb2.Event.OUTPUT,
                                                metadata_store_pb2.Event.DECLARED_OUTPUT})


def inputs(store: metadata_store.MetadataStore,
           execution: metadata_store_pb2.Execution) -> dict[str, list[Artifact]]:
    return _artifacts_by_key(store, execution, {metadata_store_pb2.Event.INPUT,
                                                metadata_store_pb2.Event.DECLARED_INPUT})


def _artifacts_by_key(store, execution, event_types) -> dict[str, list[Artifact]]:
    events = [e for e in store.get_events_by_execution_ids([execution.id])
              if e.type in event_types]
    if not events:
        return {}
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    types = {t.id: t for t in store.get_artifact_types_by_id(
        list({a.type_id for a in artifacts.values()}))}
    by_key: dict[str, list[Artifact]] = defaultdict(list)
    for event in events:
        key = next((s.key for s in event.path.steps if s.HasField("key")), "")
        mlmd_artifact = artifacts[event.artifact_id]
        by_key[key].append(artifact_utils.deserialize_artifact(types[mlmd_artifact.type_id],
                                                               mlmd_artifact))
    return dict(by_key)


def string_property(node, name: str) -> str | None:
    """A string property of an MLMD artifact or execution proto (typed or custom)."""
    for table in (node.properties, node.custom_properties):
        if name in table:
            return table[name].string_value
    return None
