"""The pushed TFLite files serve in an environment with LiteRT and numpy only.

A virtual environment is built (once, cached) from clients/requirements.txt; importing
tensorflow there must fail. The reference client runs there on eval rows of a freshly
pushed taxi model and a multi-class model, through the end-to-end file and through the
core fed from the sidecar; the SavedModel scores the same rows here, in TensorFlow.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.layout import SERVING_SIGNATURE
from components.versioned_pusher.executor import versions
from pipeline import config as config_lib
from tests.conftest import REPO, run_cli, slice_spans, taxi_config
from tests.multiclass_e2e_test import shapes_config

pytestmark = pytest.mark.e2e

REQUIREMENTS = REPO / "clients" / "requirements.txt"
CLIENT = REPO / "clients" / "litert_predict.py"
CACHE = Path(os.environ.get("CONVEYOR_CACHE", Path.home() / ".cache" / "conveyor"))
BUILTIN = re.compile(r"^[A-Z][A-Z0-9_]*$")  # custom ops carry their own (CamelCase) code


@pytest.fixture(scope="module")
def litert_python() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"litert-venv-{digest}"
    python = venv / "bin" / "python"
    if not python.exists():
        base = Path(sys.base_prefix) / "bin" / "python3"
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                       check=True)
    no_tf = subprocess.run([str(python), "-c", "import tensorflow"], capture_output=True)
    assert no_tf.returncode != 0 and b"No module named 'tensorflow'" in no_tf.stderr
    return str(python)


MIN_CLASS_AGREEMENT = 0.99


def latest_version(config_path: Path, workspace: Path) -> Path:
    config = config_lib.load(config_path).with_overrides(workspace=workspace)
    return config.serving_dir / str(versions(str(config.serving_dir))[-1])


def eval_examples(workspace: Path) -> list[tf.train.Example]:
    files = sorted(glob.glob(str(workspace / "pipelines" / "*" / "CsvExampleGen" / "examples"
                                 / "*" / "Split-eval" / "*")))
    latest = os.path.dirname(files[-1])
    records = tf.data.TFRecordDataset([f for f in files if f.startswith(latest)],
                                      compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()) for r in records]


def cell(example: tf.train.Example, name: str) -> str:
    feature = example.features.feature.get(name)
    if feature is None:
        return ""
    for kind in ("bytes_list", "int64_list", "float_list"):
        values = getattr(feature, kind).value
        if values:
            return values[0].decode() if kind == "bytes_list" else repr(values[0])
    return ""


def with_values(example: tf.train.Example, **values) -> tf.train.Example:
    """A copy with features replaced (None: removed, i.e. missing)."""
    copy = tf.train.Example.FromString(example.SerializeToString())
    for name, value in values.items():
        del copy.features.feature[name]
        if isinstance(value, str):
            copy.features.feature[name].bytes_list.value.append(value.encode())
        elif isinstance(value, float):
            copy.features.feature[name].float_list.value.append(value)
        elif isinstance(value, int):
            copy.features.feature[name].int64_list.value.append(value)
    return copy


def run_client(python: str, model_dir: Path, rows: Path, *extra: str) -> np.ndarray:
    done = subprocess.run([python, str(CLIENT), "--model-dir", str(model_dir), "--csv",
                           str(rows), *extra], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.array([[float(v) for v in row] for row in csv.reader(io.StringIO(done.stdout))])


def operators(python: str, tflite: Path) -> list[str]:
    code = ("import sys; from ai_edge_litert.interpreter import Interpreter; "
            "i = Interpreter(model_path=sys.argv[1]); "
            "print('\\n'.join(sorted({o['op_name'] for o in i._get_ops_details()})))")
    done = subprocess.run([python, "-c", code, str(tflite)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    positives = labels == 1
    count = positives.sum()
    return float((ranks[positives].sum() - count * (count + 1) / 2)
                 / (count * (len(labels) - count)))


def classes(probabilities: np.ndarray) -> np.ndarray:
    if probabilities.shape[-1] == 1:
        return (probabilities[:, 0] > 0.5).astype(int)
    return probabilities.argmax(axis=1)


def check_version(python: str, version: Path, examples: list, features: list[str],
                  label: str, tmp_path: Path) -> None:
    tflite = version / "tflite"
    ops = operators(python, tflite / "model_e2e.tflite")
    assert ops and all(BUILTIN.match(op) and op != "CUSTOM" for op in ops), ops
    assert not [op for op in ops if op.lower().startswith("flex")], ops

    rows = tmp_path / f"{version.parent.name}.csv"
    with open(rows, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(features)
        writer.writerows([cell(e, f) for f in features] for e in examples)
    end_to_end = run_client(python, tflite, rows)
    core = run_client(python, tflite, rows, "--core")
    assert end_to_end.shape == core.shape == (len(examples), end_to_end.shape[1])
    # The core file is the end-to-end file's own int8 part, so the sidecar's preprocessing
    # and quantization must reproduce it exactly, bit for bit.
    mismatched = np.flatnonzero(np.any(end_to_end != core, axis=1))
    assert not len(mismatched), (mismatched[:10], end_to_end[mismatched[:3]], core[mismatched[:3]])

    serve = tf.saved_model.load(str(version)).signatures[SERVING_SIGNATURE]
    saved = serve(examples=tf.constant([e.SerializeToString() for e in examples]))
    saved = saved["outputs"].numpy()
    labels = np.array([int(float(cell(e, label) or 0)) for e in examples])
    if saved.shape[1] == 1:
        assert abs(auc(labels, saved[:, 0]) - auc(labels, end_to_end[:, 0])) <= 0.01
    else:
        assert abs(np.mean(classes(saved) == labels)
                   - np.mean(classes(end_to_end) == labels)) <= 0.01
    agreement = np.mean(classes(saved) == classes(end_to_end))
    assert agreement >= MIN_CLASS_AGREEMENT, agreement


def test_taxi_model_serves_in_litert_alone(litert_python, tmp_path):
    data = slice_spans(tmp_path / "data", 1500)
    config_path = taxi_config(tmp_path / "taxi.toml", data, train_steps=150, eval_steps=10,
                              max_examples=1000)
    workspace = tmp_path / "workspace"
    result = run_cli("run", "--config", str(config_path), "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr[-3000:]
    config = config_lib.load(config_path)
    features = [f.name for f in config.features.features]
    examples = eval_examples(workspace)
    first = examples[0]
    examples += [
        with_values(first, **{name: None for name in features}),  # every value missing
        with_values(first, company="No Such Cab Co", payment_type="Barter",
                    trip_start_hour=99),  # unseen categories, string and integer
        with_values(first, fare=1.0e9, trip_miles=-50.0, pickup_latitude=0.0),  # out of range
    ]
    check_version(litert_python, latest_version(config_path, workspace), examples, features,
                  config.features.label.name, tmp_path)


def test_multiclass_model_serves_in_litert_alone(litert_python, tmp_path):
    config_path = shapes_config(tmp_path)
    workspace = tmp_path / "workspace"
    result = run_cli("run", "--config", str(config_path), "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr[-3000:]
    features = ["width", "height", "colour", "weight"]
    examples = eval_examples(workspace)
    examples += [with_values(examples[0], width=None, colour=None, weight=None),
                 with_values(examples[0], colour="ultraviolet", width=1.0e6, weight=-1.0e6)]
    check_version(litert_python, latest_version(config_path, workspace), examples, features,
                  "shape", tmp_path)
