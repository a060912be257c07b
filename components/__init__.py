"""Conveyor's own TFX components (a folder each: spec, executor) and the component-side
libraries they share (drift comparison, anomalies, the artifact layout)."""

import models  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
