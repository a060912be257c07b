"""The one walker over ML Metadata, scoped to one pipeline's context.

TFX attaches each execution to three contexts: the pipeline, the pipeline run (named by
its run id) and the node (`<pipeline>.<component id>`), and records which execution read
and wrote which artifact as input/output events. Every "what produced / what used"
question (lineage, a pushed model's training data, the run summary) is a walk over those
events; this class is that walk. It reads each node's events once and remembers what it
visited, so an answer can also draw the part of the graph it crossed.

Only ml_metadata is imported: a command that asks ML Metadata a question does not load
TensorFlow, TFX or TFMA for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.metadata.records import (  # noqa: F401  (re-exported for the walk's users)
    event_key, int_property, iso, state_of, string_property)

Artifact = metadata_store_pb2.Artifact
Execution = metadata_store_pb2.Execution
Event = metadata_store_pb2.Event
INPUTS = (Event.INPUT, Event.DECLARED_INPUT)
OUTPUTS = (Event.OUTPUT, Event.DECLARED_OUTPUT)
PIPELINE, PIPELINE_RUN, NODE = "pipeline", "pipeline_run", "node"
# The Evaluator reads the previous blessed model under this key: a comparison, not an
# ancestor, so walks never cross it.
BASELINE_KEY = "baseline_model"
# The run context's custom property naming the run's HTML report (pipeline/summary/html.py).
REPORT_PROPERTY = "report_html"
# The run context's custom property holding the digest of a complete run's inputs
# (pipeline/runners/unchanged.py).
INPUTS_DIGEST_PROPERTY = "conveyor_inputs_digest"

@dataclass(frozen=True)
class NodeExecution:
    node: str  # the component id, e.g. "Trainer"
    state: str  # executed, cached, failed, ...
    execution: Execution


class Walker:
    """Questions over one pipeline's executions and artifacts in an MLMD store."""

    def __init__(self, store: metadata_store.MetadataStore, pipeline_name: str):
        self.store, self.pipeline_name = store, pipeline_name
        self._artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self.artifacts: dict[int, Artifact] = {}  # visited, for the graph
        self.executions: dict[int, Execution] = {}
        self._events_of_execution: dict[int, list] = {}
        self._events_of_artifact: dict[int, list] = {}
        self._nodes: dict[int, str] = {}
        self._runs: dict[int, str] = {}

    # ---- the pipeline's scope
    def find_artifacts(self, type_name: str, condition: str = "") -> list[Artifact]:
        """The pipeline's artifacts of a type, optionally filtered (an MLMD filter query)."""
        query = (f"type = '{_quote(type_name)}' AND contexts_a.type = '{PIPELINE}' "
                 f"AND contexts_a.name = '{_quote(self.pipeline_name)}'")
        if condition:
            query += f" AND {condition}"
        options = metadata_store.ListOptions(filter_query=query)
        return sorted(self.store.get_artifacts(list_options=options), key=lambda a: a.id)

    def runs(self) -> list[metadata_store_pb2.Context]:
        """Every run context of the pipeline, oldest first."""
        runs = [c for c in self._in_pipeline(self.store.get_children_contexts_by_context)
                if c.type == PIPELINE_RUN]
        return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))

    def latest_run(self, pipeline_root: Optional[str] = None
                   ) -> Optional[metadata_store_pb2.Context]:
        """The pipeline's most recently created run context; with `pipeline_root`, the
        latest run of that workspace: workspaces sharing one store may run pipelines of
        the same name, and only the artifact URIs tell their runs apart."""
        for run in reversed(self.runs()):
            if pipeline_root is None or self._writes_under(run, pipeline_root):
                return run
        return None

    def _writes_under(self, run: metadata_store_pb2.Context, pipeline_root: str) -> bool:
        """Whether the run's executions read or wrote artifacts under `pipeline_root`, or
        none at all (a run that failed before registering any: the health check's rule)."""
        ids = [e.id for e in self.store.get_executions_by_context(run.id)]
        events = self.store.get_events_by_execution_ids(ids) if ids else []
        artifact_ids = sorted({e.artifact_id for e in events})
        if not artifact_ids:
            return True
        return any(under(a.uri, pipeline_root)
                   for a in self.store.get_artifacts_by_id(artifact_ids))

    def pipeline_executions(self) -> list[Execution]:
        """Every execution of the pipeline, of any run, oldest first."""
        return sorted(self._in_pipeline(self.store.get_executions_by_context),
                      key=lambda e: e.id)

    def pipeline_artifacts(self) -> list[Artifact]:
        """Every artifact of the pipeline, of any run, oldest first."""
        return sorted(self._in_pipeline(self.store.get_artifacts_by_context), key=lambda a: a.id)

    def run(self, run_id: str) -> Optional[metadata_store_pb2.Context]:
        """The pipeline's run context named `run_id`, or None."""
        return next((c for c in self.runs() if c.name == run_id), None)

    def has_pipeline(self) -> bool:
        return self._pipeline_context() is not None

    def _pipeline_context(self) -> Optional[metadata_store_pb2.Context]:
        return self.store.get_context_by_type_and_name(PIPELINE, self.pipeline_name)

    def _in_pipeline(self, fetch) -> list:
        """`fetch(context id)` for the pipeline's context; nothing when the store has none."""
        context = self._pipeline_context()
        return list(fetch(context.id)) if context is not None else []

    def run_executions(self, run: metadata_store_pb2.Context) -> list[NodeExecution]:
        """The run's executions in the order they started, each named by its component id."""
        executions = sorted(self.store.get_executions_by_context(run.id),
                            key=lambda e: (e.create_time_since_epoch, e.id))
        return [NodeExecution(self.node_of(e), state_of(e), e) for e in executions]

    def node_of(self, execution: Execution) -> str:
        """The component id of an execution (e.g. "Trainer"), from its node context."""
        if execution.id not in self._nodes:
            self._contexts_of(execution)
        return self._nodes[execution.id]

    def run_of(self, execution: Execution) -> str:
        """The run id (the pipeline_run context's name) an execution belongs to."""
        if execution.id not in self._runs:
            self._contexts_of(execution)
        return self._runs[execution.id]

    def _contexts_of(self, execution: Execution) -> None:
        contexts = self.store.get_contexts_by_execution(execution.id)
        nodes = [c.name.split(".", 1)[-1] for c in contexts if c.type == NODE]
        runs = [c.name for c in contexts if c.type == PIPELINE_RUN]
        self._nodes[execution.id] = nodes[0] if nodes else execution.type
        self._runs[execution.id] = runs[0] if runs else ""

    # ---- events, read once per node
    def execution_events(self, execution_id: int) -> list:
        if execution_id not in self._events_of_execution:
            self._events_of_execution[execution_id] = list(
                self.store.get_events_by_execution_ids([execution_id]))
        return self._events_of_execution[execution_id]

    def artifact_events(self, artifact_id: int) -> list:
        if artifact_id not in self._events_of_artifact:
            self._events_of_artifact[artifact_id] = list(
                self.store.get_events_by_artifact_ids([artifact_id]))
        return self._events_of_artifact[artifact_id]

    def visit_artifact(self, artifact_id: int) -> Artifact:
        if artifact_id not in self.artifacts:
            [self.artifacts[artifact_id]] = self.store.get_artifacts_by_id([artifact_id])
        return self.artifacts[artifact_id]

    def visit_execution(self, execution_id: int) -> Execution:
        if execution_id not in self.executions:
            [execution] = self.store.get_executions_by_id([execution_id])
            self.executions[execution_id] = execution
            self._contexts_of(execution)
        return self.executions[execution_id]

    def type_name(self, artifact: Artifact) -> str:
        return self._artifact_types.get(artifact.type_id, str(artifact.type_id))

    # ---- one step up or down
    def producer(self, artifact: Optional[Artifact]) -> Optional[Execution]:
        if artifact is None:
            return None
        self.visit_artifact(artifact.id)
        producers = [e.execution_id for e in self.artifact_events(artifact.id)
                     if e.type in OUTPUTS]
        return self.visit_execution(min(producers)) if producers else None

    def the_input(self, execution: Optional[Execution], key: str,
                  follow: bool = True) -> Optional[Artifact]:
        """The first artifact the execution read under `key`; with follow=False it is
        returned but not drawn (the baseline model)."""
        return self._keyed(execution, key, INPUTS, visit=follow)

    def the_output(self, execution: Optional[Execution], key: str) -> Optional[Artifact]:
        return self._keyed(execution, key, OUTPUTS, visit=True)

    def _keyed(self, execution, key, types, visit):
        if execution is None:
            return None
        for event in self.execution_events(execution.id):
            if event.type in types and event_key(event) == key:
                if visit:
                    return self.visit_artifact(event.artifact_id)
                [artifact] = self.store.get_artifacts_by_id([event.artifact_id])
                return artifact
        return None

    def outputs(self, execution: Execution) -> dict[str, list[Artifact]]:
        """An execution's output artifacts by output key (not drawn)."""
        events = [e for e in self.execution_events(execution.id) if e.type in OUTPUTS]
        found = {a.id: a for a in self.store.get_artifacts_by_id(
            [e.artifact_id for e in events])} if events else {}
        by_key: dict[str, list[Artifact]] = {}
        for event in events:
            by_key.setdefault(event_key(event), []).append(found[event.artifact_id])
        return by_key

    def consumers(self, artifact: Optional[Artifact],
                  skip_keys=(BASELINE_KEY,)) -> list[Execution]:
        """Executions that read the artifact, oldest first; not drawn until visited."""
        if artifact is None:
            return []
        ids = sorted({e.execution_id for e in self.artifact_events(artifact.id)
                      if e.type in INPUTS and event_key(e) not in skip_keys})
        # Sorted here: PostgreSQL returns them in no particular order.
        return sorted(self.store.get_executions_by_id(ids), key=lambda e: e.id) if ids else []

    def latest_output_of_consumers(self, artifact: Optional[Artifact],
                                   key: str) -> Optional[Artifact]:
        """An output `key` of the latest execution that read the artifact (StatisticsGen
        for examples, ExampleValidator for statistics); cached re-runs share it."""
        for execution in reversed(self.consumers(artifact)):
            if any(e.type in OUTPUTS and event_key(e) == key
                   for e in self.execution_events(execution.id)):
                self.visit_execution(execution.id)
                return self.the_output(execution, key)
        return None

    def downstream(self, start: Iterable[Artifact]) -> list[Artifact]:
        """Every artifact derived from `start`, across runs, not crossing baselines."""
        start = list(start)
        seen = {a.id for a in start}
        for artifact in start:
            self.visit_artifact(artifact.id)
        frontier, reached = list(start), []
        while frontier:
            for execution in self.consumers(frontier.pop()):
                self.visit_execution(execution.id)
                for event in self.execution_events(execution.id):
                    if event.type in OUTPUTS and event.artifact_id not in seen:
                        seen.add(event.artifact_id)
                        child = self.visit_artifact(event.artifact_id)
                        reached.append(child)
                        frontier.append(child)
        return reached

    def upstream(self, artifact: Optional[Artifact], key: str,
                 until) -> tuple[Optional[Artifact], Optional[Execution]]:
        """Follows `key` inputs up from the artifact's producer until `until(producer)`
        holds (or nothing is upstream): (the artifact reached, its producer). Each step
        visits a new artifact, so a cycle in a malformed store ends the walk."""
        seen = set()
        while artifact is not None and artifact.id not in seen:
            seen.add(artifact.id)
            producer = self.producer(artifact)
            if producer is None or until(producer):
                return artifact, producer
            upstream = self.the_input(producer, key)
            if upstream is None:
                return artifact, producer
            artifact = upstream
        return artifact, None

    # ---- pushed models
    def pushed_models(self) -> list[Artifact]:
        return self.find_artifacts("PushedModel")

    def latest_pushed(self) -> Optional[Artifact]:
        pushed = [a for a in self.pushed_models() if int_property(a, "pushed")]
        return max(pushed, key=lambda a: (a.create_time_since_epoch, a.id), default=None)

    def pushed_at(self, path: str) -> Optional[Artifact]:
        """The push whose version folder (or PushedModel artifact folder) is `path`."""
        wanted = os.path.realpath(path)
        for artifact in self.pushed_models():
            destination = string_property(artifact, "pushed_destination")
            if int_property(artifact, "pushed") and destination \
                    and os.path.realpath(destination) == wanted:
                return artifact
            if os.path.realpath(artifact.uri) == wanted:
                return artifact
        return None

    def training_examples(self, pushed: Artifact) -> Optional[Artifact]:
        """The Examples the pushed model was trained on: push <- model <- Trainer's input."""
        model = self.the_input(self.producer(pushed), "model")
        return self.the_input(self.producer(model), "examples")


def set_run_property(store: metadata_store.MetadataStore, pipeline_name: str, run_id: str,
                     name: str, value: str) -> None:
    """Sets a string custom property of the pipeline's run context `run_id`."""
    run = Walker(store, pipeline_name).run(run_id)
    if run is None:
        raise LookupError(f"no run '{run_id}' of pipeline '{pipeline_name}' in ML Metadata")
    run.custom_properties[name].string_value = value
    store.put_contexts([run])


def under(uri: str, root: str) -> bool:
    """Whether `uri` is `root` or inside it (not merely sharing its prefix)."""
    return uri == root or uri.startswith(root.rstrip("/") + "/")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
