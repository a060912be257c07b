"""A cached execution's outputs, on SQLite and on PostgreSQL (tests/dbserver.py starts
the server): each artifact comes back under its own output key whatever order the
database returns rows in (pipeline/runners/cached_outputs.py)."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata
from tfx.orchestration.portable import cache_utils
from tfx.orchestration.portable.mlmd import context_lib
from tfx.types import standard_artifacts

from pipeline.runners import cached_outputs
from tests.dbserver import postgres_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


def _connection(server, database: str) -> metadata_store_pb2.ConnectionConfig:
    connection = metadata_store_pb2.ConnectionConfig()
    postgres = connection.postgresql
    postgres.host, postgres.port, postgres.dbname = server.host, str(server.port), database
    postgres.user = server.user
    return connection


def _cached_evaluator(store, context_id: int, root) -> None:
    """An Evaluator-like execution in a cache context whose two outputs were created in
    the order opposite to their types' ids, as one run in two does. (TFX reuses outputs
    whose folders exist: `root`/b and `root`/e.)"""
    evaluation_type = store.put_artifact_type(standard_artifacts.ModelEvaluation().artifact_type)
    blessing_type = store.put_artifact_type(standard_artifacts.ModelBlessing().artifact_type)
    assert evaluation_type < blessing_type
    execution_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name="Evaluator"))
    live = metadata_store_pb2.Artifact.LIVE
    for name in "be":
        (root / name).mkdir()
    outputs = [("blessing", metadata_store_pb2.Artifact(type_id=blessing_type,
                                                        uri=str(root / "b"), state=live)),
               ("evaluation", metadata_store_pb2.Artifact(type_id=evaluation_type,
                                                          uri=str(root / "e"), state=live))]
    events = []
    for key, artifact in outputs:
        event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
        event.path.steps.add().key = key
        event.path.steps.add().index = 0
        events.append((artifact, event))
    execution = metadata_store_pb2.Execution(
        type_id=execution_type, last_known_state=metadata_store_pb2.Execution.COMPLETE)
    [context] = store.get_contexts_by_id([context_id])
    store.put_execution(execution, events, [context])


@pytest.fixture()
def cache_context(request, tmp_path):
    """(handle, cache context, folder) in a fresh store of the backend `request.param`."""
    connection = metadata_store_pb2.ConnectionConfig()
    if request.param == "postgresql":
        # A database of its own (ML Metadata creates it), so the type ids are this test's.
        server = request.getfixturevalue("postgres_server")
        connection = _connection(server, f"cached_{request.node.originalname[5:40]}")
    else:
        connection.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    with metadata.Metadata(connection) as handle:
        context = context_lib.register_context_if_not_exists(
            handle, context_lib.CONTEXT_TYPE_EXECUTION_CACHE, "cache-key")
        _cached_evaluator(handle.store, context.id, tmp_path)
        yield handle, context, tmp_path


def _uris(outputs, root) -> dict:
    return {key: [(a.type_name, a.uri[len(str(root)):]) for a in artifacts]
            for key, artifacts in outputs.items()}


@pytest.mark.parametrize("cache_context", ["sqlite", "postgresql"], indirect=True)
def test_each_cached_output_is_found_under_its_own_key(cache_context, monkeypatch):
    handle, context, root = cache_context
    monkeypatch.setattr(cache_utils, "_get_outputs_of_execution",
                        cached_outputs.TFX_OUTPUTS_OF_EXECUTION)  # restored after the test
    cached_outputs.install()
    assert _uris(cache_utils.get_cached_outputs(handle, context), root) == {
        "blessing": [("ModelBlessing", "/b")], "evaluation": [("ModelEvaluation", "/e")]}


@pytest.mark.parametrize("cache_context", ["postgresql"], indirect=True)
def test_tfx_alone_swaps_them_on_postgresql(cache_context, monkeypatch):
    """Why the workaround exists: PostgreSQL returns the artifacts in their types' order
    and TFX 1.16 pairs them with the events by position. If this fails, TFX or ML Metadata
    no longer does that, and pipeline/runners/cached_outputs.py can go."""
    handle, context, root = cache_context
    monkeypatch.setattr(cache_utils, "_get_outputs_of_execution",
                        cached_outputs.TFX_OUTPUTS_OF_EXECUTION)
    assert _uris(cache_utils.get_cached_outputs(handle, context), root) == {
        "blessing": [("ModelEvaluation", "/e")], "evaluation": [("ModelBlessing", "/b")]}
