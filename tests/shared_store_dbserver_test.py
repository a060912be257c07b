"""Two pipelines running at once on one MariaDB store: one is SIGKILLed and resumed, and
its recovery leaves the other's live run alone; that run completes and its lineage and
metadata check are intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2

from pipeline import config as config_lib
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import Walker
from tests.conftest import run_cli, slice_spans, taxi_config
from tests.crash_resume_e2e_test import executing, kill, start, wait_until
from tests.dbserver import mariadb_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

CANCELED = metadata_store_pb2.Execution.CANCELED


def pipeline_config(root: Path, name: str, metadata_toml: str, train_steps: int):
    data = slice_spans(root / "data", 600, spans=(1,))
    path = taxi_config(root / "taxi.toml", data, train_steps=train_steps, eval_steps=5)
    text = path.read_text().replace('name = "taxi"', f'name = "{name}"', 1)
    path.write_text(text[:text.index("[metadata]")] + metadata_toml)
    config = config_lib.load(path).with_overrides(workspace=root / "workspace")
    return path, config, ("run", "--config", str(path), "--workspace", str(config.workspace))


def trainer_states(config) -> list[int]:
    walk = Walker(metadata_store.open_store(config), config.name)
    return [e.last_known_state for e in walk.pipeline_executions() if e.type.endswith("Trainer")]


def test_a_resumed_pipeline_leaves_the_other_pipelines_live_run_alone(
        tmp_path, mariadb_server):  # noqa: F811
    toml = mariadb_server.metadata_toml()
    _, config_a, run_a = pipeline_config(tmp_path / "a", "team_a", toml, train_steps=300)
    path_b, config_b, run_b = pipeline_config(tmp_path / "b", "team_b", toml,
                                              train_steps=4000)
    first_a = start(*run_a)
    wait_until(executing(config_a.pipeline_root, "Transform"), first_a)
    live_b = start(*run_b)
    wait_until(executing(config_b.pipeline_root, "Trainer"), live_b)
    wait_until(lambda: metadata_store_pb2.Execution.RUNNING in trainer_states(config_b), live_b)
    kill(first_a)

    resumed_a = start(*run_a)
    # The resumed run recovers before it starts a new pipeline run context.
    runs_before = len(Walker(metadata_store.open_store(config_a), config_a.name).runs())
    wait_until(lambda: len(Walker(metadata_store.open_store(config_a),
                                  config_a.name).runs()) > runs_before, resumed_a)
    assert live_b.poll() is None, "team_b's run ended before team_a's recovery"
    assert CANCELED not in trainer_states(config_b)
    out_a, err_a = resumed_a.communicate(timeout=900)
    out_b, err_b = live_b.communicate(timeout=900)
    assert live_b.returncode == 0, out_b[-2000:] + err_b[-2000:]
    assert resumed_a.returncode == 0, out_a[-2000:] + err_a[-2000:]

    walk_b = Walker(metadata_store.open_store(config_b), config_b.name)
    assert len(walk_b.runs()) == 1
    assert all(e.last_known_state != CANCELED for e in walk_b.pipeline_executions())
    lineage = run_cli("lineage", "model", "--latest", "--config", str(path_b), "--workspace",
                      str(config_b.workspace), "--format", "json", timeout=300)
    assert lineage.returncode == 0, lineage.stderr[-2000:]
    examples = json.loads(lineage.stdout)["examples"]["facts"]
    assert examples["span"] == 1 and sum(examples["rows"].values()) == 600
    checked = run_cli("check", "--config", str(path_b), "--workspace", str(config_b.workspace))
    assert checked.returncode == 0 and "0 problem(s)" in checked.stdout, checked.stdout
