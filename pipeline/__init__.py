"""Conveyor's pipeline: configuration, the one pipeline factory, runners and the CLI."""

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
