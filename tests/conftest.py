"""Shared helpers: small slices of the bundled data, configs pointing at them, and the CLI."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
TAXI_CONFIG = REPO / "configs" / "taxi.toml"
TAXI_DATA = REPO / "data" / "taxi"
TAXI_SCHEMA = REPO / "schema" / "taxi" / "schema.pbtxt"


def slice_spans(destination: Path, rows_per_span: int, spans=(1, 2, 3)) -> Path:
    """The first rows of bundled spans, in the same span-N layout."""
    for number in spans:
        source = TAXI_DATA / f"span-{number}" / "data.csv"
        target = destination / f"span-{number}" / "data.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, encoding="utf-8") as handle:
            lines = [next(handle) for _ in range(rows_per_span + 1)]
        target.write_text("".join(lines), encoding="utf-8")
    return destination


def taxi_config(path: Path, data_root: Path, **training) -> Path:
    """The default taxi config with absolute paths and, e.g., fewer train steps."""
    text = TAXI_CONFIG.read_text(encoding="utf-8")
    text = text.replace('data_root = "../data/taxi"', f'data_root = "{data_root}"')
    text = text.replace('schema = "../schema/taxi/schema.pbtxt"', f'schema = "{TAXI_SCHEMA}"')
    for key, value in training.items():
        lines = [line for line in text.splitlines() if line.startswith(f"{key} = ")]
        assert lines, f"no {key} in the taxi config"
        text = text.replace(lines[0], f"{key} = {value}")
    path.write_text(text, encoding="utf-8")
    return path


def serving_request() -> bytes:
    """A serialized taxi tf.Example as a client sends it: every feature, no label."""
    import tensorflow as tf

    row = {"fare": 12.5, "trip_miles": 3.1, "trip_seconds": 900, "payment_type": b"Credit Card",
           "company": b"Flash Cab", "trip_start_hour": 14, "trip_start_day": 3,
           "trip_start_month": 6, "pickup_community_area": 8, "dropoff_community_area": 32,
           "pickup_latitude": 41.89, "pickup_longitude": -87.63, "dropoff_latitude": 41.88,
           "dropoff_longitude": -87.62}
    example = tf.train.Example()
    for name, value in row.items():
        feature = example.features.feature[name]
        if isinstance(value, bytes):
            feature.bytes_list.value.append(value)
        elif isinstance(value, float):
            feature.float_list.value.append(value)
        else:
            feature.int64_list.value.append(value)
    return example.SerializeToString()


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """`python -m pipeline ...` as a user runs it, from the repository root."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


class SmallTaxi:
    """A slice of the bundled spans, a taxi config with few steps, and a workspace."""

    def __init__(self, root: Path, rows: int, spans=(1, 2)):
        from pipeline import config as config_lib

        self.data = slice_spans(root / "data", rows, spans=spans)
        self.config_path = taxi_config(root / "taxi.toml", self.data, train_steps=100,
                                       eval_steps=5)
        self.workspace = root / "workspace"
        self.config = config_lib.load(self.config_path).with_overrides(workspace=self.workspace)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return run_cli(*args, "--config", str(self.config_path), "--workspace",
                       str(self.workspace))


def read_csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
