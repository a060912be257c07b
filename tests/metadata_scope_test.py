"""Recovery, the check and the latest run (the run summary's) touch only the pipeline's own executions under its own
workspace, in a store other pipelines and workspaces share (a real MLMD SQLite store,
laid out as TFX lays out its contexts and events)."""

from __future__ import annotations

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline.metadata import health
from pipeline.metadata.walker import Walker
from pipeline.summary.summary import summarize

RUNNING, CANCELED = pb.Execution.RUNNING, pb.Execution.CANCELED


def open_store(tmp_path) -> metadata_store.MetadataStore:
    connection = pb.ConnectionConfig()
    connection.sqlite.filename_uri = str(tmp_path / "shared.sqlite")
    connection.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(connection)


def running_execution(store, pipeline: str, uri: str, run: str = "") -> int:
    """A RUNNING Trainer execution of `pipeline` (in run `run`) whose PENDING output
    lives at `uri`."""
    types = {name: store.put_context_type(pb.ContextType(name=name))
             for name in ("pipeline", "pipeline_run", "node")}
    execution_type = store.put_execution_type(pb.ExecutionType(name="tfx.Trainer"))
    artifact_type = store.put_artifact_type(pb.ArtifactType(name="Model"))
    names = {"pipeline": pipeline, "pipeline_run": run or f"{pipeline}-run",
             "node": f"{pipeline}.Trainer"}
    contexts = [store.get_context_by_type_and_name(kind, name)
                or pb.Context(type_id=types[kind], name=name) for kind, name in names.items()]
    execution = pb.Execution(type_id=execution_type, last_known_state=RUNNING)
    artifact = pb.Artifact(type_id=artifact_type, uri=uri, state=pb.Artifact.PENDING)
    event = pb.Event(type=pb.Event.OUTPUT)
    execution_id, _, context_ids = store.put_execution(execution, [(artifact, event)], contexts)
    pipeline_id, run_id = context_ids[0], context_ids[1]
    if not store.get_parent_contexts_by_context(run_id):  # as TFX links a run to its pipeline
        store.put_parent_contexts([pb.ParentContext(child_id=run_id, parent_id=pipeline_id)])
    return execution_id


def test_only_this_pipelines_runs_under_this_workspace_are_recovered(tmp_path):
    store = open_store(tmp_path)
    ours = running_execution(store, "taxi", "/ws-a/pipelines/taxi/Trainer/model/3")
    other_pipeline = running_execution(store, "fraud", "/ws-b/pipelines/fraud/Trainer/model/4")
    other_workspace = running_execution(store, "taxi", "/ws-c/pipelines/taxi/Trainer/model/5")
    prefix_only = running_execution(store, "taxi", "/ws-a/pipelines/taxi-2/Trainer/model/6")

    problems = health.check(store, "taxi", "/ws-a/pipelines/taxi")
    assert [str(p) for p in problems] == [
        f"interrupted run: execution {ours} (tfx.Trainer) is still RUNNING"]
    assert health.recover_interrupted(store, "taxi", "/ws-a/pipelines/taxi") == [ours]
    states = {e.id: e.last_known_state for e in store.get_executions()}
    assert states == {ours: CANCELED, other_pipeline: RUNNING, other_workspace: RUNNING,
                      prefix_only: RUNNING}
    assert health.check(store, "taxi", "/ws-a/pipelines/taxi") == []
    assert health.recover_interrupted(store, "nothing", "/ws-x") == []


def test_latest_run_is_the_workspaces_own(tmp_path):
    """Two workspaces, one store, one pipeline name: each sees its own latest run."""
    store = open_store(tmp_path)
    running_execution(store, "taxi", "/ws-a/pipelines/taxi/Trainer/model/3", run="a-1")
    running_execution(store, "taxi", "/ws-b/pipelines/taxi/Trainer/model/4", run="b-1")
    running_execution(store, "taxi", "/ws-a-2/pipelines/taxi/Trainer/model/5", run="a2-1")

    walk = Walker(store, "taxi")
    assert walk.latest_run().name == "a2-1"
    assert walk.latest_run("/ws-a/pipelines/taxi").name == "a-1"
    assert walk.latest_run("/ws-b/pipelines/taxi").name == "b-1"
    assert walk.latest_run("/ws-c/pipelines/taxi") is None
    assert summarize(store, "taxi", pipeline_root="/ws-b/pipelines/taxi").run_id == "b-1"
    assert summarize(store, "taxi", pipeline_root="/ws-c/pipelines/taxi") is None
