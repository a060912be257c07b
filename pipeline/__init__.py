"""Conveyor's orchestration side: configuration, the one pipeline factory, the runners,
and the commands that read what runs recorded (summary, lineage, drift and skew)."""

import models  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
