"""Conveyor's StatisticsGen executor against TFX's on the same Examples artifact.

The in-process path must write what TFX's executor writes with TFDV on Beam: the same
FeatureStats.pb per split (running means and variances to 13 digits, as Beam's own
batch sizing varies them; every other field exactly) and the same artifact properties;
and it must step aside wherever it would not compute TFDV's defaults.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.types import standard_artifacts, standard_component_specs as specs

from components.statistics import sources
from components.statistics_gen import executor
from tests.conftest import TAXI_DATA, TAXI_SCHEMA
from tests.statistics_test import assert_same, write_tfrecord

SPLITS = ("train", "eval")


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """An Examples artifact as CsvExampleGen writes it: gzipped tf.Examples per split,
    two files in train, one in eval."""
    import tensorflow_data_validation as tfdv

    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    root = tmp_path_factory.mktemp("examples")
    for split, spans in (("train", ("span-1", "span-2")), ("eval", ("span-3",))):
        (root / f"Split-{split}").mkdir()
        for index, span in enumerate(spans):
            write_tfrecord(TAXI_DATA / span / "data.csv",
                           root / f"Split-{split}" / f"data_tfrecord-{index:05d}.gz", schema)
    return artifact(str(root))


def artifact(uri: str) -> standard_artifacts.Examples:
    examples = standard_artifacts.Examples()
    examples.uri, examples.span = uri, 3
    examples.split_names = '["train", "eval"]'
    return examples


def run(executor_class, examples, output_uri: str, **exec_properties):
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = output_uri
    executor_class().Do({specs.EXAMPLES_KEY: [examples]}, {specs.STATISTICS_KEY: [statistics]},
                        {specs.EXCLUDE_SPLITS_KEY: "[]", **exec_properties})
    return statistics


def split_statistics(statistics, split: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    result = statistics_pb2.DatasetFeatureStatisticsList()
    with tf.io.gfile.GFile(f"{statistics.uri}/Split-{split}/{tfx_executor.DEFAULT_FILE_NAME}",
                           "rb") as stats_file:
        result.ParseFromString(stats_file.read())
    return result


def test_in_process_statistics_are_tfx_executors(examples, tmp_path):
    ours = run(executor.Executor, examples, str(tmp_path / "ours"))
    theirs = run(tfx_executor.Executor, examples, str(tmp_path / "tfx"))
    for split in SPLITS:
        mine = split_statistics(ours, split)
        assert mine.datasets[0].num_examples == (10002 if split == "train" else 5000)
        assert_same(mine, split_statistics(theirs, split), moments_digits=13)
    assert (ours.split_names, ours.span) == (theirs.split_names, theirs.span)
    assert dict(ours.mlmd_artifact.custom_properties) == \
        dict(theirs.mlmd_artifact.custom_properties)


def test_defaults_only(examples, monkeypatch):
    """Stats options, a schema, sample rates or excluded splits are TFX's executor's."""
    take = executor._in_process_files  # noqa: SLF001
    assert set(take({}, examples, {specs.EXCLUDE_SPLITS_KEY: "[]"})) == set(SPLITS)
    assert take({}, examples, {specs.EXCLUDE_SPLITS_KEY: '["eval"]'}) is None
    assert take({}, examples, {specs.SAMPLE_RATE_BY_SPLIT_KEY: '{"train": 0.5}'}) is None
    assert take({}, examples, {specs.STATS_OPTIONS_JSON_KEY: '{"num_top_values": 5}'}) is None
    assert take({}, examples, {specs.SHARDED_STATS_OUTPUT_KEY: True}) is None
    assert take({specs.SCHEMA_KEY: [standard_artifacts.Schema()]}, examples, {}) is None
    monkeypatch.setattr(executor, "IN_PROCESS_MAX_BYTES", 1000)
    assert take({}, examples, {}) is None


def test_multivalued_feature_goes_to_tfxs_executor(tmp_path):
    path = tmp_path / "Split-train" / "data.gz"
    path.parent.mkdir()
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for values in ([1.0], [2.0, 3.0]):
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=values))}))
                .SerializeToString())
    assert executor._split_statistics({"train": [str(path)]}) is None  # noqa: SLF001
    examples = artifact(str(tmp_path))
    examples.split_names = '["train"]'
    stats = split_statistics(run(executor.Executor, examples, str(tmp_path / "out")), "train")
    (feature,) = stats.datasets[0].features
    assert feature.num_stats.common_stats.max_num_values == 2


def test_a_corrupt_file_is_named(tmp_path):
    path = tmp_path / "Split-train" / "data.gz"
    path.parent.mkdir()
    path.write_bytes(b"\x00" * 40)
    with pytest.raises(sources.InputDataError, match=str(path)):
        executor._split_statistics({"train": [str(path)]})  # noqa: SLF001
