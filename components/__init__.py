"""Conveyor's own TFX components (a folder each: spec, executor) and the component-side
libraries they share (drift comparison, anomalies, the artifact layout)."""

import models  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)


def __getattr__(name: str):
    """`components.DriftReport`: the importable path that is also the artifact's KFP type
    name; resolved on first use, so importing the package does not import TFX."""
    if name == "DriftReport":
        from components.drift_check.component import DriftReport

        return DriftReport
    raise AttributeError(f"module 'components' has no attribute {name!r}")
