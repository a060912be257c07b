"""Conveyor's configuration: one typed object, loaded and validated from one TOML file.

Every setting a run needs is in it and is passed down explicitly (settings.py holds the
types, loader.py the loading and its checks).
"""

from pipeline.config.loader import DEFAULT_CONFIG, load  # noqa: F401
from pipeline.config.settings import (  # noqa: F401
    DEFAULT_WORKSPACE, DRIFT_MODES, METADATA_BACKENDS, REMOTE_SCHEMES, Beam, Config,
    ConfigError, Csv, Drift, Evaluation, Kubeflow, Metadata, MetricThreshold, Privacy, Serving,
    Training)
