"""Upstream of a pushed model: the push, the training, the transform, the schema, the
examples, their validation and the evaluation that blessed the model.

The answers come from the events TFX records (which execution read and wrote which
artifact), never from file names. The Evaluator reads the previous blessed model as
`baseline_model`; that input is a comparison, not an ancestor, so the walk never crosses
it (it is reported as the baseline).
"""

from __future__ import annotations

import json
from typing import Optional

from ml_metadata import metadata_store

from pipeline import evaluation as evaluation_files, readers
from pipeline.lineage.refs import artifact_ref, artifact_refs, execution_ref, graph
from pipeline.lineage.types import LineageError, ModelLineage, Step
from pipeline.metadata.walker import (BASELINE_KEY, INPUTS, OUTPUTS, Walker, event_key,
                                      int_property, iso, string_property)


def model_lineage(store: metadata_store.MetadataStore, pipeline_name: str,
                  pushed_path: Optional[str] = None, latest: bool = False) -> ModelLineage:
    """Upstream of a pushed model (its serving folder, or the latest pushed one)."""
    walk = Walker(store, pipeline_name)
    pushed = _find_push(walk, None if latest else pushed_path)
    push_exec = walk.producer(pushed)
    model = walk.the_input(push_exec, "model")
    trainer = walk.producer(model)
    transform_exec = walk.producer(walk.the_input(trainer, "transform_graph"))
    examples = walk.the_input(transform_exec, "examples")
    return ModelLineage(
        pipeline_name,
        push=_push_step(walk, pushed, push_exec),
        training=Step(execution_ref(walk, trainer), artifact_refs(walk, model=model),
                      _trainer_facts(trainer)),
        # Transform writes no transformed copy of the examples; the graph leads to it.
        transform=Step(execution_ref(walk, transform_exec),
                       artifact_refs(walk, transform_graph=walk.the_input(trainer,
                                                                          "transform_graph")),
                       {"code_fingerprint": _custom_config(transform_exec).get("code", "")}),
        schema=_schema_step(walk, walk.the_input(transform_exec, "schema")),
        examples=examples_step(walk, examples),
        validation=_validation_step(walk, examples),
        evaluation=_evaluation_step(walk, walk.the_input(push_exec, "model_blessing")),
        graph=graph(walk))


def examples_step(walk: Walker, examples) -> Step:
    """An ingestion: its span and version, what it read and how many rows per split."""
    example_gen = walk.producer(examples)
    statistics = walk.latest_output_of_consumers(examples, "statistics")
    return Step(execution_ref(walk, example_gen), artifact_refs(walk, examples=examples),
                {"span": int_property(examples, "span"),
                 "version": int_property(examples, "version"),
                 "input_fingerprint": string_property(example_gen, "input_fingerprint") or "",
                 "input_base": string_property(example_gen, "input_base") or "",
                 "rows": readers.rows_per_split(statistics) if statistics else {}})


def _find_push(walk: Walker, pushed_path: Optional[str]):
    if pushed_path is None:
        pushed = walk.latest_pushed()
        if pushed is None:
            raise LineageError(f"pipeline '{walk.pipeline_name}' has not pushed any model yet")
        return pushed
    pushed = walk.pushed_at(pushed_path)
    if pushed is None:
        raise LineageError(f"{pushed_path}: not a model pushed by pipeline "
                           f"'{walk.pipeline_name}' (expected a serving/<name>/<version> "
                           f"folder; try --latest)")
    return pushed


def _push_step(walk: Walker, pushed, push_exec) -> Step:
    return Step(execution_ref(walk, push_exec), {"pushed_model": artifact_ref(walk, pushed)},
                {"pushed": bool(int_property(pushed, "pushed")),
                 "destination": string_property(pushed, "pushed_destination") or "",
                 "version": string_property(pushed, "pushed_version") or "",
                 "pushed_at": iso(push_exec.last_update_time_since_epoch) if push_exec else ""})


def _schema_step(walk: Walker, schema) -> Step:
    """The schema, followed up through gates (ValidationGate passes it on) to the execution
    that imported it from a file (ImportSchemaGen) or inferred it."""
    schema, importer = walk.upstream(
        schema, "schema", until=lambda e: string_property(e, "schema_file") is not None)
    return Step(execution_ref(walk, importer), artifact_refs(walk, schema=schema),
                {"schema_file": string_property(importer, "schema_file") or ""})


def _validation_step(walk: Walker, examples) -> Step:
    statistics = walk.latest_output_of_consumers(examples, "statistics")
    anomalies = walk.latest_output_of_consumers(statistics, "anomalies")
    return Step(execution_ref(walk, walk.producer(anomalies) if anomalies else None),
                artifact_refs(walk, statistics=statistics, anomalies=anomalies),
                {"anomalies": [str(a) for a in readers.anomalies(anomalies)]
                 if anomalies else []})


def _evaluation_step(walk: Walker, blessing) -> Step:
    evaluator = walk.producer(blessing)
    evaluation = walk.the_output(evaluator, "evaluation")
    baseline = walk.the_input(evaluator, BASELINE_KEY, follow=False)
    # What the Evaluator scored: EvalSample's output (the eval split, or a sample of it).
    scored = walk.the_input(evaluator, "examples")
    walk.producer(scored)  # drawn in the graph: EvalSample, reading the eval split
    return Step(execution_ref(walk, evaluator),
                artifact_refs(walk, evaluation=evaluation, blessing=blessing,
                              scored_examples=scored),
                {"blessed": bool(int_property(blessing, "blessed")) if blessing else None,
                 "metrics": (evaluation_files.overall_metrics(evaluation.uri) if evaluation
                             else {}),
                 "baseline_model": _baseline(walk, baseline),
                 "scored_examples": int_property(scored, "examples"),
                 "eval_split_examples": int_property(scored, "source_examples")})


def _trainer_facts(trainer) -> dict:
    if trainer is None:
        return {}
    facts = {}
    for name in ("train_args", "eval_args"):
        text = string_property(trainer, name) or "{}"
        facts[name.replace("_args", "_steps")] = json.loads(text).get("num_steps")
    facts["code_fingerprint"] = _custom_config(trainer).get("code", "")
    return facts


def _custom_config(execution) -> dict:
    text = string_property(execution, "custom_config") or "{}"
    try:
        return json.loads(text) or {}
    except ValueError:
        return {}


def _baseline(walk: Walker, baseline) -> Optional[dict]:
    """The model the candidate was compared with, and the version it was pushed as.
    Read without visiting, so the graph does not draw the comparison as an ancestor."""
    if baseline is None:
        return None
    versions = []
    for event in walk.store.get_events_by_artifact_ids([baseline.id]):
        if event.type not in INPUTS or event_key(event) != "model":
            continue
        for output in walk.store.get_events_by_execution_ids([event.execution_id]):
            if output.type in OUTPUTS and event_key(output) == "pushed_model":
                [pushed] = walk.store.get_artifacts_by_id([output.artifact_id])
                if int_property(pushed, "pushed"):
                    versions.append(string_property(pushed, "pushed_version"))
    return {"id": baseline.id, "uri": baseline.uri,
            "pushed_version": sorted(v for v in versions if v)[0] if any(versions) else None}
