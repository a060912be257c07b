"""In-process statistics are TFDV's Beam statistics, field by field, on the bundled data.

The reference is what the drift and skew statistics were before the in-process path:
tfdv.generate_statistics_from_csv / _from_tfrecord (a Beam pipeline, TFDV's own CSV
decoder) with the same StatsOptions. Features are compared by name: Beam's merge emits
them in an order of its own.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from components import drift
from components.csv_ingest import reader
from components.statistics import compute, sources
from pipeline import config as config_lib
from tests.conftest import REPO, TAXI_CONFIG, TAXI_DATA, TAXI_SCHEMA

SERVING = REPO / "data" / "taxi_serving" / "requests.csv"


@pytest.fixture(scope="module")
def compared():
    kinds = config_lib.load(TAXI_CONFIG).drift_features()
    schema = drift.statistics_schema(tfdv.load_schema_text(str(TAXI_SCHEMA)), kinds)
    return schema, [f.name for f in schema.feature if f.name in kinds]


def tfdv_beam(path: str, data_format: str, schema, names):
    options = compute.stats_options(schema, names, drift.STATS_OPTIONS)
    if data_format == sources.CSV:
        return tfdv.generate_statistics_from_csv(path, stats_options=options)
    return tfdv.generate_statistics_from_tfrecord(path, stats_options=options)


def assert_same(actual, expected, moments_digits: int = 0):
    """Equal protos; with `moments_digits`, mean and std_dev equal to that many
    significant digits and every other field exactly."""
    assert len(actual.datasets) == len(expected.datasets) == 1
    mine, theirs = actual.datasets[0], expected.datasets[0]
    assert (mine.name, mine.num_examples, mine.weighted_num_examples) == \
        (theirs.name, theirs.num_examples, theirs.weighted_num_examples)
    by_name = {f.path.step[0]: f for f in mine.features}
    reference = {f.path.step[0]: f for f in theirs.features}
    assert sorted(by_name) == sorted(reference)
    for name, feature in reference.items():
        if moments_digits and feature.HasField("num_stats"):
            ours, feature = type(feature)(), type(feature)()
            ours.CopyFrom(by_name[name])
            feature.CopyFrom(reference[name])
            for field in ("mean", "std_dev"):
                assert getattr(ours.num_stats, field) == pytest.approx(
                    getattr(feature.num_stats, field), rel=10.0 ** -moments_digits), name
                ours.num_stats.ClearField(field)
                feature.num_stats.ClearField(field)
            assert ours == feature, name
        else:
            assert by_name[name] == feature, name


@pytest.mark.parametrize("path", [TAXI_DATA / "span-1" / "data.csv",
                                  TAXI_DATA / "span-2" / "data.csv",
                                  TAXI_DATA / "span-3" / "data.csv", SERVING],
                         ids=["span-1", "span-2", "span-3", "serving"])
def test_csv_statistics_in_process_equal_tfdvs_beam_statistics(compared, path):
    schema, names = compared
    assert drift.compute_statistics(str(path), sources.CSV, schema, dict.fromkeys(names)) \
        is not None  # the commands' entry point takes this path on the bundled data
    in_process = compute.compute(str(path), sources.CSV, schema, names, drift.STATS_OPTIONS)
    assert_same(in_process, tfdv_beam(str(path), sources.CSV, schema, names))


def write_tfrecord(csv_path, target, schema) -> str:
    """The rows as ExampleGen writes them: tf.Examples, one value list per cell."""
    table = reader.read_table(str(csv_path), csv_path.read_bytes(), reader.column_types(schema))
    with tf.io.TFRecordWriter(str(target), options="GZIP") as writer:
        for batch in table.to_batches(max_chunksize=1000):
            for example in RecordBatchToExamplesEncoder().encode(reader.as_feature_lists(batch)):
                writer.write(example)
    return str(target)


def test_tfrecord_statistics_in_process_equal_tfdvs_beam_statistics(compared, tmp_path):
    """TFDV's TFRecord source lets Beam size its batches by timing, so its running mean
    and variance differ between two of its own runs in the last digits: those two
    fields agree to 13 digits, everything else exactly."""
    schema, names = compared
    path = write_tfrecord(TAXI_DATA / "span-3" / "data.csv", tmp_path / "train.gz", schema)
    in_process = compute.compute(path, sources.TFRECORD, schema, names, drift.STATS_OPTIONS)
    assert_same(in_process, tfdv_beam(path, sources.TFRECORD, schema, names),
                moments_digits=13)


def test_beam_path_above_the_size_limit_gives_the_same_statistics(compared, tmp_path):
    schema, names = compared
    path = str(TAXI_DATA / "span-2" / "data.csv")
    written = tmp_path / "beam" / "FeatureStats.pb"
    with_beam = compute.compute(path, sources.CSV, schema, names, drift.STATS_OPTIONS,
                                output_path=str(written), in_process_max_bytes=0)
    assert_same(with_beam, compute.compute(path, sources.CSV, schema, names,
                                           drift.STATS_OPTIONS))
    assert tfdv.load_statistics(str(written)) == with_beam


def test_written_statistics_are_what_tfdv_loads(compared, tmp_path):
    schema, names = compared
    written = tmp_path / "stats" / "FeatureStats.pb"
    stats = compute.compute(str(SERVING), sources.CSV, schema, names, drift.STATS_OPTIONS,
                            output_path=str(written))
    assert tfdv.load_statistics(str(written)) == stats


def test_a_file_that_is_not_a_tfrecord_is_an_input_error_naming_it(compared, tmp_path):
    schema, names = compared
    broken = tmp_path / "broken.tfrecord"
    broken.write_bytes(b"\x10" * 40)
    with pytest.raises(sources.InputDataError, match="broken.tfrecord"):
        compute.compute(str(broken), sources.TFRECORD, schema, names, drift.STATS_OPTIONS)


def test_the_drift_command_imports_neither_tensorflow_nor_beam():
    code = ("import sys\nfrom pipeline.cli import main\n"
            "main(['drift', '--baseline', '1', '--current', '2', '--format', 'json'])\n"
            "print(sorted(m for m in ('tensorflow', 'apache_beam', 'tfx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr[-2000:]
    assert '"comparison": "drift"' in done.stdout
