"""`python -m pipeline compile kubeflow`: the factory's graph as a strict KFP v2 spec.

Compiles once through the real command line with a Dataflow config whose cluster
locations are gs:// URIs, then reads the spec back with kfp-pipeline-spec's protos and
compares it with the pipeline the local runner builds from the same config.
"""

import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common import resolver

from pipeline import config as config_lib
from pipeline.runners import kubeflow as kubeflow_runner
from pipeline.runners import local as local_runner
from tests.conftest import REPO, TAXI_DATA, run_cli, taxi_config

IMAGE = "europe-docker.pkg.dev/conveyor-test/images/conveyor:1.0"
BUCKET = "gs://conveyor-test-bucket"
DATAFLOW = ('project = "conveyor-test"\nregion = "europe-west4"\n'
            f'temp_location = "{BUCKET}/beam-temp"\n')
DATAFLOW_ARGS = ["--runner=DataflowRunner", "--project=conveyor-test", "--region=europe-west4",
                 f"--temp_location={BUCKET}/beam-temp"]
KUBEFLOW = f"""
[kubeflow]
pipeline_root = "{BUCKET}/pipelines/taxi"
data_root = "{BUCKET}/data/taxi"
serving_dir = "{BUCKET}/serving/taxi"
"""


def cluster_config(path: Path, kubeflow: str = KUBEFLOW, **replacements: str) -> Path:
    """The taxi config with Dataflow options in [beam] and a [kubeflow] table."""
    taxi_config(path, TAXI_DATA)
    text = path.read_text().replace("direct_num_workers = 1\n", "direct_num_workers = 1\n" + DATAFLOW)
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text + kubeflow)
    return path


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kubeflow")
    config_path = cluster_config(folder / "cluster.toml")
    output = folder / "out" / "pipeline.json"
    result = run_cli("compile", "kubeflow", "--config", str(config_path), "--output", str(output),
                     "--image", IMAGE, "--beam-runner", "DataflowRunner")
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    job = json_format.ParseDict(json.loads(text), pipeline_spec_pb2.PipelineJob())
    # Strict: an unknown field anywhere in the spec fails here.
    spec = json_format.ParseDict(json.loads(text)["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    config = config_lib.load(config_path).with_overrides(
        beam_runner="DataflowRunner", workspace=folder / "workspace")
    return {"text": text, "job": job, "spec": spec, "config": config, "folder": folder,
            "local": local_runner.build(config), "stdout": result.stdout}


def node_of(task: str, local_ids: set, resolver_ids: set) -> str:
    """The local node a compiled task comes from: a Resolver compiles to one task per
    input channel, named `<resolver id>-<channel>-resolver`."""
    if task in local_ids:
        return task
    owners = [r for r in resolver_ids if task.startswith(f"{r}-") and task.endswith("-resolver")]
    assert len(owners) == 1, f"task {task} is no node of the local pipeline"
    return owners[0]


def executor_of(spec, task: str):
    component = spec.components[spec.root.dag.tasks[task].component_ref.name]
    return spec.deployment_spec.fields["executors"].struct_value.fields[component.executor_label]


def test_every_local_component_is_a_task_with_the_same_edges(compiled):
    spec, local = compiled["spec"], compiled["local"]
    local_ids = {node.id for node in local.components}
    resolver_ids = {node.id for node in local.components if isinstance(node, resolver.Resolver)}
    assert resolver_ids == {"latest_blessed_model_resolver"}
    tasks = spec.root.dag.tasks
    assert {node_of(t, local_ids, resolver_ids) for t in tasks} == local_ids

    compiled_edges = {(node_of(up, local_ids, resolver_ids), node_of(t, local_ids, resolver_ids))
                      for t, task in tasks.items() for up in task.dependent_tasks}
    local_edges = {(up.id, node.id) for node in local.components for up in node.upstream_nodes}
    # The one difference: locally the baseline resolver leaves out the Trainer's model (a
    # custom strategy, so it reads that output); Kubeflow's compiler takes only TFX's own.
    assert compiled_edges == local_edges - {("Trainer", "latest_blessed_model_resolver")}
    assert ("Trainer", "latest_blessed_model_resolver") in local_edges
    assert ("ValidationGate", "Transform") in local_edges  # the gate really gates Transform


def test_every_executor_runs_the_image_with_tfx_launcher(compiled):
    spec, local = compiled["spec"], compiled["local"]
    executors = spec.deployment_spec.fields["executors"].struct_value.fields
    containers = {label: e.struct_value.fields["container"].struct_value
                  for label, e in executors.items() if "container" in e.struct_value.fields}
    # Only the resolver's metadata queries run without a container.
    assert set(executors) - set(containers) == {
        label for label in executors if label.startswith("latest_blessed_model_resolver-")}
    assert len(containers) == len([n for n in local.components
                                   if not isinstance(n, resolver.Resolver)])
    for label, container in containers.items():
        assert container.fields["image"].string_value == IMAGE, label
        command = [v.string_value for v in container.fields["command"].list_value.values]
        assert command == kubeflow_runner.launcher_command(), label
    assert IMAGE in compiled["stdout"]


def test_beam_args_reach_every_beam_component(compiled):
    spec, local = compiled["spec"], compiled["local"]
    beam_components = {node.id for node in local.components
                       if isinstance(getattr(node, "executor_spec", None),
                                     executor_spec.BeamExecutorSpec)}
    assert {"CsvExampleGen", "StatisticsGen", "Transform", "Evaluator"} <= beam_components
    for task in beam_components:
        container = executor_of(spec, task).struct_value.fields["container"].struct_value
        args = [v.string_value for v in container.fields["args"].list_value.values]
        assert args[-len(DATAFLOW_ARGS):] == DATAFLOW_ARGS, task
    # ExampleGen's driver (which resolves the span in the cluster) gets them too.
    driver = executor_of(spec, "CsvExampleGen").struct_value.fields["container"].struct_value \
        .fields["lifecycle"].struct_value.fields["preCacheCheck"].struct_value
    assert [v.string_value for v in driver.fields["args"].list_value.values][
        -len(DATAFLOW_ARGS):] == DATAFLOW_ARGS


def test_locations_are_cluster_uris_and_no_local_path_appears(compiled):
    text, job, config = compiled["text"], compiled["job"], compiled["config"]
    assert job.runtime_config.gcs_output_directory == f"{BUCKET}/pipelines/taxi"
    for local in {str(REPO), str(compiled["folder"]), str(Path.home()) + "/", "/work/", "/tmp/",
                  str(config.data_root), str(config.workspace)}:
        assert local not in text, f"{local} appears in the compiled spec"
    tasks = compiled["spec"].root.dag.tasks

    def parameter(task, name):
        return tasks[task].inputs.parameters[name].runtime_value.constant_value.string_value

    assert parameter("CsvExampleGen", "input_base") == f"{BUCKET}/data/taxi"
    assert parameter("VersionedPusher", "serving_dir") == f"{BUCKET}/serving/taxi"
    assert parameter("ImportSchemaGen", "schema_file") == "/opt/conveyor/schema/taxi/schema.pbtxt"
    assert parameter("Transform", "preprocessing_fn") == "models.preprocessing.preprocessing_fn"
    assert parameter("Trainer", "run_fn") == "models.trainer.run_fn"
    assert "module_file" not in tasks["Transform"].inputs.parameters


def test_local_runner_and_compiled_spec_come_from_one_factory(compiled):
    config, local = compiled["config"], compiled["local"]
    cluster = kubeflow_runner.build(config)
    # The same nodes (in another topological order: locally the resolver follows the Trainer).
    assert sorted(n.id for n in cluster.components) == sorted(n.id for n in local.components)
    assert {"CsvExampleGen", "ValidationGate", "Transform", "Trainer", "Evaluator",
            "VersionedPusher"} <= {n.id for n in local.components}
    # Only the runner's choices differ: locations, metadata and (here, the same) Beam args.
    assert local.beam_pipeline_args == cluster.beam_pipeline_args == DATAFLOW_ARGS
    assert local.metadata_connection_config is not None
    assert cluster.metadata_connection_config is None


def test_yaml_output_is_a_pipeline_spec_kfp_can_upload(compiled, tmp_path):
    from kfp.client.client import _extract_pipeline_yaml

    output = tmp_path / "pipeline.yaml"
    result = run_cli("compile", "kubeflow", "--config", str(compiled["config"].source),
                     "--output", str(output), "--image", IMAGE)
    assert result.returncode == 0, result.stderr
    document = _extract_pipeline_yaml(str(output))  # what kfp.Client.upload_pipeline reads
    assert document.pipeline_spec.default_pipeline_root == f"{BUCKET}/pipelines/taxi"
    assert set(document.pipeline_spec.root.dag.tasks) == set(compiled["spec"].root.dag.tasks)
    # Without --beam-runner the config's own runner (DirectRunner) is compiled in.
    assert "--runner=DirectRunner" in output.read_text()


@pytest.mark.parametrize("kubeflow,args,expected", [
    (KUBEFLOW.replace(f"{BUCKET}/pipelines/taxi", "/srv/pipelines"), ["--image", IMAGE],
     "[kubeflow.pipeline_root] '/srv/pipelines' is not reachable from the cluster"),
    (KUBEFLOW, [], "no container image: pass --image IMAGE or set [kubeflow] image"),
    (KUBEFLOW, ["--image", "Not An Image"], "is not a container image reference"),
    ("", ["--image", IMAGE], "no [kubeflow] table"),
    (KUBEFLOW + 'schema = "/home/me/schema.pbtxt"\n', ["--image", IMAGE],
     "[kubeflow.schema] '/home/me/schema.pbtxt' is neither a bucket URI nor a path in the image"),
    (KUBEFLOW, ["--image", IMAGE, "--beam-runner", "FlinkRunner"],
     "[beam.flink_master] FlinkRunner needs one of flink_master, job_endpoint"),
    (KUBEFLOW, ["--image", IMAGE, "--beam-runner", "SparkRunnr"], "unknown runner 'SparkRunnr'"),
])
def test_a_bad_cluster_config_fails_clearly_before_writing(tmp_path, kubeflow, args, expected):
    config_path = cluster_config(tmp_path / "cluster.toml", kubeflow=kubeflow)
    output = tmp_path / "out" / "pipeline.json"
    result = run_cli("compile", "kubeflow", "--config", str(config_path), "--output", str(output),
                     *args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not output.parent.exists()


def test_a_schema_outside_the_image_needs_a_bucket_uri(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text((REPO / "schema" / "taxi" / "schema.pbtxt").read_text())
    config_path = cluster_config(tmp_path / "cluster.toml")
    text = config_path.read_text()
    schema_line = next(line for line in text.splitlines() if line.startswith("schema = "))
    config_path.write_text(text.replace(schema_line, f'schema = "{schema}"'))
    config = config_lib.load(config_path)
    with pytest.raises(config_lib.ConfigError, match="not in a folder the image holds"):
        kubeflow_runner.locations(config)
    config_path.write_text(config_path.read_text() + f'schema = "{BUCKET}/schema.pbtxt"\n')
    assert kubeflow_runner.locations(config_lib.load(config_path)).schema_file == \
        f"{BUCKET}/schema.pbtxt"


def test_the_leak_guard_finds_whole_local_paths_only(compiled):
    config = compiled["config"]
    assert kubeflow_runner.local_paths_in(f'"schema_file": "{REPO}/schema/x.pbtxt"', config) == [
        str(REPO)]
    home = str(Path.home())
    assert kubeflow_runner.local_paths_in(f'"root": "gs://bucket{home}"', config) == []
