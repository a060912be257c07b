"""A different dataset with a multi-class label: a new config and a schema, no code change.

The dataset is generated here; its schema is drafted with `python -m pipeline schema`,
as a user onboarding a dataset would, then the pipeline runs end to end on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from components.versioned_pusher.versions import versions
from pipeline import config as config_lib
from tests.conftest import run_cli
from tests.run_report_e2e_test import Tables

pytestmark = pytest.mark.e2e

CONFIG = """
[pipeline]
name = "shapes"
data_root = "{data}"
schema = "{schema}"

[label]
name = "shape"
num_classes = 3

[[features]]
name = "width"
kind = "numeric"

[[features]]
name = "height"
kind = "numeric"

[[features]]
name = "colour"
kind = "categorical"
top_k = 10
oov_buckets = 1
encoding = "embedding"
embedding_dim = 3

[[features]]
name = "weight"
kind = "bucketized"
buckets = 4

[training]
train_steps = 150
eval_steps = 5
batch_size = 64
learning_rate = 0.01
hidden_units = [16]

[evaluation]
slices = ["colour"]

[[evaluation.metrics]]
name = "SparseCategoricalAccuracy"
lower_bound = 0.7
"""


def write_span(path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    width, height = rng.uniform(0, 10, rows), rng.uniform(0, 10, rows)
    colours = np.array(["red", "green", "blue", "grey"])[rng.integers(0, 4, rows)]
    weight = rng.normal(5, 2, rows)
    shape = np.where(width > height + 1, 0, np.where(height > width + 1, 1, 2))
    path.parent.mkdir(parents=True)
    lines = ["width,height,colour,weight,shape"]
    lines += [f"{w:.3f},{h:.3f},{c},{m:.2f},{s}"
              for w, h, c, m, s in zip(width, height, colours, weight, shape)]
    path.write_text("\n".join(lines) + "\n")


def shapes_config(tmp_path):
    """Two generated spans, their schema drafted by the CLI, and the config naming both."""
    data = tmp_path / "data"
    write_span(data / "span-1" / "shapes.csv", 1500, 1)
    write_span(data / "span-2" / "shapes.csv", 1500, 2)
    schema = tmp_path / "schema" / "schema.pbtxt"
    drafted = run_cli("schema", "--data", str(data / "span-*" / "*.csv"), "--label", "shape",
                      "--output", str(schema))
    assert drafted.returncode == 0, drafted.stderr[-2000:]
    assert 'not_in_environment: "SERVING"' in schema.read_text()
    config_path = tmp_path / "shapes.toml"
    config_path.write_text(CONFIG.format(data=data, schema=schema))
    return config_path


def test_multiclass_dataset_runs_end_to_end_from_its_own_config(tmp_path):
    config_path = shapes_config(tmp_path)
    workspace = tmp_path / "workspace"
    result = run_cli("run", "--config", str(config_path), "--workspace", str(workspace),
                     "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["span"] == 2
    assert summary["blessed"] is True and summary["pushed"] is True
    assert summary["metrics"]["sparse_categorical_accuracy"] >= 0.7
    assert all(state == "executed" for _, state in summary["components"])

    config = config_lib.load(config_path).with_overrides(workspace=workspace)
    version = config.serving_dir / str(versions(str(config.serving_dir))[-1])
    sidecar = json.loads((version / "tflite" / "model.json").read_text())
    assert sidecar["output"]["num_classes"] == 3
    assert sidecar["output"]["shape"][-1] == 3
    assert sidecar["input"]["dtype"] == "int8"
    assert sidecar["parity"]["gap"] <= 0.02

    # The run's page: per-class metrics by colour slice, charted, the multi-class label's
    # feature shown like any other.
    page = Path(summary["report"]).read_text(encoding="utf-8")
    tables = Tables(page)
    slices = [row[0] for row in tables.body("slice-metrics")]
    assert slices[0] == "overall"
    assert {f"colour={c}" for c in ("red", "green", "blue", "grey")} <= set(slices)
    assert "sparse_categorical_accuracy by slice" in page
    assert {row[0] for row in tables.body("feature-table")} == {
        "width", "height", "colour", "weight", "shape"}
    assert "Blessing: <strong>BLESSED</strong>" in page
