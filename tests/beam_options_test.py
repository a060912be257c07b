"""Beam runner options: one function builds the args for every runner, a runner missing
its options is a config error, and `run --beam-runner` carries the override."""

import pytest
from tfx.dsl.components.base import executor_spec

from pipeline import config as config_lib
from pipeline.runners import beam_options
from pipeline.runners import local as local_runner
from pipeline.source_tree import ROOT
from tests.conftest import TAXI_DATA, run_cli, taxi_config

RUNNER_OPTIONS = '''project = "p"
region = "europe-west4"
temp_location = "gs://b/tmp"
flink_master = "flink:8081"
spark_master_url = "spark://spark:7077"
environment_type = "LOOPBACK"
'''


def config_with(tmp_path, options: str = RUNNER_OPTIONS, **edits) -> config_lib.Config:
    path = taxi_config(tmp_path / "beam.toml", TAXI_DATA)
    text = path.read_text().replace("direct_num_workers = 1\n", "direct_num_workers = 1\n" + options)
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return config_lib.load(path)


@pytest.mark.parametrize("runner,expected", [
    ("DirectRunner", ["--runner=DirectRunner", "--direct_running_mode=in_memory",
                      "--direct_num_workers=1"]),
    ("DataflowRunner", ["--runner=DataflowRunner", "--project=p", "--region=europe-west4",
                        "--temp_location=gs://b/tmp"]),
    ("FlinkRunner", ["--runner=FlinkRunner", "--flink_master=flink:8081",
                     "--environment_type=LOOPBACK"]),
    ("SparkRunner", ["--runner=SparkRunner", "--spark_master_url=spark://spark:7077",
                     "--environment_type=LOOPBACK"]),
])
def test_each_runner_gets_only_its_own_options(tmp_path, runner, expected):
    config = config_with(tmp_path).with_overrides(beam_runner=runner)
    assert config.beam.pipeline_args() == expected


def test_extra_args_come_last(tmp_path):
    config = config_with(tmp_path, RUNNER_OPTIONS + 'extra_args = ["--max_num_workers=8"]\n')
    assert config.with_overrides(beam_runner="DataflowRunner").beam.pipeline_args()[-1] == \
        "--max_num_workers=8"


@pytest.mark.parametrize("options,runner,expected", [
    ('project = "p"\n', "DataflowRunner", "[beam.region] DataflowRunner needs region, temp_location"),
    ('project = "p"\nregion = "r"\ntemp_location = "/tmp/x"\n', "DataflowRunner",
     "[beam.temp_location] Dataflow needs a gs:// temp_location"),
    ("", "SparkRunner", "[beam.spark_master_url] SparkRunner needs one of spark_master_url, job_endpoint"),
    ('flink_master = "f:8081"\nenvironment_type = "VM"\n', "FlinkRunner",
     "[beam.environment_type] unknown environment type 'VM'"),
    ("", "SamzaRunner", "[beam.runner] unknown runner 'SamzaRunner'"),
])
def test_a_runner_without_its_options_is_a_config_error(tmp_path, options, runner, expected):
    with pytest.raises(config_lib.ConfigError) as error:
        config_with(tmp_path, options, **{'runner = "DirectRunner"': f'runner = "{runner}"'})
    assert expected in str(error.value)
    assert str(tmp_path / "beam.toml") in str(error.value)


def test_an_option_set_twice_is_refused(tmp_path):
    with pytest.raises(config_lib.ConfigError, match="--direct_num_workers has its own"):
        config_with(tmp_path, 'extra_args = ["--direct_num_workers=4"]\n')


def test_the_local_pipeline_carries_the_overriding_runner_to_beam_components(tmp_path):
    config = config_with(tmp_path).with_overrides(beam_runner="FlinkRunner",
                                                  workspace=tmp_path / "ws")
    pipeline = local_runner.build(config)
    beam_nodes = [n for n in pipeline.components
                  if isinstance(getattr(n, "executor_spec", None), executor_spec.BeamExecutorSpec)]
    assert len(beam_nodes) >= 4
    for node in beam_nodes:
        assert node.executor_spec.beam_pipeline_args[:2] == ["--runner=FlinkRunner",
                                                             "--flink_master=flink:8081"], node.id


def test_run_with_a_runner_missing_its_options_stops_before_running(tmp_path):
    path = taxi_config(tmp_path / "plain.toml", TAXI_DATA)
    result = run_cli("run", "--config", str(path), "--workspace", str(tmp_path / "ws"),
                     "--beam-runner", "DataflowRunner")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {path}: [beam.project] DataflowRunner needs project, region, temp_location "
        f"(from --beam-runner)")
    assert not (tmp_path / "ws").exists()


def test_every_runner_is_described():
    assert set(beam_options.RUNNERS) == {"DirectRunner", "DataflowRunner", "FlinkRunner",
                                         "SparkRunner"}


def test_a_local_direct_run_names_conveyor_as_the_dependency_so_tfx_builds_no_sdist(tmp_path):
    from tfx.utils import dependency_utils

    config = config_with(tmp_path)
    args = local_runner.build(config).beam_pipeline_args
    assert f"--setup_file={ROOT / 'setup.py'}" in args
    # TFX's check: with a dependency flag present it returns the args as they are,
    # instead of building an sdist of itself before every Beam component.
    assert dependency_utils.make_beam_dependency_flags(args) == args


def test_remote_runners_keep_their_own_dependency_settings(tmp_path):
    config = config_with(tmp_path).with_overrides(beam_runner="DataflowRunner")
    assert local_runner.staging_args(config) == []
    assert not any(arg.startswith("--setup_file") for arg in local_runner.build(config).beam_pipeline_args)


def span_of_size(tmp_path, megabytes: float):
    span = tmp_path / "data" / "span-1"
    span.mkdir(parents=True)
    header = (TAXI_DATA / "span-3" / "data.csv").read_text().splitlines()[0]
    with open(span / "data.csv", "w") as handle:
        handle.write(header + "\n")
        handle.truncate(int(megabytes * 2 ** 20))  # only the size is read
    return tmp_path / "data"


@pytest.mark.parametrize("megabytes,threshold,parallel", [
    (0.5, "1", False), (2.0, "1", True), (2.0, "0", False)])
def test_a_span_larger_than_parallel_above_mb_runs_one_worker_per_core(
        tmp_path, megabytes, threshold, parallel):
    import os

    data = span_of_size(tmp_path, megabytes)
    config = config_with(tmp_path, options="", **{
        "parallel_above_mb = 100": f"parallel_above_mb = {threshold}"}).with_overrides(
        data_root=data)
    args = local_runner.build(config).beam_pipeline_args
    wanted = ["--direct_running_mode=multi_processing",
              f"--direct_num_workers={os.cpu_count() or 1}"]
    assert (args[-2:] == wanted) is parallel
    # Beam reads the last value of a repeated option: the override wins over [beam].
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

    mode = PipelineOptions(args).view_as(DirectOptions).direct_running_mode
    assert mode == ("multi_processing" if parallel else "in_memory")


def test_a_negative_parallel_above_mb_is_a_config_error(tmp_path):
    with pytest.raises(config_lib.ConfigError, match="parallel_above_mb"):
        config_with(tmp_path, options="", **{"parallel_above_mb = 100": "parallel_above_mb = -1"})


def component_beam_args(config, node: str) -> list[str]:
    pipeline = local_runner.build(config)
    return next(c for c in pipeline.components if c.id == node).executor_spec.beam_pipeline_args


def direct_mode(args: list[str]) -> tuple[str, int]:
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

    options = PipelineOptions(args).view_as(DirectOptions)
    return options.direct_running_mode, options.direct_num_workers


@pytest.mark.parametrize("megabytes", [0.5, 2.0])
def test_ingestion_runs_on_threads_at_any_span_size(tmp_path, megabytes):
    import os

    config = config_with(tmp_path, options="", **{
        "parallel_above_mb = 100": "parallel_above_mb = 1"}).with_overrides(
        data_root=span_of_size(tmp_path, megabytes))
    assert direct_mode(component_beam_args(config, "CsvExampleGen")) == (
        "multi_threading", os.cpu_count() or 1)
    assert direct_mode(component_beam_args(config, "StatisticsGen"))[0] == (
        "multi_processing" if megabytes > 1 else "in_memory")


@pytest.mark.parametrize("max_examples,mode", [
    ("50000", "in_memory"), ("0", "multi_processing"), ("500000", "multi_processing")])
def test_on_a_large_span_the_evaluator_stays_in_memory_when_its_input_is_capped(
        tmp_path, max_examples, mode):
    config = config_with(tmp_path, options="", **{
        "parallel_above_mb = 100": "parallel_above_mb = 1",
        "max_examples = 50000": f"max_examples = {max_examples}"}).with_overrides(
        data_root=span_of_size(tmp_path, 2.0))
    assert direct_mode(component_beam_args(config, "Evaluator"))[0] == mode
    assert direct_mode(component_beam_args(config, "StatisticsGen"))[0] == "multi_processing"


def test_a_remote_runner_gets_no_direct_runner_modes(tmp_path):
    config = config_with(tmp_path).with_overrides(beam_runner="DataflowRunner")
    assert local_runner.component_args(config, local_runner.scale_args(config)) == {}
