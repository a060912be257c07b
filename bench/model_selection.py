"""Finds each pipeline's model to measure: the pushed one, else the Trainer's output.

A model the Evaluator did not bless is not pushed; at the smallest sizes that can
happen, and the benchmark then measures the trained model (and says so in a note)
rather than reporting nothing.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from bench import component_times, model_metrics, report
from bench.stock_pipeline import PIPELINE_NAME as STOCK_NAME, paths as stock_paths

CONVEYOR_NAME = "taxi"
LABEL = "big_tipper"


def _latest_version(serving: Path) -> Path | None:
    versions = sorted((p for p in serving.glob("*") if p.is_dir() and p.name.isdigit()),
                      key=lambda p: int(p.name))
    return versions[-1] if versions else None


def conveyor_version(workspace: Path, staging: Path) -> tuple[Path | None, str]:
    pushed = _latest_version(workspace / "serving" / CONVEYOR_NAME)
    if pushed is not None:
        return pushed, ""
    metadata = workspace / "metadata.sqlite"
    uri = component_times.model_uri(component_times.open_sqlite(metadata), CONVEYOR_NAME) \
        if metadata.exists() else None
    if uri is None:
        return None, "Conveyor trained no model"
    # The pushed layout (SavedModel at the root, tflite/ beside it) from the Model artifact.
    staging.mkdir(parents=True, exist_ok=True)
    for entry in (Path(uri) / "Format-Serving").iterdir():
        (staging / entry.name).symlink_to(entry)
    (staging / "tflite").symlink_to(Path(uri) / "Format-TFLite")
    return staging, "Conveyor's model was not blessed (not pushed): measured the Trainer's output"


def stock_model(work: Path) -> tuple[Path | None, str]:
    where = stock_paths(work)
    pushed = _latest_version(where["serving_model_dir"])
    if pushed is not None:
        return pushed, ""
    metadata = where["metadata_path"]
    uri = component_times.model_uri(component_times.open_sqlite(metadata), STOCK_NAME) \
        if metadata.exists() else None
    if uri is None:
        return None, "the stock pipeline trained no model"
    return Path(uri) / "Format-Serving", ("the stock model was not blessed (not pushed): "
                                          "measured the Trainer's output")


def measure(result: report.SizeResult, stock_work: Path, workspace: Path,
            staging: Path) -> None:
    """Fills result.models, result.model_sizes and notes; a failure becomes a note."""
    version, note = conveyor_version(workspace, staging)
    if note:
        result.notes.append(note)
    metadata = workspace / "metadata.sqlite"
    if version is not None:
        try:
            examples = component_times.examples_uri(component_times.open_sqlite(metadata),
                                                    CONVEYOR_NAME)
            figures, sizes = model_metrics.measure_conveyor(version, examples, LABEL)
            result.models += figures
            result.model_sizes = sizes
        except Exception as error:  # noqa: BLE001  (reported in the table, run goes on)
            traceback.print_exc(file=sys.stderr)
            result.notes.append(f"Conveyor model measurement failed: {error!r}")
    saved_model, note = stock_model(stock_work)
    if note:
        result.notes.append(note)
    if saved_model is not None:
        try:
            metadata = stock_paths(stock_work)["metadata_path"]
            examples = component_times.examples_uri(component_times.open_sqlite(metadata),
                                                    STOCK_NAME)
            result.models.append(model_metrics.measure_stock(saved_model, examples))
        except Exception as error:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            result.notes.append(f"stock model measurement failed: {error!r}")
