"""Conveyor's configuration: one typed object, loaded and validated from one TOML file.

Every setting a run needs is here and is passed down explicitly. Paths in the file are
relative to the file itself, so a config and its schema can travel together; errors
name the file and the key so a user can fix them without reading code.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import tomli

from components.features import (BUCKETIZED, CATEGORICAL, ENCODINGS, KINDS, Feature,
                                 FeatureSet, Label)

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "taxi.toml"
DEFAULT_WORKSPACE = Path("workspace")
METADATA_BACKENDS = ("sqlite", "mysql", "postgresql")


class ConfigError(ValueError):
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
        from pipeline import beam_options

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


DRIFT_MODES = ("warn", "block")


@dataclass(frozen=True)
class Drift:
    """Drift between spans (and train/serving skew): when it is over threshold, `warn`
    reports it, `block` also stops training. Thresholds: Jensen-Shannon divergence for
    numeric/bucketized features, L-infinity distance for categorical ones; `thresholds`
    holds per-feature overrides ([drift.thresholds] fare = 0.05). A comparator written in
    the curated schema for a feature wins over both (components/drift.py)."""

    mode: str = "warn"
    numeric_threshold: float = 0.1
    categorical_threshold: float = 0.1
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

    @property
    def pipeline_root(self) -> Path:
        return self.workspace / "pipelines" / self.name

    @property
    def serving_dir(self) -> Path:
        return self.workspace / "serving" / self.name

    @property
    def metadata_path(self) -> Path:
        return self.workspace / self.metadata.path

    def with_overrides(self, *, data_root: Optional[Path] = None, span: Optional[int] = None,
                       workspace: Optional[Path] = None,
                       beam_runner: Optional[str] = None) -> "Config":
        changes: dict[str, Any] = {}
        if beam_runner is not None:
            beam = dataclasses.replace(self.beam, runner=beam_runner)
            _check_beam(beam, _Where(self.source, "beam"), given="--beam-runner")
            changes["beam"] = beam
        if data_root is not None:
            changes["data_root"] = Path(data_root).resolve()
        if span is not None:
            changes["span"] = span
        if workspace is not None:
            changes["workspace"] = Path(workspace).resolve()
        return dataclasses.replace(self, **changes)


def load(path: Path | str = DEFAULT_CONFIG) -> Config:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomli.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomli.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return _parse(raw, path.resolve())


def _parse(raw: Mapping[str, Any], source: Path) -> Config:
    where = _Where(source)
    _check_keys(raw, {"pipeline", "label", "features", "training", "evaluation", "beam",
                      "metadata", "privacy", "kubeflow", "drift"}, where, required={"pipeline", "label", "features"})
    pipeline = raw["pipeline"]
    _check_keys(pipeline, {"name", "data_root", "schema", "workspace", "span"},
                where.key("pipeline"), required={"name", "data_root", "schema"})
    base = source.parent

    label = _build(Label, raw["label"], where.key("label"))
    if label.num_classes < 2:
        raise ConfigError(where.key("label.num_classes").say("must be at least 2"))
    if not isinstance(raw["features"], list) or not raw["features"]:
        raise ConfigError(where.key("features").say("must be a non-empty list of [[features]]"))
    features = tuple(_build_feature(item, where.key(f"features[{i}]"))
                     for i, item in enumerate(raw["features"]))
    names = [f.name for f in features]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(where.key("features").say(f"feature listed twice: {', '.join(duplicated)}"))
    if label.name in names:
        raise ConfigError(where.key("features").say(f"the label '{label.name}' is also a feature"))

    evaluation_raw = dict(raw.get("evaluation", {}))
    metrics = tuple(_build(MetricThreshold, m, where.key(f"evaluation.metrics[{i}]"))
                    for i, m in enumerate(evaluation_raw.pop("metrics", [])))
    evaluation = _build(Evaluation, evaluation_raw, where.key("evaluation"))
    evaluation = dataclasses.replace(evaluation, metrics=metrics)
    if evaluation.max_examples < 0:
        raise ConfigError(where.key("evaluation.max_examples").say(
            f"{evaluation.max_examples} is negative (0 scores the whole eval split)"))
    unknown_slices = sorted(set(evaluation.slices) - set(names))
    if unknown_slices:
        raise ConfigError(where.key("evaluation.slices").say(
            f"slice on a column that is not a feature: {', '.join(unknown_slices)}"))

    metadata = _build(Metadata, raw.get("metadata", {}), where.key("metadata"))
    if metadata.backend not in METADATA_BACKENDS:
        raise ConfigError(where.key("metadata.backend").say(
            f"unknown backend '{metadata.backend}' (expected one of {', '.join(METADATA_BACKENDS)})"))

    privacy = _build(Privacy, raw.get("privacy", {}), where.key("privacy"))
    if label.name in privacy.drop + privacy.pseudonymize:
        raise ConfigError(where.key("privacy").say(f"the label '{label.name}' cannot "
                                                   f"be a personal column"))
    dropped_features = sorted(set(privacy.drop) & set(names))
    if dropped_features:
        raise ConfigError(where.key("privacy.drop").say(
            f"dropped column(s) are also features: {', '.join(dropped_features)}"))

    workspace = pipeline.get("workspace")
    return Config(
        name=_typed(pipeline["name"], str, where.key("pipeline.name")),
        data_root=(base / _typed(pipeline["data_root"], str, where.key("pipeline.data_root"))).resolve(),
        schema=(base / _typed(pipeline["schema"], str, where.key("pipeline.schema"))).resolve(),
        workspace=(base / workspace).resolve() if workspace else DEFAULT_WORKSPACE.resolve(),
        span=_typed(pipeline.get("span"), Optional[int], where.key("pipeline.span")),
        features=FeatureSet(label=label, features=features),
        training=_build(Training, raw.get("training", {}), where.key("training")),
        evaluation=evaluation,
        beam=_check_beam(_build(Beam, raw.get("beam", {}), where.key("beam")), where.key("beam")),
        kubeflow=_build_kubeflow(raw.get("kubeflow"), where.key("kubeflow")),
        metadata=metadata,
        privacy=privacy,
        drift=_build_drift(raw.get("drift", {}), names, where.key("drift")),
        source=source,
    )


def _build_drift(section: Any, names: list[str], where: "_Where") -> Drift:
    section = dict(section) if isinstance(section, Mapping) else section
    overrides = section.pop("thresholds", {}) if isinstance(section, dict) else {}
    drift = _build(Drift, section, where)
    if drift.mode not in DRIFT_MODES:
        raise ConfigError(where.key("mode").say(
            f"unknown mode '{drift.mode}' (expected one of {', '.join(DRIFT_MODES)})"))
    _check_keys(overrides, set(names), where.key("thresholds"))
    per_feature = tuple((name, _typed(value, float, where.key(f"thresholds.{name}")))
                        for name, value in sorted(overrides.items()))
    for key, value in [("numeric_threshold", drift.numeric_threshold),
                       ("categorical_threshold", drift.categorical_threshold),
                       *((f"thresholds.{n}", v) for n, v in per_feature)]:
        if not 0 < value <= 1:
            raise ConfigError(where.key(key).say(f"must be in (0, 1], got {value}"))
    return dataclasses.replace(drift, thresholds=per_feature)


def _build_feature(item: Any, where: "_Where") -> Feature:
    feature = _build(Feature, item, where)
    if feature.kind not in KINDS:
        raise ConfigError(where.key("kind").say(
            f"unknown kind '{feature.kind}' for feature '{feature.name}' "
            f"(expected one of {', '.join(KINDS)})"))
    if feature.encoding not in ENCODINGS:
        raise ConfigError(where.key("encoding").say(
            f"unknown encoding '{feature.encoding}' for feature '{feature.name}' "
            f"(expected one of {', '.join(ENCODINGS)})"))
    if feature.kind == CATEGORICAL and (feature.top_k < 1 or feature.oov_buckets < 1):
        raise ConfigError(where.say(f"feature '{feature.name}': top_k and oov_buckets must be >= 1"))
    if feature.kind == BUCKETIZED and feature.buckets < 2:
        raise ConfigError(where.key("buckets").say(f"feature '{feature.name}': at least 2 buckets"))
    return feature


REMOTE_SCHEMES = ("gs://", "s3://", "hdfs://")


def _check_beam(beam: Beam, where: "_Where", given: str = "") -> Beam:
    from pipeline import beam_options

    for key, message in beam_options.problems(beam):
        raise ConfigError(where.key(key).say(f"{message} (from {given})" if given else message))
    return beam


def _build_kubeflow(section: Any, where: "_Where") -> Optional[Kubeflow]:
    """Cluster locations must be URIs every pod can reach, never a path on this machine."""
    if section is None:
        return None
    kubeflow = _build(Kubeflow, section, where)
    for key in ("pipeline_root", "data_root", "serving_dir"):
        value = getattr(kubeflow, key)
        if not value.startswith(REMOTE_SCHEMES):
            raise ConfigError(where.key(key).say(
                f"'{value}' is not reachable from the cluster: use a "
                f"{', '.join(s[:-3] for s in REMOTE_SCHEMES)} URI (e.g. gs://bucket/path)"))
    if kubeflow.image is not None and not kubeflow.image.strip():
        raise ConfigError(where.key("image").say("is empty"))
    return kubeflow


class _Where:
    """A position in the config file, for error messages."""

    def __init__(self, source: Path, key: str = ""):
        self.source, self.path = source, key

    def key(self, key: str) -> "_Where":
        return _Where(self.source, f"{self.path}.{key}" if self.path else key)

    def say(self, message: str) -> str:
        return f"{self.source}: [{self.path}] {message}" if self.path else f"{self.source}: {message}"


def _check_keys(section: Any, allowed: set[str], where: _Where, required: set[str] = frozenset()):
    if not isinstance(section, Mapping):
        raise ConfigError(where.say("must be a table"))
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(where.say(f"unknown key(s) {', '.join(unknown)} "
                                    f"(allowed: {', '.join(sorted(allowed))})"))
    missing = sorted(required - set(section))
    if missing:
        raise ConfigError(where.say(f"missing required key(s) {', '.join(missing)}"))


def _build(cls, section: Any, where: _Where):
    """Builds a flat dataclass from a TOML table, checking names and types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    required = {n for n, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    _check_keys(section, set(fields), where, required)
    return cls(**{k: _typed(v, hints[k], where.key(k)) for k, v in section.items()})


def _typed(value: Any, hint: Any, where: _Where) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        return _typed(value, next(a for a in args if a is not type(None)), where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(where.say(f"expected a list, got {value!r}"))
        return tuple(_typed(v, args[0], where) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(where.say(f"expected {hint.__name__}, got {value!r}"))
    return value
