"""The pusher's executor on artifacts made here: blessing gate, versions, atomicity."""

import os
import shutil

import pytest
from tfx.types import standard_artifacts

from components.versioned_pusher import executor


def model_artifact(root, name="model"):
    model = standard_artifacts.Model()
    model.uri = str(root / name)
    serving = root / name / "Format-Serving"
    (serving / "variables").mkdir(parents=True)
    (serving / "saved_model.pb").write_bytes(b"graph-" + name.encode())
    (serving / "variables" / "variables.index").write_bytes(b"index")
    tflite = root / name / "Format-TFLite"
    tflite.mkdir()
    (tflite / "model.tflite").write_bytes(b"tflite")
    (tflite / "model.json").write_text("{}")
    return model


def blessing_artifact(root, blessed: bool):
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(root / f"blessing-{blessed}")
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def push(root, model, blessed=True):
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(root / "pushed" / str(len(os.listdir(root))))
    os.makedirs(pushed.uri, exist_ok=True)
    executor.Executor().Do({"model": [model], "model_blessing": [blessing_artifact(root, blessed)]},
                           {"pushed_model": [pushed]}, {"serving_dir": str(root / "serving")})
    return pushed


def test_blessed_model_is_pushed_with_saved_model_and_tflite(tmp_path):
    pushed = push(tmp_path, model_artifact(tmp_path))
    assert pushed.get_int_custom_property("pushed") == 1
    destination = pushed.get_string_custom_property("pushed_destination")
    assert os.path.basename(destination) == pushed.get_string_custom_property("pushed_version")
    assert os.path.isfile(os.path.join(destination, "saved_model.pb"))
    assert os.path.isfile(os.path.join(destination, "variables", "variables.index"))
    assert os.path.isfile(os.path.join(destination, "tflite", "model.tflite"))
    assert executor.read_record(str(tmp_path / "serving"), int(os.path.basename(destination)))[
        "model_uri"] == str(tmp_path / "model")


def test_unblessed_model_is_not_pushed(tmp_path):
    pushed = push(tmp_path, model_artifact(tmp_path), blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert "not blessed" in pushed.get_string_custom_property("reason")
    assert executor.versions(str(tmp_path / "serving")) == []


def test_new_model_gets_a_higher_version_and_the_same_model_is_not_pushed_twice(tmp_path):
    first = push(tmp_path, model_artifact(tmp_path, "a"))
    again = push(tmp_path, model_artifact(tmp_path, "b"))
    versions = executor.versions(str(tmp_path / "serving"))
    assert len(versions) == 2 and versions[1] > versions[0]
    same = push(tmp_path, again_model := model_artifact(tmp_path, "c"))
    repeat = push(tmp_path, again_model)
    assert repeat.get_int_custom_property("pushed") == 0
    assert repeat.get_string_custom_property("reason") == "model already serving"
    assert len(executor.versions(str(tmp_path / "serving"))) == 3
    assert first.get_int_custom_property("pushed") == same.get_int_custom_property("pushed") == 1


def test_a_crash_during_the_copy_leaves_no_partial_version(tmp_path, monkeypatch):
    serving = tmp_path / "serving"
    push(tmp_path, model_artifact(tmp_path, "old"))
    before = executor.versions(str(serving))
    old_files = sorted(p.relative_to(serving) for p in serving.rglob("*"))

    real_copytree = shutil.copytree
    calls = []

    def copy_then_crash(source, destination, *args, **kwargs):
        calls.append(source)
        if len(calls) == 2:  # the SavedModel is copied; the TFLite copy dies
            raise OSError("disk gone")
        return real_copytree(source, destination, *args, **kwargs)

    monkeypatch.setattr(executor.shutil, "copytree", copy_then_crash)
    with pytest.raises(OSError, match="disk gone"):
        push(tmp_path, model_artifact(tmp_path, "new"))
    assert executor.versions(str(serving)) == before
    assert sorted(p.relative_to(serving) for p in serving.rglob("*")) == old_files


def test_staging_left_by_a_killed_push_is_never_a_version_and_is_cleaned(tmp_path):
    serving = tmp_path / "serving"
    stale = serving / f"{executor.STAGING_PREFIX}123-dead"
    (stale / "variables").mkdir(parents=True)
    assert executor.versions(str(serving)) == []
    push(tmp_path, model_artifact(tmp_path))
    assert not stale.exists()
    assert len(executor.versions(str(serving))) == 1
