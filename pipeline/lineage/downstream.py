"""Downstream of a span (every model trained on it, blessed or not, pushed or not, and
where) and the history of the pipeline's runs."""

from __future__ import annotations

from collections import defaultdict

from ml_metadata import metadata_store

from pipeline.lineage.model import examples_step
from pipeline.lineage.refs import artifact_ref, execution_ref, graph
from pipeline.lineage.types import (ComponentRun, GraphEdge, GraphNode, LineageError, ModelUse,
                                    Push, RunHistory, RunRecord, SpanLineage)
from pipeline.metadata.walker import REPORT_PROPERTY, Walker, int_property, iso, string_property


def span_lineage(store: metadata_store.MetadataStore, pipeline_name: str,
                 span: int) -> SpanLineage:
    """Downstream of every ingestion of span N: each model trained on it, blessed or not,
    pushed or not, and where."""
    walk = Walker(store, pipeline_name)
    found = walk.find_artifacts("Examples", f"custom_properties.span.int_value = {int(span)}")
    if not found:
        known = sorted({int_property(a, "span") for a in walk.find_artifacts("Examples")
                        if int_property(a, "span") is not None})
        raise LineageError(f"span {span} was never ingested by pipeline '{pipeline_name}' "
                           f"(ingested spans: {', '.join(map(str, known)) or 'none'})")
    examples = [examples_step(walk, artifact) for artifact in found]
    touched: dict[str, int] = defaultdict(int)
    models = []
    for artifact in sorted(walk.downstream(found), key=lambda a: a.id):
        touched[walk.type_name(artifact)] += 1
        if walk.type_name(artifact) == "Model":
            models.append(_model_use(walk, artifact))
    return SpanLineage(pipeline_name, span, examples, models, dict(sorted(touched.items())),
                       graph(walk))


def run_history(store: metadata_store.MetadataStore, pipeline_name: str) -> RunHistory:
    """Every run of the pipeline, oldest first, with each component's state."""
    walk = Walker(store, pipeline_name)
    runs = walk.runs()
    if not runs and not walk.has_pipeline():
        raise LineageError(f"no pipeline named '{pipeline_name}' in the metadata store")
    history = RunHistory(pipeline_name, [])
    for run in runs:
        executions = walk.run_executions(run)
        started = min((e.execution.create_time_since_epoch for e in executions),
                      default=run.create_time_since_epoch)
        finished = max((e.execution.last_update_time_since_epoch for e in executions),
                       default=run.create_time_since_epoch)
        history.runs.append(RunRecord(run.name, iso(started), iso(finished), [
            ComponentRun(e.node, e.state, e.execution.id) for e in executions],
            string_property(run, REPORT_PROPERTY) or ""))
    for record in history.runs:
        run_node = f"r{record.run_id}"
        history.graph.nodes.append(GraphNode(run_node, "run", record.run_id, record.state))
        for item in record.components:
            node = f"e{item.execution_id}"
            history.graph.nodes.append(GraphNode(node, "execution", item.component, item.state))
            history.graph.edges.append(GraphEdge(run_node, node, ""))
    return history


def _model_use(walk: Walker, model) -> ModelUse:
    trainer = walk.producer(model)
    blessed = None
    pushes, seen = [], set()
    for execution in walk.consumers(model):
        blessing = walk.the_output(execution, "blessing")
        if blessing is not None:
            blessed = bool(blessed) or bool(int_property(blessing, "blessed"))
        pushed = walk.the_output(execution, "pushed_model")
        # A cached Pusher execution records the push it reused: one push, listed once.
        if pushed is not None and pushed.id not in seen:
            seen.add(pushed.id)
            pushes.append(Push(bool(int_property(pushed, "pushed")),
                               string_property(pushed, "pushed_destination") or "",
                               string_property(pushed, "pushed_version") or "",
                               execution_ref(walk, execution)))
    return ModelUse(artifact_ref(walk, model), execution_ref(walk, trainer), blessed, pushes)
