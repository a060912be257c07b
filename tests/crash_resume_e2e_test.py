"""SIGKILL in the middle of Transform, of Trainer and of a push; two runs at once.

After each kill the next run must complete, reuse what finished before, and leave ML
Metadata consistent (no LIVE artifact without files, nothing left RUNNING); a killed
push must never show as a version; a second concurrent run must stop at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.layout import STAGING_PREFIX
from components.versioned_pusher.versions import versions
from pipeline import config as config_lib
from pipeline.metadata import health as metadata_health
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import Walker
from pipeline.runners.workspace_lock import LOCK_FILE
from tests.conftest import REPO, run_cli, slice_spans, taxi_config

pytestmark = pytest.mark.e2e


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_until(condition, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"process ended first: {process.communicate()}")
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def executing(pipeline_root: Path, node: str):
    """True once the node's executor has been launched (its execution folder exists)."""
    return lambda: any((pipeline_root / node / ".system" / "executor_execution").glob("*"))


def states(config) -> dict[str, str]:
    store = metadata_store.open_store(config)
    walk = Walker(store, config.name)
    return {e.node: e.state for e in walk.run_executions(walk.latest_run())}


def test_killed_runs_resume_from_cache_and_concurrent_runs_are_refused(tmp_path):
    data = slice_spans(tmp_path / "data", 1500, spans=(1,))
    config_path = taxi_config(tmp_path / "taxi.toml", data, train_steps=600, eval_steps=5)
    workspace = tmp_path / "workspace"
    config = config_lib.load(config_path).with_overrides(workspace=workspace)
    args = ("run", "--config", str(config_path), "--workspace", str(workspace))

    first = start(*args)
    wait_until(executing(config.pipeline_root, "Transform"), first)
    time.sleep(2)
    kill(first)

    second = start(*args)
    wait_until(executing(config.pipeline_root, "Trainer"), second)
    time.sleep(1.5)  # inside the Trainer: it takes longer than this to build and train
    kill(second)
    assert states(config)["Trainer"] == "running"  # as the killed process left it
    assert versions(str(config.serving_dir)) == []

    third = start(*args)
    # The lock file names its holder; the killed run's pid may still be written there.
    wait_until(lambda: (workspace / LOCK_FILE).read_text() == f"pid {third.pid}", third)
    concurrent = run_cli(*args, timeout=120)
    assert concurrent.returncode == 2
    assert "a run is already in progress" in concurrent.stderr
    out, err = third.communicate(timeout=900)
    assert third.returncode == 0, out[-2000:] + err[-2000:]

    final = states(config)
    assert final["CsvExampleGen"] == final["StatisticsGen"] == "cached"
    assert final["Transform"] == "cached"  # finished in the second run before its kill
    assert final["Trainer"] == "executed"
    assert len(versions(str(config.serving_dir))) == 1
    store = metadata_store.open_store(config)
    assert metadata_health.check(store, config.name, str(config.pipeline_root)) == []
    cancelled = [e for e in store.get_executions() if e.last_known_state == 6]  # CANCELED
    assert {e.type.rsplit(".", 1)[-1] for e in cancelled} >= {"Transform", "Trainer"}
    checked = run_cli("check", "--config", str(config_path), "--workspace", str(workspace))
    assert checked.returncode == 0 and "0 problem(s)" in checked.stdout


PUSH_SCRIPT = """
import sys
from tfx.types import standard_artifacts
from components.versioned_pusher import executor
model, blessing, pushed = (standard_artifacts.Model(), standard_artifacts.ModelBlessing(),
                           standard_artifacts.PushedModel())
model.uri, blessing.uri, pushed.uri = sys.argv[1], sys.argv[2], sys.argv[3]
blessing.set_int_custom_property("blessed", 1)
executor.Executor().Do({"model": [model], "model_blessing": [blessing]},
                       {"pushed_model": [pushed]}, {"serving_dir": sys.argv[4]})
"""


def fake_model(root: Path) -> Path:
    serving = root / "Format-Serving" / "variables"
    serving.mkdir(parents=True)
    (root / "Format-Serving" / "saved_model.pb").write_bytes(b"graph")
    chunk = os.urandom(256 * 1024)
    for index in range(400):  # ~100 MB in many files: the copy takes a while
        (serving / f"shard-{index:04d}").write_bytes(chunk)
    (root / "Format-TFLite").mkdir()
    (root / "Format-TFLite" / "model.tflite").write_bytes(b"tflite")
    return root


def test_a_push_killed_mid_copy_never_shows_as_a_version(tmp_path):
    model = fake_model(tmp_path / "model")
    serving = tmp_path / "serving"
    (tmp_path / "pushed").mkdir()
    push = subprocess.Popen([sys.executable, "-c", PUSH_SCRIPT, str(model), str(tmp_path / "b"),
                             str(tmp_path / "pushed"), str(serving)], cwd=REPO,
                            start_new_session=True)
    wait_until(lambda: serving.is_dir() and any(p.name.startswith(STAGING_PREFIX)
                                                for p in serving.iterdir()), push)
    kill(push)
    assert versions(str(serving)) == []
    assert [p.name for p in serving.iterdir() if p.name.startswith(STAGING_PREFIX)]

    again = subprocess.run([sys.executable, "-c", PUSH_SCRIPT, str(model), str(tmp_path / "b"),
                            str(tmp_path / "pushed"), str(serving)], cwd=REPO, timeout=300)
    assert again.returncode == 0
    assert len(versions(str(serving))) == 1
    assert not [p for p in serving.iterdir() if p.name.startswith(STAGING_PREFIX)]
    version = serving / str(versions(str(serving))[0])
    assert len(list((version / "variables").iterdir())) == 400
