"""Lineage questions over ML Metadata: what produced a pushed model, what a span touched,
and what each run did.

Production asks after every incident "what produced the model that is serving now,
and what else did that data touch?"; the answers come from the events TFX records
(which execution read and wrote which artifact), never from file names. The functions
take an open MLMD store and the pipeline name, so a notebook or a scheduler asks the
same questions as `python -m pipeline lineage`:

    store = metadata_store.open_store(config, create=False)
    lineage.model_lineage(store, config.name, latest=True)
    lineage.span_lineage(store, config.name, 3)
    lineage.run_history(store, config.name)

The Evaluator reads the previous blessed model as `baseline_model`; that input is a
comparison, not an ancestor, so walks never cross it (it is reported as the baseline).
Every result carries a `graph` of the artifacts and executions it visited, for DOT.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline import mlmd_queries
from pipeline.spans import DataError

Event = metadata_store_pb2.Event
INPUTS = (Event.INPUT, Event.DECLARED_INPUT)
OUTPUTS = (Event.OUTPUT, Event.DECLARED_OUTPUT)
BASELINE_KEY = "baseline_model"  # the Evaluator's comparison input: never an ancestor


class LineageError(DataError):
    """A lineage question about something the store does not hold (exit status 2)."""


# ---------------------------------------------------------------- result types


@dataclass
class ArtifactRef:
    id: int
    type: str
    uri: str
    created: str  # ISO 8601, UTC


@dataclass
class ExecutionRef:
    id: int
    component: str  # the component id, e.g. "Trainer"
    state: str  # executed, cached, failed, ...
    run_id: str
    started: str
    finished: str


@dataclass
class Step:
    """One execution of the chain, the artifacts that matter there, and plain facts."""

    execution: Optional[ExecutionRef]
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphNode:
    id: str  # "a<artifact id>" or "e<execution id>"
    kind: str  # artifact | execution
    label: str  # artifact type or component id
    detail: str = ""  # uri tail, state, span


@dataclass
class GraphEdge:
    source: str
    target: str
    key: str  # the input or output key, e.g. "examples"


@dataclass
class Graph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)


@dataclass
class ModelLineage:
    """The chain from a pushed model back to the data, in the order of the issue:
    push, training, transform, schema, examples, validation, evaluation."""

    pipeline: str
    push: Step
    training: Step
    transform: Step
    schema: Step
    examples: Step
    validation: Step
    evaluation: Step
    graph: Graph = field(default_factory=Graph)

    STEPS = ("push", "training", "transform", "schema", "examples", "validation", "evaluation")


@dataclass
class Push:
    pushed: bool
    destination: str
    version: str
    execution: ExecutionRef


@dataclass
class ModelUse:
    """A model trained on the span and what became of it."""

    model: ArtifactRef
    trainer: ExecutionRef
    blessed: Optional[bool]  # None: never evaluated
    pushes: list[Push] = field(default_factory=list)

    @property
    def pushed(self) -> bool:
        return any(p.pushed for p in self.pushes)


@dataclass
class SpanLineage:
    pipeline: str
    span: int
    examples: list[Step]  # one per ingestion (a cached re-run reuses the artifact)
    models: list[ModelUse]
    touched: dict[str, int]  # artifact type -> how many artifacts derive from the span
    graph: Graph = field(default_factory=Graph)


@dataclass
class ComponentRun:
    component: str
    state: str
    execution_id: int


@dataclass
class RunRecord:
    run_id: str
    started: str
    finished: str
    components: list[ComponentRun]

    @property
    def state(self) -> str:
        states = {c.state for c in self.components}
        if "failed" in states:
            return "failed"
        if states & {"running", "new"}:
            return "running"
        return "complete"


@dataclass
class RunHistory:
    pipeline: str
    runs: list[RunRecord]
    graph: Graph = field(default_factory=Graph)


# ---------------------------------------------------------------- the questions


def model_lineage(store: metadata_store.MetadataStore, pipeline_name: str,
                  pushed_path: Optional[str] = None, latest: bool = False) -> ModelLineage:
    """Upstream of a pushed model (its serving folder, or the latest pushed one)."""
    walk = _Walk(store)
    pushed = (_latest_pushed(store, pipeline_name) if latest or pushed_path is None
              else _pushed_at(store, pipeline_name, pushed_path))
    push_exec = walk.producer(pushed)
    model = walk.the_input(push_exec, "model")
    blessing = walk.the_input(push_exec, "model_blessing")
    push = Step(walk.execution_ref(push_exec),
                {"pushed_model": walk.artifact_ref(pushed)},
                {"pushed": bool(_int(pushed, "pushed")),
                 "destination": mlmd_queries.string_property(pushed, "pushed_destination") or "",
                 "version": mlmd_queries.string_property(pushed, "pushed_version") or "",
                 "pushed_at": _iso(push_exec.last_update_time_since_epoch) if push_exec else ""})

    trainer = walk.producer(model)
    graph_artifact = walk.the_input(trainer, "transform_graph")
    training = Step(walk.execution_ref(trainer), _refs(walk, model=model),
                    _trainer_facts(trainer))

    # Transform writes no transformed copy of the examples; the graph leads to it.
    transform_exec = walk.producer(graph_artifact)
    transform = Step(walk.execution_ref(transform_exec),
                     _refs(walk, transform_graph=graph_artifact),
                     {"code_fingerprint": _custom_config(transform_exec).get("code", "")})

    schema_artifact, import_exec = _imported_schema(walk, walk.the_input(transform_exec,
                                                                         "schema"))
    schema = Step(walk.execution_ref(import_exec), _refs(walk, schema=schema_artifact),
                  {"schema_file": (mlmd_queries.string_property(import_exec, "schema_file")
                                   if import_exec else None) or ""})

    examples_artifact = walk.the_input(transform_exec, "examples")
    examples = _examples_step(walk, examples_artifact)

    statistics = walk.latest_output_of_consumers(examples_artifact, "statistics")
    anomalies = walk.latest_output_of_consumers(statistics, "anomalies")
    validation = Step(walk.execution_ref(walk.producer(anomalies) if anomalies else None),
                      _refs(walk, statistics=statistics, anomalies=anomalies),
                      {"anomalies": [str(a) for a in _read_anomalies(walk, anomalies)]})

    evaluator = walk.producer(blessing)
    evaluation_artifact = walk.the_output(evaluator, "evaluation")
    baseline = walk.the_input(evaluator, BASELINE_KEY, follow=False)
    # What the Evaluator scored: EvalSample's output (the eval split, or a sample of it).
    scored = walk.the_input(evaluator, "examples")
    walk.producer(scored)  # drawn in the graph: EvalSample, reading the eval split
    evaluation = Step(walk.execution_ref(evaluator),
                      _refs(walk, evaluation=evaluation_artifact, blessing=blessing,
                            scored_examples=scored),
                      {"blessed": bool(_int(blessing, "blessed")) if blessing else None,
                       "metrics": _read_metrics(walk, evaluation_artifact),
                       "baseline_model": _baseline(walk, baseline),
                       "scored_examples": _int(scored, "examples"),
                       "eval_split_examples": _int(scored, "source_examples")})
    return ModelLineage(pipeline_name, push, training, transform, schema, examples,
                        validation, evaluation, walk.graph())


def span_lineage(store: metadata_store.MetadataStore, pipeline_name: str,
                 span: int) -> SpanLineage:
    """Downstream of every ingestion of span N: each model trained on it, blessed or not,
    pushed or not, and where."""
    query = (f"type = 'Examples' AND custom_properties.span.int_value = {int(span)} "
             f"AND contexts_a.type = 'pipeline' AND contexts_a.name = '{_quote(pipeline_name)}'")
    found = store.get_artifacts(list_options=metadata_store.ListOptions(filter_query=query))
    if not found:
        known = sorted(set(_ingested_spans(store, pipeline_name)))
        raise LineageError(f"span {span} was never ingested by pipeline '{pipeline_name}' "
                           f"(ingested spans: {', '.join(map(str, known)) or 'none'})")
    walk = _Walk(store)
    examples = [_examples_step(walk, artifact) for artifact in
                sorted(found, key=lambda a: a.id)]
    reached = walk.downstream(found)
    touched: dict[str, int] = defaultdict(int)
    models = []
    for artifact in sorted(reached, key=lambda a: a.id):
        touched[walk.type_name(artifact)] += 1
        if walk.type_name(artifact) == "Model":
            models.append(_model_use(walk, artifact))
    return SpanLineage(pipeline_name, span, examples, models, dict(sorted(touched.items())),
                       walk.graph())


def run_history(store: metadata_store.MetadataStore, pipeline_name: str) -> RunHistory:
    """Every run of the pipeline, oldest first, with each component's state."""
    runs = mlmd_queries.pipeline_runs(store, pipeline_name)
    if not runs and store.get_context_by_type_and_name("pipeline", pipeline_name) is None:
        raise LineageError(f"no pipeline named '{pipeline_name}' in the metadata store")
    history = RunHistory(pipeline_name, [])
    for run in runs:
        executions = mlmd_queries.run_executions(store, run)
        started = min((e.execution.create_time_since_epoch for e in executions),
                      default=run.create_time_since_epoch)
        finished = max((e.execution.last_update_time_since_epoch for e in executions),
                       default=run.create_time_since_epoch)
        history.runs.append(RunRecord(run.name, _iso(started), _iso(finished), [
            ComponentRun(e.node, e.state, e.execution.id) for e in executions]))
    for record in history.runs:
        run_node = f"r{record.run_id}"
        history.graph.nodes.append(GraphNode(run_node, "run", record.run_id, record.state))
        for item in record.components:
            node = f"e{item.execution_id}"
            history.graph.nodes.append(GraphNode(node, "execution", item.component, item.state))
            history.graph.edges.append(GraphEdge(run_node, node, ""))
    return history


# ---------------------------------------------------------------- walking the events


class _Walk:
    """Reads events once per node and remembers what it visited, for the graph."""

    def __init__(self, store: metadata_store.MetadataStore):
        self.store = store
        self._artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self._artifacts: dict[int, metadata_store_pb2.Artifact] = {}
        self._executions: dict[int, metadata_store_pb2.Execution] = {}
        self._events_of_execution: dict[int, list] = {}
        self._events_of_artifact: dict[int, list] = {}
        self._nodes: dict[int, str] = {}
        self._runs: dict[int, str] = {}

    # events and nodes
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

    def visit_artifact(self, artifact_id: int) -> metadata_store_pb2.Artifact:
        if artifact_id not in self._artifacts:
            [self._artifacts[artifact_id]] = self.store.get_artifacts_by_id([artifact_id])
        return self._artifacts[artifact_id]

    def visit_execution(self, execution_id: int) -> metadata_store_pb2.Execution:
        if execution_id not in self._executions:
            [execution] = self.store.get_executions_by_id([execution_id])
            self._executions[execution_id] = execution
            self._nodes[execution_id] = mlmd_queries.node_of(self.store, execution)
            self._runs[execution_id] = mlmd_queries.run_of(self.store, execution)
        return self._executions[execution_id]

    def node(self, execution) -> str:
        return self._nodes[execution.id]

    def type_name(self, artifact) -> str:
        return self._artifact_types.get(artifact.type_id, str(artifact.type_id))

    # one step up or down
    def producer(self, artifact) -> Optional[metadata_store_pb2.Execution]:
        if artifact is None:
            return None
        self.visit_artifact(artifact.id)
        producers = [e.execution_id for e in self.artifact_events(artifact.id)
                     if e.type in OUTPUTS]
        return self.visit_execution(min(producers)) if producers else None

    def the_input(self, execution, key: str, follow: bool = True):
        """The first artifact the execution read under `key`; with follow=False it is
        named in the result but not drawn (the baseline model)."""
        return self._keyed(execution, key, INPUTS, visit=follow)

    def the_output(self, execution, key: str):
        return self._keyed(execution, key, OUTPUTS, visit=True)

    def _keyed(self, execution, key, types, visit):
        if execution is None:
            return None
        for event in self.execution_events(execution.id):
            if event.type in types and _key(event) == key:
                if visit:
                    return self.visit_artifact(event.artifact_id)
                [artifact] = self.store.get_artifacts_by_id([event.artifact_id])
                return artifact
        return None

    def consumers(self, artifact, skip_keys=(BASELINE_KEY,)) -> list:
        """Executions that read the artifact, oldest first; not drawn until visited."""
        if artifact is None:
            return []
        ids = sorted({e.execution_id for e in self.artifact_events(artifact.id)
                      if e.type in INPUTS and _key(e) not in skip_keys})
        # Sorted here: PostgreSQL returns them in no particular order.
        return sorted(self.store.get_executions_by_id(ids), key=lambda e: e.id) if ids else []

    def latest_output_of_consumers(self, artifact, key: str):
        """An output `key` of the latest execution that read the artifact (StatisticsGen
        for examples, ExampleValidator for statistics); cached re-runs share it."""
        for execution in reversed(self.consumers(artifact)):
            if any(e.type in OUTPUTS and _key(e) == key
                   for e in self.execution_events(execution.id)):
                self.visit_execution(execution.id)
                return self.the_output(execution, key)
        return None

    def downstream(self, start: Iterable) -> list:
        """Every artifact derived from `start`, across runs, not crossing baselines."""
        seen = {a.id for a in start}
        frontier = list(start)
        for artifact in frontier:
            self.visit_artifact(artifact.id)
        reached = []
        while frontier:
            artifact = frontier.pop()
            for execution in self.consumers(artifact):
                self.visit_execution(execution.id)
                for event in self.execution_events(execution.id):
                    if event.type in OUTPUTS and event.artifact_id not in seen:
                        seen.add(event.artifact_id)
                        child = self.visit_artifact(event.artifact_id)
                        reached.append(child)
                        frontier.append(child)
        return reached

    # references and the graph
    def artifact_ref(self, artifact) -> Optional[ArtifactRef]:
        if artifact is None:
            return None
        return ArtifactRef(artifact.id, self.type_name(artifact), artifact.uri,
                           _iso(artifact.create_time_since_epoch))

    def execution_ref(self, execution) -> Optional[ExecutionRef]:
        if execution is None:
            return None
        self.visit_execution(execution.id)
        return ExecutionRef(execution.id, self._nodes[execution.id],
                            mlmd_queries.state_of(execution), self._runs[execution.id],
                            _iso(execution.create_time_since_epoch),
                            _iso(execution.last_update_time_since_epoch))

    def graph(self) -> Graph:
        graph = Graph()
        for artifact_id, artifact in sorted(self._artifacts.items()):
            span = _int(artifact, "span")
            detail = os.path.join(*artifact.uri.rstrip("/").split("/")[-2:]) if artifact.uri else ""
            if span and self.type_name(artifact) == "Examples":
                detail = f"span {span}; {detail}"
            graph.nodes.append(GraphNode(f"a{artifact_id}", "artifact",
                                         self.type_name(artifact), detail))
        for execution_id, execution in sorted(self._executions.items()):
            graph.nodes.append(GraphNode(f"e{execution_id}", "execution",
                                         self._nodes[execution_id],
                                         mlmd_queries.state_of(execution)))
            for event in self.execution_events(execution_id):
                if event.artifact_id not in self._artifacts:
                    continue
                if event.type in INPUTS:
                    graph.edges.append(GraphEdge(f"a{event.artifact_id}", f"e{execution_id}",
                                                 _key(event)))
                elif event.type in OUTPUTS:
                    graph.edges.append(GraphEdge(f"e{execution_id}", f"a{event.artifact_id}",
                                                 _key(event)))
        return graph


# ---------------------------------------------------------------- pieces of the answers


def _latest_pushed(store, pipeline_name: str) -> metadata_store_pb2.Artifact:
    pushed = [a for a in _pushed_models(store, pipeline_name) if _int(a, "pushed")]
    if not pushed:
        raise LineageError(f"pipeline '{pipeline_name}' has not pushed any model yet")
    return max(pushed, key=lambda a: (a.create_time_since_epoch, a.id))


def _pushed_at(store, pipeline_name: str, path: str) -> metadata_store_pb2.Artifact:
    wanted = os.path.realpath(path)
    for artifact in _pushed_models(store, pipeline_name):
        destination = mlmd_queries.string_property(artifact, "pushed_destination")
        if _int(artifact, "pushed") and destination and os.path.realpath(destination) == wanted:
            return artifact
        if os.path.realpath(artifact.uri) == wanted:
            return artifact
    raise LineageError(f"{path}: not a model pushed by pipeline '{pipeline_name}' "
                       f"(expected a serving/<name>/<version> folder; try --latest)")


def _pushed_models(store, pipeline_name: str) -> list:
    query = (f"type = 'PushedModel' AND contexts_a.type = 'pipeline' "
             f"AND contexts_a.name = '{_quote(pipeline_name)}'")
    return list(store.get_artifacts(list_options=metadata_store.ListOptions(filter_query=query)))


def _ingested_spans(store, pipeline_name: str) -> list[int]:
    query = (f"type = 'Examples' AND contexts_a.type = 'pipeline' "
             f"AND contexts_a.name = '{_quote(pipeline_name)}'")
    artifacts = store.get_artifacts(list_options=metadata_store.ListOptions(filter_query=query))
    return [a.custom_properties["span"].int_value for a in artifacts
            if "span" in a.custom_properties]


def _imported_schema(walk: _Walk, schema):
    """Follows a schema up through gates (ValidationGate passes it on) to the execution
    that imported it from a file (ImportSchemaGen) or inferred it."""
    for _ in range(10):
        producer = walk.producer(schema)
        if producer is None:
            return schema, None
        if mlmd_queries.string_property(producer, "schema_file") is not None:
            return schema, producer
        upstream = walk.the_input(producer, "schema")
        if upstream is None:
            return schema, producer
        schema = upstream
    return schema, None


def _examples_step(walk: _Walk, examples) -> Step:
    example_gen = walk.producer(examples)
    statistics = walk.latest_output_of_consumers(examples, "statistics")
    version = _int(examples, "version")
    return Step(walk.execution_ref(example_gen), _refs(walk, examples=examples),
                {"span": _int(examples, "span"),
                 "version": version,
                 "input_fingerprint": (mlmd_queries.string_property(example_gen,
                                                                    "input_fingerprint")
                                       if example_gen else None) or "",
                 "input_base": (mlmd_queries.string_property(example_gen, "input_base")
                                if example_gen else None) or "",
                 "rows": _read_rows(walk, statistics)})


def _trainer_facts(trainer) -> dict:
    if trainer is None:
        return {}
    facts = {}
    for name in ("train_args", "eval_args"):
        text = mlmd_queries.string_property(trainer, name) or "{}"
        facts[name.replace("_args", "_steps")] = json.loads(text).get("num_steps")
    facts["code_fingerprint"] = _custom_config(trainer).get("code", "")
    return facts


def _custom_config(execution) -> dict:
    if execution is None:
        return {}
    text = mlmd_queries.string_property(execution, "custom_config") or "{}"
    try:
        return json.loads(text) or {}
    except ValueError:
        return {}


def _baseline(walk: _Walk, baseline) -> Optional[dict]:
    """The model the candidate was compared with, and the version it was pushed as."""
    if baseline is None:
        return None
    versions = []
    for event in walk.store.get_events_by_artifact_ids([baseline.id]):
        if event.type not in INPUTS or _key(event) != "model":
            continue
        for output in walk.store.get_events_by_execution_ids([event.execution_id]):
            if output.type in OUTPUTS and _key(output) == "pushed_model":
                [pushed] = walk.store.get_artifacts_by_id([output.artifact_id])
                if _int(pushed, "pushed"):
                    versions.append(mlmd_queries.string_property(pushed, "pushed_version"))
    return {"id": baseline.id, "uri": baseline.uri,
            "pushed_version": sorted(v for v in versions if v)[0] if any(versions) else None}


def _model_use(walk: _Walk, model) -> ModelUse:
    trainer = walk.producer(model)
    blessed = None
    pushes, seen = [], set()
    for execution in walk.consumers(model):
        blessing = walk.the_output(execution, "blessing")
        if blessing is not None:
            blessed = bool(blessed) or bool(_int(blessing, "blessed"))
        pushed = walk.the_output(execution, "pushed_model")
        # A cached Pusher execution records the push it reused: one push, listed once.
        if pushed is not None and pushed.id not in seen:
            seen.add(pushed.id)
            pushes.append(Push(bool(_int(pushed, "pushed")),
                               mlmd_queries.string_property(pushed, "pushed_destination") or "",
                               mlmd_queries.string_property(pushed, "pushed_version") or "",
                               walk.execution_ref(execution)))
    return ModelUse(walk.artifact_ref(model), walk.execution_ref(trainer), blessed, pushes)


def _read_rows(walk: _Walk, statistics) -> dict[str, int]:
    """Examples per split, from the StatisticsGen output (as the run summary reads it)."""
    if statistics is None:
        return {}
    from tfx.types import artifact_utils

    from pipeline import run_summary

    return run_summary.rows_per_split(artifact_utils.deserialize_artifact(
        walk.store.get_artifact_types_by_id([statistics.type_id])[0], statistics))


def _read_anomalies(walk: _Walk, anomalies) -> list:
    if anomalies is None:
        return []
    from tfx.types import artifact_utils

    from components import anomalies as anomalies_lib

    return anomalies_lib.read(artifact_utils.deserialize_artifact(
        walk.store.get_artifact_types_by_id([anomalies.type_id])[0], anomalies))


def _read_metrics(walk: _Walk, evaluation) -> dict[str, float]:
    if evaluation is None:
        return {}
    from pipeline import run_summary

    return run_summary.overall_metrics(evaluation.uri)


def _refs(walk: _Walk, **artifacts) -> dict[str, ArtifactRef]:
    return {name: walk.artifact_ref(a) for name, a in artifacts.items() if a is not None}


def _key(event) -> str:
    return next((s.key for s in event.path.steps if s.HasField("key")), "")


def _int(node, name: str) -> Optional[int]:
    if node is None:
        return None
    for table in (node.properties, node.custom_properties):
        if name in table:
            return table[name].int_value
    return None


def _iso(millis: int) -> str:
    if not millis:
        return ""
    moment = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
