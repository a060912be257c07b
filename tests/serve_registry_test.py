"""Which version `serve` serves: the newest complete one that loads, swapped on a poll."""

from __future__ import annotations

import numpy as np
import pytest

from components.layout import STAGING_PREFIX
from pipeline.errors import InputError
from pipeline.serving.server.registry import Registry


class Model:
    inputs: dict = {}

    def __init__(self, path: str):
        if open(f"{path}/saved_model.pb").read() == "garbage":
            raise OSError(f"{path}: cannot parse saved_model.pb")
        self.path = path

    def predict(self, rows):
        return np.zeros((len(rows), 1))


def version(serving, name: str, content: str = "model") -> None:
    (serving / name).mkdir()
    (serving / name / "saved_model.pb").write_text(content)


def test_the_newest_version_that_loads_and_swaps(tmp_path, caplog):
    serving = tmp_path / "serving"
    serving.mkdir()
    version(serving, "1")
    version(serving, "2", "garbage")
    registry = Registry(str(serving), Model, poll_seconds=60)
    assert registry.load_initial().version == 1
    assert list(registry.failed) == [2]

    version(serving, f"{STAGING_PREFIX}3-abc")  # being assembled: not a version yet
    registry.poll_once()
    assert registry.served.version == 1
    old = registry.served
    version(serving, "3")
    registry.poll_once()
    assert registry.served.version == 3 and registry.served.output_width == 1
    assert old.backend.path.endswith("/1")  # a request holding it finishes on it

    version(serving, "4", "garbage")
    registry.poll_once()
    registry.poll_once()  # logged once, not retried
    assert registry.served.version == 3
    assert [r.getMessage() for r in caplog.records].count(
        f"version 4 failed to load, still serving 3: OSError: {serving}/4: cannot parse "
        "saved_model.pb") == 1


def test_nothing_to_serve_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no pushed version to serve"):
        Registry(str(tmp_path), Model, 60).load_initial()
    version(tmp_path, "5", "garbage")
    with pytest.raises(InputError, match="no version loads; version 5: OSError"):
        Registry(str(tmp_path), Model, 60).load_initial()
