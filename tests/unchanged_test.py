"""The no-change digest (pipeline/runners/unchanged.py): the same inputs give the same
digest, and each input it covers changes it. tests/pipeline_e2e_test.py checks the answer
a real unchanged run gives."""

from __future__ import annotations

import os
import shutil

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline import config as config_lib
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import INPUTS_DIGEST_PROPERTY, Walker, string_property
from pipeline.runners import unchanged
from pipeline.summary.summary import summarize
from pipeline.source_tree import ROOT
from tests.conftest import TAXI_SCHEMA, slice_spans, taxi_config


@pytest.fixture
def setup(tmp_path):
    data = slice_spans(tmp_path / "data", 50, spans=(1, 2))
    schema = tmp_path / "schema.pbtxt"
    shutil.copy(TAXI_SCHEMA, schema)
    path = taxi_config(tmp_path / "taxi.toml", data, train_steps=10)
    path.write_text(path.read_text().replace(str(TAXI_SCHEMA), str(schema)))
    code = tmp_path / "code"
    for package in unchanged.CODE_PACKAGES:
        shutil.copytree(ROOT / package, code / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    config = config_lib.load(path).with_overrides(workspace=tmp_path / "ws")
    return config, data, schema, code


def digest(config, code) -> str:
    return unchanged.inputs_digest(config, code_root=code)


def test_the_same_inputs_give_the_same_digest(setup):
    config, _, _, code = setup
    assert digest(config, code) == digest(config_lib.load(config.source).with_overrides(
        workspace=config.workspace), code)


def test_a_touched_data_file_of_the_span_changes_it(setup):
    config, data, _, code = setup
    before = digest(config, code)
    older = data / "span-1" / "data.csv"  # not the span this run ingests
    os.utime(older, ns=(0, 0))
    assert digest(config, code) == before
    latest = data / "span-2" / "data.csv"
    stat = latest.stat()
    os.utime(latest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert digest(config, code) != before


def test_a_new_span_changes_it(setup):
    config, data, _, code = setup
    before = digest(config, code)
    (data / "span-3").mkdir()
    shutil.copy(data / "span-2" / "data.csv", data / "span-3" / "data.csv")
    assert digest(config, code) != before


def test_the_schema_the_config_and_the_overrides_change_it(setup):
    config, _, schema, code = setup
    before = digest(config, code)
    assert digest(config.with_overrides(span=2), code) != before  # same files, another config
    text = config.source.read_text()
    config.source.write_text(text.replace("train_steps = 10", "train_steps = 11"))
    assert digest(config_lib.load(config.source).with_overrides(
        workspace=config.workspace), code) != before
    schema.write_text(schema.read_text() + "\n")
    assert digest(config, code) != before


def test_a_change_to_conveyors_code_changes_it(setup):
    config, _, _, code = setup
    before = digest(config, code)
    module = code / "components" / "csv_ingest" / "__init__.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert digest(config, code) != before


def test_the_pseudonymization_key_changes_it(setup, monkeypatch):
    config, _, _, code = setup
    import dataclasses

    private = dataclasses.replace(config, privacy=dataclasses.replace(
        config.privacy, pseudonymize=("company",)))
    monkeypatch.setenv(private.privacy.key_env, "one key")
    before = digest(private, code)
    monkeypatch.setenv(private.privacy.key_env, "another key")
    assert digest(private, code) != before


def test_a_workspace_without_a_store_has_no_unchanged_run(setup):
    config, _, _, _ = setup
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)) is None
    assert not config.metadata_path.exists()  # looking did not create one


def finished_run(store, run: str, uri: str, state=pb.Execution.COMPLETE) -> None:
    """A run of pipeline "taxi" with one Trainer execution and its LIVE output at `uri`,
    in the contexts TFX gives them (tests/metadata_scope_test.py lays them out the same)."""
    types = {name: store.put_context_type(pb.ContextType(name=name))
             for name in ("pipeline", "pipeline_run", "node")}
    execution_type = store.put_execution_type(pb.ExecutionType(name="tfx.Trainer"))
    artifact_type = store.put_artifact_type(pb.ArtifactType(name="Model"))
    names = {"pipeline": "taxi", "pipeline_run": run, "node": "taxi.Trainer"}
    contexts = [store.get_context_by_type_and_name(kind, name)
                or pb.Context(type_id=types[kind], name=name) for kind, name in names.items()]
    artifact = pb.Artifact(type_id=artifact_type, uri=uri, state=pb.Artifact.LIVE)
    event = pb.Event(type=pb.Event.OUTPUT)
    event.path.steps.add().key = "model"
    _, _, context_ids = store.put_execution(
        pb.Execution(type_id=execution_type, last_known_state=state), [(artifact, event)],
        contexts)
    if not store.get_parent_contexts_by_context(context_ids[1]):
        store.put_parent_contexts([pb.ParentContext(child_id=context_ids[1],
                                                    parent_id=context_ids[0])])


def recorded_run(config, run: str, uri: str, state=pb.Execution.COMPLETE):
    store = metadata_store.open_store(config)
    finished_run(store, run, uri, state)
    unchanged.record(store, config, summarize(store, config.name, run_id=run),
                     unchanged.inputs_digest(config))
    return store


def test_a_finished_run_answers_until_an_input_or_an_output_changes(setup, tmp_path):
    config, data, _, _ = setup
    config.workspace.mkdir()
    model = tmp_path / "model"
    model.mkdir()
    store = recorded_run(config, "run-1", str(model))
    answer = unchanged.unchanged_run(config, unchanged.inputs_digest(config))
    assert (answer.run_id, answer.components, answer.seconds) == (
        "run-1", [("Trainer", "cached")], {})

    model.rename(tmp_path / "moved")  # an output gone: TFX runs (and `check` says why)
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)) is None
    (tmp_path / "moved").rename(model)
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)).run_id == "run-1"

    span = data / "span-2" / "data.csv"
    stat = span.stat()
    os.utime(span, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)) is None
    os.utime(span, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)).run_id == "run-1"

    finished_run(store, "run-2", str(model))  # a later run, recorded or not, comes first
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)) is None


def test_a_run_that_did_not_finish_is_not_recorded(setup, tmp_path):
    config, _, _, _ = setup
    config.workspace.mkdir()
    store = recorded_run(config, "run-1", str(tmp_path), state=pb.Execution.FAILED)
    assert string_property(Walker(store, config.name).run("run-1"),
                           INPUTS_DIGEST_PROPERTY) is None
    assert unchanged.unchanged_run(config, unchanged.inputs_digest(config)) is None
