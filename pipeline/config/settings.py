"""The typed configuration: one frozen dataclass per TOML table, and the Config that holds
them. Built and checked by pipeline/config/loader.py; passed down explicitly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from components import drift_settings
from components.errors import InputError
from models.features import FeatureSet

DEFAULT_WORKSPACE = Path("workspace")
METADATA_BACKENDS = ("sqlite", "mysql", "postgresql")
REMOTE_SCHEMES = ("gs://", "s3://", "hdfs://")


class ConfigError(InputError, ValueError):
    """A configuration the pipeline cannot run with; the message names file and key."""


@dataclass(frozen=True)
class MetricThreshold:
    """A TFMA metric (by Keras/TFMA class name) and the bars a model must clear."""

    name: str
    lower_bound: Optional[float] = None
    upper_bound: Optional[float] = None
    # How much worse than the serving (baseline) model the candidate may be.
    max_decrease: Optional[float] = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class Training:
    train_steps: int = 1000
    eval_steps: int = 150
    batch_size: int = 128
    learning_rate: float = 0.001
    hidden_units: tuple[int, ...] = (64, 32)
    seed: int = 42
    # Largest accuracy gap allowed between the int8 TFLite model and the float model
    # before quantization-aware training is used instead of post-training quantization.
    tflite_max_accuracy_gap: float = 0.02


@dataclass(frozen=True)
class Evaluation:
    metrics: tuple[MetricThreshold, ...] = ()
    slices: tuple[str, ...] = ()
    # The Evaluator scores at most this many eval-split examples: a uniform, repeatable
    # sample of a larger split (components/eval_sample). 0 scores the whole split.
    max_examples: int = 0


@dataclass(frozen=True)
class Beam:
    runner: str = "DirectRunner"
    direct_running_mode: str = "in_memory"
    direct_num_workers: int = 1
    # A local DirectRunner run whose span is larger than this switches to multi_processing
    # with one worker per core (see local_runner.scale_args); 0 never switches.
    parallel_above_mb: float = 100.0
    # DataflowRunner (see pipeline/beam_options.py for which runner reads which key).
    project: Optional[str] = None
    region: Optional[str] = None
    temp_location: Optional[str] = None
    service_account_email: Optional[str] = None
    sdk_container_image: Optional[str] = None
    # FlinkRunner and SparkRunner (portable runners).
    flink_master: Optional[str] = None
    spark_master_url: Optional[str] = None
    job_endpoint: Optional[str] = None
    environment_type: Optional[str] = None
    environment_config: Optional[str] = None
    parallelism: Optional[int] = None
    extra_args: tuple[str, ...] = ()

    def pipeline_args(self) -> list[str]:
        """The Beam args of every runner (local and Kubeflow): one function for both."""
        from pipeline.runners import beam_options

        return beam_options.pipeline_args(self)


@dataclass(frozen=True)
class Kubeflow:
    """Where the compiled Kubeflow pipeline reads and writes: URIs valid in the cluster.

    Metadata is the cluster's own (KFP's or Vertex ML Metadata), so there is no key for it.
    `schema` defaults to the config's schema inside the image (see kubeflow_runner).
    """

    pipeline_root: str
    data_root: str
    serving_dir: str
    schema: Optional[str] = None
    image: Optional[str] = None


@dataclass(frozen=True)
class Metadata:
    """Where ML Metadata lives; SQLite paths are relative to the workspace.

    backend = sqlite | mysql | postgresql. A database server is named by host, port,
    database and user; its password is read from the environment variable named by
    password_env, so the config file can be checked in.
    """

    backend: str = "sqlite"
    path: str = "metadata.sqlite"
    host: str = "127.0.0.1"
    port: Optional[int] = None
    database: str = "mlmd"
    user: str = ""
    password_env: str = ""


@dataclass(frozen=True)
class Privacy:
    """Personal columns: dropped, or replaced by a keyed hash, at ingestion, before any
    statistics; the key comes from the environment variable `key_env`, never a file."""

    drop: tuple[str, ...] = ()
    pseudonymize: tuple[str, ...] = ()
    key_env: str = "CONVEYOR_PSEUDONYM_KEY"


@dataclass(frozen=True)
class Csv:
    """How the span files are written: the field delimiter, and the markers (`NA`, `-`)
    read as a missing value in every column; the empty field is always missing."""

    delimiter: str = ","
    null_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Serving:
    """`serve` and its request logs. A sample of requests (`log_sample_rate`, 0 = off) is
    written as raw-feature tf.Examples to gzipped TFRecord files that `skew` and `monitor`
    read; a file is closed (and a new one opened) at `log_rotate_mb` or `log_rotate_seconds`,
    so a crash loses at most the open file's tail. A request body over `max_body_kb` is
    refused before it is parsed; the serving folder is polled for a new version every
    `poll_seconds`."""

    log_sample_rate: float = 0.1
    log_rotate_mb: float = 16.0
    log_rotate_seconds: float = 300.0
    max_body_kb: int = 1024
    poll_seconds: float = 2.0


DRIFT_MODES = ("warn", "block")


@dataclass(frozen=True)
class Drift:
    """Drift between spans (and train/serving skew): when it is over threshold, `warn`
    reports it, `block` also stops training. Thresholds: Jensen-Shannon divergence for
    numeric/bucketized features, L-infinity distance for categorical ones; `thresholds`
    holds per-feature overrides ([drift.thresholds] fare = 0.05). A comparator written in
    the curated schema for a feature wins over both (components/drift.py)."""

    mode: str = "warn"
    numeric_threshold: float = drift_settings.DEFAULT_NUMERIC_THRESHOLD
    categorical_threshold: float = drift_settings.DEFAULT_CATEGORICAL_THRESHOLD
    thresholds: tuple[tuple[str, float], ...] = ()

    def thresholds_dict(self) -> dict:
        """The plain form components.drift.Thresholds.from_dict reads."""
        return {"numeric": self.numeric_threshold, "categorical": self.categorical_threshold,
                "per_feature": dict(self.thresholds)}


@dataclass(frozen=True)
class Config:
    name: str
    data_root: Path
    schema: Path
    features: FeatureSet
    source: Path
    workspace: Path = DEFAULT_WORKSPACE
    span: Optional[int] = None
    training: Training = field(default_factory=Training)
    evaluation: Evaluation = field(default_factory=Evaluation)
    beam: Beam = field(default_factory=Beam)
    metadata: Metadata = field(default_factory=Metadata)
    kubeflow: Optional[Kubeflow] = None
    privacy: Privacy = field(default_factory=Privacy)
    drift: Drift = field(default_factory=Drift)
    csv: Csv = field(default_factory=Csv)
    serving: Serving = field(default_factory=Serving)

    @property
    def pipeline_root(self) -> Path:
        return self.workspace / "pipelines" / self.name

    @property
    def serving_dir(self) -> Path:
        return self.workspace / "serving" / self.name

    @property
    def request_log_dir(self) -> Path:
        """Where `serve` writes its sampled requests; `skew --serving` and `monitor` read it."""
        return self.workspace / "request_logs" / self.name

    @property
    def metadata_path(self) -> Path:
        return self.workspace / self.metadata.path

    def drift_features(self) -> dict[str, str]:
        """Features drift and skew compare, by kind. DriftCheck reads the raw span files,
        so personal columns (dropped or pseudonymized at ingestion) are left out."""
        personal = set(self.privacy.drop) | set(self.privacy.pseudonymize)
        return {name: kind for name, kind in drift_settings.feature_kinds(self.features).items()
                if name not in personal}

    def with_overrides(self, *, data_root: Optional[Path] = None, span: Optional[int] = None,
                       workspace: Optional[Path] = None,
                       beam_runner: Optional[str] = None) -> "Config":
        changes: dict[str, Any] = {}
        if beam_runner is not None:
            beam = dataclasses.replace(self.beam, runner=beam_runner)
            from pipeline.config.loader import Where, check_beam

            check_beam(beam, Where(self.source, "beam"), given="--beam-runner")
            changes["beam"] = beam
        if data_root is not None:
            changes["data_root"] = Path(data_root).resolve()
        if span is not None:
            changes["span"] = span
        if workspace is not None:
            changes["workspace"] = Path(workspace).resolve()
        return dataclasses.replace(self, **changes)
