"""The pusher on a remote serving folder (no atomic rename), through TensorFlow's ram://
filesystem, which like gs:// and s3:// is reached only through fileio."""

import os
import uuid

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components.versioned_pusher import executor
from tests.versioned_pusher_test import blessing_artifact, model_artifact


@pytest.fixture
def serving():
    root = f"ram://conveyor-{uuid.uuid4().hex}/serving/taxi"
    yield root
    if tf.io.gfile.exists(root):
        tf.io.gfile.rmtree(root)


def push(tmp_path, model, serving_dir):
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed" / uuid.uuid4().hex)
    os.makedirs(pushed.uri)
    executor.Executor().Do({"model": [model], "model_blessing": [blessing_artifact(tmp_path, True)]},
                           {"pushed_model": [pushed]}, {"serving_dir": serving_dir})
    return pushed


def test_a_remote_push_copies_everything_and_records_it(tmp_path, serving):
    model = model_artifact(tmp_path)
    pushed = push(tmp_path, model, serving)
    assert pushed.get_int_custom_property("pushed") == 1
    version = int(pushed.get_string_custom_property("pushed_version"))
    destination = pushed.get_string_custom_property("pushed_destination")
    assert destination == f"{serving}/{version}"
    for name in ("saved_model.pb", "variables/variables.index", "tflite/model.tflite",
                 "tflite/model.json", executor.PUSH_RECORD):
        assert tf.io.gfile.exists(f"{destination}/{name}"), name
    with tf.io.gfile.GFile(f"{destination}/saved_model.pb", "rb") as handle:
        assert handle.read() == b"graph-model"
    assert executor.versions(serving) == [version]
    assert executor.read_record(serving, version)["model_uri"] == model.uri

    again = push(tmp_path, model, serving)
    assert again.get_string_custom_property("reason") == "model already serving"
    assert executor.versions(serving) == [version]


def test_the_graph_comes_after_its_variables_and_the_record_last(tmp_path, serving, monkeypatch):
    written = []
    real_copy, real_write = executor.fileio.copy, executor.io_utils.write_string_file
    monkeypatch.setattr(executor.fileio, "copy",
                        lambda src, dst, overwrite=False: (written.append(dst),
                                                           real_copy(src, dst, overwrite))[1])
    monkeypatch.setattr(executor.io_utils, "write_string_file",
                        lambda path, text: (written.append(path), real_write(path, text))[1])
    push(tmp_path, model_artifact(tmp_path), serving)
    in_version = [path for path in written if path.startswith(serving)]
    assert os.path.basename(in_version[-1]) == executor.PUSH_RECORD
    copies = in_version[:-1]
    assert len(copies) == 4 and os.path.basename(copies[-1]) == "saved_model.pb"


def test_a_killed_push_is_never_a_version_and_the_next_push_removes_it(tmp_path, serving,
                                                                        monkeypatch):
    first = push(tmp_path, model_artifact(tmp_path, "old"), serving)
    served = executor.versions(serving)

    real_copy, calls = executor.fileio.copy, []

    def copy_then_crash(src, dst, overwrite=False):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("connection reset")
        return real_copy(src, dst, overwrite)

    monkeypatch.setattr(executor.fileio, "copy", copy_then_crash)
    with pytest.raises(OSError, match="connection reset"):
        push(tmp_path, model_artifact(tmp_path, "new"), serving)
    monkeypatch.undo()
    assert executor.versions(serving) == served
    assert [n.rstrip("/") for n in tf.io.gfile.listdir(serving)] == [str(served[0])]

    # A pod killed mid-copy cannot clean up: it leaves a numbered folder without a record.
    orphan = f"{serving}/{served[0] + 5}"
    tf.io.gfile.makedirs(f"{orphan}/variables")
    with tf.io.gfile.GFile(f"{orphan}/variables/variables.index", "wb") as handle:
        handle.write(b"half")
    assert executor.versions(serving) == served
    latest = push(tmp_path, model_artifact(tmp_path, "newer"), serving)
    version = int(latest.get_string_custom_property("pushed_version"))
    assert version > served[0] + 5
    assert executor.versions(serving) == served + [version]
    assert not tf.io.gfile.exists(orphan)
    assert first.get_int_custom_property("pushed") == 1
