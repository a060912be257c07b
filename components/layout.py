"""The artifact layout: the files and folders one component writes and another reads.

Writers (the Trainer, DriftCheck, the VersionedPusher) and readers (the run summary,
lineage, skew, the predictors) take these names from here, so a file moves in one place.
Names under "TFX's own layout" are what TFX's standard components write; Conveyor only
reads them. Plain constants and path joins: nothing here imports TFX or TensorFlow, so a
report can name a file without loading either.
"""

from __future__ import annotations

import json
import os

# The SavedModel signature every client calls (TFMA, the predictors, a model server).
SERVING_SIGNATURE = "serving_default"

# ---- TFX's own layout
STATS_FILE = "FeatureStats.pb"  # StatisticsGen, in each split's folder
SCHEMA_DIFF_FILE = "SchemaDiff.pb"  # ExampleValidator, in each split's folder
# tf.Transform's output folder: the raw schema it analyzed (`serve` reads a version's inputs)
TFT_RAW_SCHEMA = os.path.join("metadata", "schema.pbtxt")


def split_uri(artifact_uri: str, split: str) -> str:
    """A split's folder inside a multi-split artifact (as TFX's artifact_utils names it)."""
    return os.path.join(artifact_uri, f"Split-{split}")


def split_names(encoded: str) -> list[str]:
    """The splits of an artifact, from its `split_names` property (a JSON list)."""
    return list(json.loads(encoded or "[]"))


# ---- the Trainer's Model artifact: TFX's Format-Serving, and beside it
TFLITE_MODEL_DIR = "Format-TFLite"  # the int8 core, its sidecar and the transform
TFLITE_FILE = "model.tflite"
SIDECAR_FILE = "model.json"
# raw features in, probabilities out: runs in LiteRT alone (no TensorFlow)
E2E_TFLITE_FILE = "model_e2e.tflite"
TRANSFORM_SUBDIR = "transform"  # the tf.Transform output, inside the TFLite folder

# ---- a pushed version: <serving_dir>/<version>/ holds the SavedModel and these
TFLITE_SUBDIR = "tflite"  # the Model's Format-TFLite folder, copied
PUSH_RECORD = "conveyor_push.json"  # written last: a version counts once it exists
STAGING_PREFIX = ".staging-"  # a version being assembled, renamed into place

# ---- the run's page (pipeline/summary/html.py): <workspace>/reports/<pipeline>/<run id>/
RUN_REPORT_FILE = "report.html"

# ---- DriftCheck's DriftReport artifact
DRIFT_REPORT_FILE = "report.json"
DRIFT_BASELINE_STATS = "baseline"  # <uri>/baseline/FeatureStats.pb, likewise current/
DRIFT_CURRENT_STATS = "current"
