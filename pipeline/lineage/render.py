"""The three faces of a lineage answer: a tree for a terminal, JSON for programs, and a
Graphviz graph of artifacts and executions.

JSON is stable: an object with "kind" ("model", "span" or "runs"), "format_version"
(1; bumped only when a key changes meaning or disappears) and the result's fields
exactly as the dataclasses in pipeline/lineage/types.py name them (ISO 8601 UTC times, MLMD
ids as integers). "graph" holds {"nodes": [{id, kind, label, detail}], "edges":
[{source, target, key}]}. A model answer has one object per step (push, training,
transform, schema, examples, validation, evaluation), each {execution, artifacts,
facts}; the facts per step are listed in README.md ("Lineage").
"""

from __future__ import annotations

import dataclasses
import json
from typing import Union

from pipeline.lineage.types import (ArtifactRef, ExecutionRef, Graph, ModelLineage, RunHistory,
                                    SpanLineage)

FORMAT_VERSION = 1
Answer = Union[ModelLineage, SpanLineage, RunHistory]
_KINDS = {ModelLineage: "model", SpanLineage: "span", RunHistory: "runs"}


def render(answer: Answer, output_format: str) -> str:
    if output_format == "json":
        return to_json(answer)
    if output_format == "dot":
        return to_dot(answer.graph, title=_title(answer))
    return to_text(answer)


# ---------------------------------------------------------------- json


def to_json(answer: Answer) -> str:
    data = {"kind": _KINDS[type(answer)], "format_version": FORMAT_VERSION,
            **dataclasses.asdict(answer)}
    if isinstance(answer, SpanLineage):
        for use, model in zip(answer.models, data["models"]):
            model["pushed"] = use.pushed
    if isinstance(answer, RunHistory):
        for record, run in zip(answer.runs, data["runs"]):
            run["state"] = record.state
    return json.dumps(data, indent=2, sort_keys=False)


# ---------------------------------------------------------------- text tree


Tree = tuple  # (label, [children])


def to_text(answer: Answer) -> str:
    if isinstance(answer, ModelLineage):
        tree = _model_tree(answer)
    elif isinstance(answer, SpanLineage):
        tree = _span_tree(answer)
    else:
        tree = _runs_tree(answer)
    return "\n".join(_draw(tree))


def _draw(tree: Tree, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
    label, children = tree
    lines = [label if root else f"{prefix}{'└── ' if last else '├── '}{label}"]
    inner = "" if root else prefix + ("    " if last else "│   ")
    for index, child in enumerate(children):
        lines += _draw(child, inner, index == len(children) - 1, root=False)
    return lines


def _leaf(text: str) -> Tree:
    return (text, [])


def _execution(ref: ExecutionRef | None) -> str:
    if ref is None:
        return "(no execution recorded)"
    return f"{ref.component} (execution {ref.id}, {ref.state}, run {ref.run_id})"


def _artifact(name: str, ref: ArtifactRef | None) -> Tree:
    if ref is None:
        return _leaf(f"{name}: (none)")
    return _leaf(f"{name}: {ref.type} #{ref.id} {ref.uri}")


def _model_tree(answer: ModelLineage) -> Tree:
    push, training, transform = answer.push, answer.training, answer.transform
    schema, examples, validation, evaluation = (answer.schema, answer.examples,
                                                answer.validation, answer.evaluation)
    facts = push.facts
    push_node = (f"Push: {_execution(push.execution)} at {facts.get('pushed_at')}",
                 [_leaf(f"destination: {facts.get('destination')} (version "
                        f"{facts.get('version')}, pushed: {_yes(facts.get('pushed'))})")])
    model = training.artifacts.get("model")
    training_node = (f"Model: #{model.id} {model.uri}" if model else "Model: (none)", [
        (_execution(training.execution), [
            _leaf(f"train steps {training.facts.get('train_steps')}, eval steps "
                  f"{training.facts.get('eval_steps')}"),
            _leaf(f"code fingerprint (components/, models/): "
                  f"{training.facts.get('code_fingerprint')}")])])
    transform_node = (_execution(transform.execution), [
        _artifact("transform graph", transform.artifacts.get("transform_graph"))])
    schema_node = (f"Schema: {_ref_text(schema.artifacts.get('schema'))}", [
        _leaf(f"{_execution(schema.execution)} from {schema.facts.get('schema_file') or '?'}")])
    examples_node = _examples_tree(examples)
    anomalies = validation.facts.get("anomalies") or []
    validation_node = ("Statistics and anomalies", [
        _artifact("statistics", validation.artifacts.get("statistics")),
        (f"anomalies: {len(anomalies) or 'none'} "
         f"({_ref_text(validation.artifacts.get('anomalies'))}, "
         f"{_execution(validation.execution)})", [_leaf(a) for a in anomalies])])
    metrics = evaluation.facts.get("metrics") or {}
    baseline = evaluation.facts.get("baseline_model")
    baseline_text = ("none (first model: absolute thresholds only)" if baseline is None else
                     f"Model #{baseline['id']} {baseline['uri']}"
                     + (f" (pushed as version {baseline['pushed_version']})"
                        if baseline.get("pushed_version") else ""))
    evaluation_node = (f"Evaluation: {_execution(evaluation.execution)}", [
        _artifact("evaluation", evaluation.artifacts.get("evaluation")),
        _leaf(f"scored: {_scored_text(evaluation.facts)} "
              f"({_ref_text(evaluation.artifacts.get('scored_examples'))})"),
        _leaf("metrics (overall): " + (", ".join(f"{k} {v:.4f}" for k, v in
                                                 sorted(metrics.items())) or "none")),
        _leaf(f"blessing: {_blessing(evaluation.facts.get('blessed'))} "
              f"({_ref_text(evaluation.artifacts.get('blessing'))})"),
        _leaf(f"baseline: {baseline_text}")])
    title = (f"Pushed model {facts.get('version')} of pipeline '{answer.pipeline}' "
             f"({facts.get('destination')})")
    return (title, [push_node, training_node, transform_node, schema_node, examples_node,
                    validation_node, evaluation_node])


def _scored_text(facts: dict) -> str:
    scored, split = facts.get("scored_examples"), facts.get("eval_split_examples")
    if scored is None:
        return "?"
    if split is None or scored == split:
        return f"the whole eval split ({scored:,} examples)"
    return f"a sample of {scored:,} of the eval split's {split:,} examples"


def _examples_tree(step) -> Tree:
    facts = step.facts
    rows = facts.get("rows") or {}
    return (f"Examples: {_ref_text(step.artifacts.get('examples'))}", [
        _leaf(f"span {facts.get('span')}, version "
              f"{facts.get('version') if facts.get('version') is not None else '-'}"),
        _leaf(f"input: {facts.get('input_base')} fingerprint {facts.get('input_fingerprint')}"),
        _leaf("rows: " + (", ".join(f"{split} {count}" for split, count in
                                    sorted(rows.items())) or "unknown")),
        _leaf(_execution(step.execution))])


def _span_tree(answer: SpanLineage) -> Tree:
    children = [_examples_tree(step) for step in answer.examples]
    models = []
    for use in answer.models:
        pushes = [_leaf(f"pushed to {p.destination} (version {p.version}, run "
                        f"{p.execution.run_id})" if p.pushed
                        else f"not pushed (run {p.execution.run_id})") for p in use.pushes]
        models.append((f"Model #{use.model.id} {use.model.uri}", [
            _leaf(f"trained by {_execution(use.trainer)}"),
            _leaf(f"blessing: {_blessing(use.blessed)}"),
            *(pushes or [_leaf("never pushed")])]))
    children.append((f"Models trained on span {answer.span}: {len(answer.models)}",
                     models))
    children.append(_leaf("Touched: " + ", ".join(f"{count} {kind}" for kind, count in
                                                  answer.touched.items())))
    return (f"Span {answer.span} of pipeline '{answer.pipeline}'", children)


def _runs_tree(answer: RunHistory) -> Tree:
    runs = []
    for record in answer.runs:
        runs.append((f"Run {record.run_id}: {record.state}, {record.started} → "
                     f"{record.finished}",
                     [_leaf(f"{c.component:<30} {c.state}") for c in record.components]
                     + ([_leaf(f"report: {record.report}")] if record.report else [])))
    return (f"Runs of pipeline '{answer.pipeline}': {len(answer.runs)}", runs)


def _ref_text(ref: ArtifactRef | None) -> str:
    return f"{ref.type} #{ref.id} {ref.uri}" if ref else "(none)"


def _blessing(blessed) -> str:
    return {True: "BLESSED", False: "NOT BLESSED", None: "not evaluated"}[blessed]


def _yes(value) -> str:
    return "yes" if value else "no"


# ---------------------------------------------------------------- dot


_STATE_COLOURS = {"executed": "palegreen", "cached": "lightblue", "failed": "salmon",
                  "complete": "palegreen", "running": "khaki"}


def to_dot(graph: Graph, title: str = "lineage") -> str:
    """Artifacts as boxes, executions as ellipses coloured by state, runs as notes."""
    lines = ["digraph lineage {", f"  label={_quoted(title)};", "  labelloc=t;",
             "  rankdir=LR;", "  node [fontsize=10];", "  edge [fontsize=8];"]
    for node in graph.nodes:
        text = _escape(node.label) + (f"\\n{_escape(node.detail)}" if node.detail else "")
        if node.kind == "artifact":
            style = "shape=box, style=filled, fillcolor=lightyellow"
        else:
            shape = "note" if node.kind == "run" else "ellipse"
            colour = _STATE_COLOURS.get(node.detail, "white")
            style = f"shape={shape}, style=filled, fillcolor={colour}"
        lines.append(f"  {_quoted(node.id)} [label=\"{text}\", {style}];")
    for edge in graph.edges:
        label = f" [label={_quoted(edge.key)}]" if edge.key else ""
        lines.append(f"  {_quoted(edge.source)} -> {_quoted(edge.target)}{label};")
    lines.append("}")
    return "\n".join(lines)


def _title(answer: Answer) -> str:
    if isinstance(answer, ModelLineage):
        return f"{answer.pipeline}: pushed model {answer.push.facts.get('version')}"
    if isinstance(answer, SpanLineage):
        return f"{answer.pipeline}: span {answer.span}"
    return f"{answer.pipeline}: runs"


def _quoted(text: str) -> str:
    return '"' + _escape(text) + '"'


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')
