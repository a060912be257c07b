"""EvalSample's executor on an eval split written here: exact size, a subset, repeatable."""

import os

import pytest
import tensorflow as tf
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts

from components.eval_sample import executor


def examples_artifact(root, rows_per_file=(700, 500)):
    """An ExampleGen-like artifact: train and eval splits, eval in several gzipped files."""
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root / "examples")
    artifact.split_names = artifact_utils.encode_split_names(["train", "eval"])
    examples_utils.set_payload_format(artifact, example_gen_pb2.FORMAT_TF_EXAMPLE)
    examples_utils.set_file_format(artifact, "tfrecords_gzip")
    row = 0
    for split in ("train", "eval"):
        folder = artifact_utils.get_split_uri([artifact], split)
        os.makedirs(folder)
        for index, rows in enumerate(rows_per_file):
            with tf.io.TFRecordWriter(os.path.join(folder, f"data_tfrecord-{index:05d}.gz"),
                                      options="GZIP") as writer:
                for _ in range(rows):
                    feature = {"row": tf.train.Feature(int64_list=tf.train.Int64List(value=[row]))}
                    writer.write(tf.train.Example(features=tf.train.Features(
                        feature=feature)).SerializeToString())
                    row += 1
    return artifact


def rows(artifact, split="eval"):
    folder = artifact_utils.get_split_uri([artifact], split)
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    return files, [tf.train.Example.FromString(record).features.feature["row"].int64_list.value[0]
                   for record in tf.data.TFRecordDataset(files, compression_type="GZIP")
                   .as_numpy_iterator()]


def sample(root, source, max_examples, name="sample"):
    out = standard_artifacts.Examples()
    out.uri = str(root / name)
    executor.Executor().Do({executor.EXAMPLES_KEY: [source]}, {executor.SAMPLE_KEY: [out]},
                           {executor.SPLIT_KEY: "eval", executor.MAX_EXAMPLES_KEY: max_examples})
    return out


def test_a_large_split_is_sampled_to_exactly_max_examples_the_same_way_every_time(
        tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "EXAMPLES_PER_FILE", 120)
    source = examples_artifact(tmp_path)
    _, eval_rows = rows(source)
    first = sample(tmp_path, source, 300)
    files, kept = rows(first)
    assert len(kept) == 300 == len(set(kept))
    assert set(kept) <= set(eval_rows)
    assert len(files) == 3  # ceil(300 / 120): Beam's workers can share the reading
    assert artifact_utils.decode_split_names(first.split_names) == ["eval"]
    assert first.get_int_custom_property("examples") == 300
    assert first.get_int_custom_property("source_examples") == len(eval_rows)
    assert examples_utils.get_file_format(first) == "tfrecords_gzip"
    # Spread over the whole split, not its first rows: both input files contribute.
    first_file = set(eval_rows[:700])
    assert 0 < len(first_file & set(kept)) < 300
    assert sorted(rows(sample(tmp_path, source, 300, "again"))[1]) == sorted(kept)


@pytest.mark.parametrize("max_examples", [0, 1200, 5000])
def test_a_split_within_the_limit_or_no_limit_is_passed_on_whole(tmp_path, max_examples):
    source = examples_artifact(tmp_path)
    out = sample(tmp_path, source, max_examples)
    assert rows(out)[1] == rows(source)[1]
    assert out.get_int_custom_property("examples") == 1200
