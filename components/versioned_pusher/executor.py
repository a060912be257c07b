"""The push itself: check the blessing, assemble the version, rename it into place.

A local serving folder gets an atomic push (staging folder + rename). Object stores
(gs://, s3://) have no atomic rename, so there the version is copied file by file, the
SavedModel graph after its variables and the push record last: a version counts only
once its record exists, and a push killed midway is removed by the next one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.components.util import model_utils
from tfx.utils import io_utils, path_utils

SERVING_DIR_KEY = "serving_dir"
MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
PUSHED_MODEL_KEY = "pushed_model"

from components.layout import PUSH_RECORD, STAGING_PREFIX, TFLITE_SUBDIR
from components.versioned_pusher.versions import (is_remote, latest_version, numbered,
                                                  read_record, versions)
from components.layout import TFLITE_MODEL_DIR as TFLITE_DIR


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
        blessing = artifact_utils.get_single_instance(input_dict[BLESSING_KEY])
        pushed = artifact_utils.get_single_instance(output_dict[PUSHED_MODEL_KEY])
        if not model_utils.is_model_blessed(blessing):
            pushed.set_int_custom_property("pushed", 0)
            pushed.set_string_custom_property("reason", "model not blessed by the Evaluator")
            return
        serving_dir = exec_properties[SERVING_DIR_KEY]
        record = {"model_uri": model.uri, "model_id": model.id, "blessing_uri": blessing.uri,
                  "pushed_at": time.time()}
        serving = latest_version(serving_dir)
        if serving is not None and read_record(serving_dir, serving).get("model_uri") == model.uri:
            # A re-run whose model is cached: that model already serves; no second copy.
            pushed.set_int_custom_property("pushed", 0)
            pushed.set_string_custom_property("reason", "model already serving")
            pushed.set_string_custom_property("pushed_version", str(serving))
            pushed.set_string_custom_property("pushed_destination",
                                              os.path.join(serving_dir, str(serving)))
            return
        version = publish(model.uri, serving_dir, record)
        destination = os.path.join(serving_dir, str(version))
        pushed.set_int_custom_property("pushed", 1)
        pushed.set_string_custom_property("pushed_destination", destination)
        pushed.set_string_custom_property("pushed_version", str(version))
        io_utils.write_string_file(os.path.join(pushed.uri, PUSH_RECORD),
                                   json.dumps({**record, "destination": destination}))


def publish(model_uri: str, serving_dir: str, record: dict) -> int:
    """Copies SavedModel and TFLite into a staging folder, then renames it to the version.

    The version is the push time in seconds (as TFX's Pusher), kept above every existing
    version so that model servers, which load the highest, pick this one up.
    """
    if is_remote(serving_dir):
        return _publish_remote(model_uri, serving_dir, record)
    os.makedirs(serving_dir, exist_ok=True)
    remove_stale_staging(serving_dir)
    version = max([int(time.time())] + [v + 1 for v in versions(serving_dir)])
    staging = os.path.join(serving_dir, f"{STAGING_PREFIX}{version}-{uuid.uuid4().hex}")
    try:
        shutil.copytree(path_utils.serving_model_path(model_uri), staging)
        shutil.copytree(os.path.join(model_uri, TFLITE_DIR), os.path.join(staging, TFLITE_SUBDIR))
        with open(os.path.join(staging, PUSH_RECORD), "w", encoding="utf-8") as handle:
            json.dump({**record, "version": version}, handle, indent=2)
        _fsync_tree(staging)
        os.rename(staging, os.path.join(serving_dir, str(version)))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def _publish_remote(model_uri: str, serving_dir: str, record: dict) -> int:
    fileio.makedirs(serving_dir)
    folders = numbered(serving_dir)
    for stale in sorted(set(folders) - set(versions(serving_dir))):
        # A push killed before its record was written: never a version, so never served.
        fileio.rmtree(os.path.join(serving_dir, str(stale)))
    version = max([int(time.time())] + [v + 1 for v in folders])
    destination = os.path.join(serving_dir, str(version))
    try:
        for source, target in _copy_plan(model_uri, destination):
            fileio.makedirs(os.path.dirname(target))
            fileio.copy(source, target, overwrite=True)
        io_utils.write_string_file(os.path.join(destination, PUSH_RECORD),
                                   json.dumps({**record, "version": version}, indent=2))
    except BaseException:
        if fileio.exists(destination):
            fileio.rmtree(destination)
        raise
    return version


def _copy_plan(model_uri: str, destination: str) -> List[tuple]:
    """(source, target) files of SavedModel and TFLite, the SavedModel graph last, so a
    model server polling the folder finds no SavedModel before its variables are there."""
    plan = _files(path_utils.serving_model_path(model_uri), destination) + _files(
        os.path.join(model_uri, TFLITE_DIR), os.path.join(destination, TFLITE_SUBDIR))
    return sorted(plan, key=lambda pair: os.path.basename(pair[0]).startswith("saved_model.pb"))


def _files(root: str, target_root: str) -> List[tuple]:
    found = []
    for folder, _, names in fileio.walk(root):
        relative = str(folder)[len(root.rstrip("/")):].strip("/")
        for name in names:
            found.append((os.path.join(folder, name),
                          os.path.join(target_root, relative, name) if relative
                          else os.path.join(target_root, name)))
    return found


def remove_stale_staging(serving_dir: str) -> None:
    """Staging folders left by a push that was killed; never visible as a version."""
    for name in os.listdir(serving_dir):
        if name.startswith(STAGING_PREFIX):
            shutil.rmtree(os.path.join(serving_dir, name), ignore_errors=True)


def _fsync_tree(root: str) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())
