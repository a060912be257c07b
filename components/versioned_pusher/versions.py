"""The versions of a serving folder, read the way model servers read it: numbered
folders, of which a version counts once its push record exists (object stores) or once it
was renamed into place (a local folder). Kept apart from the executor so a report can
find the serving version without importing TFX's component code."""

from __future__ import annotations

import json
import os
from typing import List, Optional

from components.layout import PUSH_RECORD


def _fileio():
    """TFX's file I/O (any filesystem), imported when a bucket is read: it loads
    TensorFlow, seconds a command reading a local serving folder need not spend."""
    from tfx.dsl.io import fileio

    return fileio


def is_remote(path: str) -> bool:
    return "://" in path


def versions(serving_dir: str) -> List[int]:
    """Complete versions, oldest first."""
    if is_remote(serving_dir):
        return [v for v in numbered(serving_dir)
                if _fileio().exists(os.path.join(serving_dir, str(v), PUSH_RECORD))]
    if not os.path.isdir(serving_dir):
        return []
    return sorted(int(name) for name in os.listdir(serving_dir) if name.isdigit())


def latest_version(serving_dir: str) -> Optional[int]:
    found = versions(serving_dir)
    return found[-1] if found else None


def read_record(serving_dir: str, version: int) -> dict:
    path = os.path.join(serving_dir, str(version), PUSH_RECORD)
    fileio = _fileio()
    if not fileio.exists(path):
        return {}
    with fileio.open(path, "r") as handle:
        return json.load(handle)


def numbered(serving_dir: str) -> List[int]:
    """Every numbered folder, complete or not (object stores list folders as 'name/')."""
    fileio = _fileio()
    if not fileio.isdir(serving_dir):
        return []
    names = (name.rstrip("/") for name in fileio.listdir(serving_dir))
    return sorted(int(name) for name in names if name.isdigit())
