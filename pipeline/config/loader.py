"""Loading the config: one TOML file into one typed Config, checked on the way.

Paths in the file are relative to the file itself, so a config and its schema can travel
together; errors name the file and the key so a user can fix them without reading code.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Mapping, Optional

import tomli

from models.features import BUCKETIZED, CATEGORICAL, ENCODINGS, KINDS, Feature, FeatureSet, Label
from pipeline.config.settings import (DEFAULT_WORKSPACE, DRIFT_MODES, METADATA_BACKENDS,
                                      REMOTE_SCHEMES, Beam, Config, ConfigError, Csv, Drift,
                                      Evaluation, Kubeflow, Metadata, MetricThreshold, Privacy,
                                      Serving, Training)
from pipeline.config import personal_schema
from pipeline.source_tree import ROOT

DEFAULT_CONFIG = ROOT / "configs" / "taxi.toml"


def load(path: Path | str = DEFAULT_CONFIG, *, check_schema: bool = True) -> Config:
    """`check_schema=False` skips checking the schema file against the config (for the
    `schema` command, which drafts the entries that check asks for)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomli.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomli.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    config = _parse(raw, path.resolve())
    if check_schema:
        personal_schema.check(config)
    return config


def _parse(raw: Mapping[str, Any], source: Path) -> Config:
    where = Where(source)
    _check_keys(raw, {"pipeline", "label", "features", "training", "evaluation", "beam",
                      "metadata", "privacy", "kubeflow", "drift", "csv", "serving"}, where,
                required={"pipeline", "label", "features"})
    pipeline = raw["pipeline"]
    _check_keys(pipeline, {"name", "data_root", "schema", "workspace", "span"},
                where.key("pipeline"), required={"name", "data_root", "schema"})
    base = source.parent
    features = _build_feature_set(raw, where)
    names = list(features.names)
    # Checked in this order, so a config with several mistakes names the same one first.
    evaluation = _build_evaluation(raw.get("evaluation", {}), names, where.key("evaluation"))
    metadata = _build_metadata(raw.get("metadata", {}), where.key("metadata"))
    privacy = _build_privacy(raw.get("privacy", {}), features, where.key("privacy"))
    workspace = pipeline.get("workspace")
    return Config(
        name=_typed(pipeline["name"], str, where.key("pipeline.name")),
        data_root=(base / _typed(pipeline["data_root"], str, where.key("pipeline.data_root"))).resolve(),
        schema=(base / _typed(pipeline["schema"], str, where.key("pipeline.schema"))).resolve(),
        workspace=(base / workspace).resolve() if workspace else DEFAULT_WORKSPACE.resolve(),
        span=_typed(pipeline.get("span"), Optional[int], where.key("pipeline.span")),
        features=features,
        training=_build(Training, raw.get("training", {}), where.key("training")),
        evaluation=evaluation,
        beam=check_beam(_build(Beam, raw.get("beam", {}), where.key("beam")), where.key("beam")),
        kubeflow=_build_kubeflow(raw.get("kubeflow"), where.key("kubeflow")),
        metadata=metadata,
        privacy=privacy,
        drift=_build_drift(raw.get("drift", {}), names, where.key("drift")),
        csv=_build_csv(raw.get("csv", {}), where.key("csv")),
        serving=_build_serving(raw.get("serving", {}), where.key("serving")),
        source=source,
    )


def _build_feature_set(raw: Mapping[str, Any], where: "Where") -> FeatureSet:
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
    return FeatureSet(label=label, features=features)


def _build_evaluation(section: Any, names: list[str], where: "Where") -> Evaluation:
    section = dict(section) if isinstance(section, Mapping) else section
    metrics = tuple(_build(MetricThreshold, m, where.key(f"metrics[{i}]"))
                    for i, m in enumerate(section.pop("metrics", [])
                                          if isinstance(section, dict) else []))
    evaluation = dataclasses.replace(_build(Evaluation, section, where), metrics=metrics)
    if evaluation.max_examples < 0:
        raise ConfigError(where.key("max_examples").say(
            f"{evaluation.max_examples} is negative (0 scores the whole eval split)"))
    unknown_slices = sorted(set(evaluation.slices) - set(names))
    if unknown_slices:
        raise ConfigError(where.key("slices").say(
            f"slice on a column that is not a feature: {', '.join(unknown_slices)}"))
    return evaluation


def _build_metadata(section: Any, where: "Where") -> Metadata:
    metadata = _build(Metadata, section, where)
    if metadata.backend not in METADATA_BACKENDS:
        raise ConfigError(where.key("backend").say(
            f"unknown backend '{metadata.backend}' (expected one of {', '.join(METADATA_BACKENDS)})"))
    return metadata


def _build_privacy(section: Any, features: FeatureSet, where: "Where") -> Privacy:
    privacy = _build(Privacy, section, where)
    label = features.label.name
    if label in privacy.drop + privacy.pseudonymize:
        raise ConfigError(where.say(f"the label '{label}' cannot be a personal column"))
    dropped_features = sorted(set(privacy.drop) & set(features.names))
    if dropped_features:
        raise ConfigError(where.key("drop").say(
            f"dropped column(s) are also features: {', '.join(dropped_features)}"))
    return privacy


def _build_csv(section: Any, where: "Where") -> Csv:
    """A delimiter Arrow and Python's csv module both read; markers that can be a field."""
    csv = _build(Csv, section, where)
    if len(csv.delimiter) != 1 or csv.delimiter in '"\r\n':
        raise ConfigError(where.key("delimiter").say(
            f"{csv.delimiter!r} must be one character other than a quote or a line break"))
    for marker in csv.null_values:
        if not marker or csv.delimiter in marker or any(c in marker for c in '"\r\n'):
            raise ConfigError(where.key("null_values").say(
                f"{marker!r} cannot be a field: empty, or holds the delimiter, a quote or "
                f"a line break (the empty field is always missing)"))
    return csv


def _build_serving(section: Any, where: "Where") -> Serving:
    serving = _build(Serving, section, where)
    if not 0 <= serving.log_sample_rate <= 1:
        raise ConfigError(where.key("log_sample_rate").say(
            f"must be in [0, 1] (0 turns request logging off), got {serving.log_sample_rate}"))
    for key in ("log_rotate_mb", "log_rotate_seconds", "max_body_kb", "poll_seconds"):
        if getattr(serving, key) <= 0:
            raise ConfigError(where.key(key).say(f"must be positive, got {getattr(serving, key)}"))
    return serving


def _build_drift(section: Any, names: list[str], where: "Where") -> Drift:
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


def _build_feature(item: Any, where: "Where") -> Feature:
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


def check_beam(beam: Beam, where: "Where", given: str = "") -> Beam:
    from pipeline.runners import beam_options

    for key, message in beam_options.problems(beam):
        raise ConfigError(where.key(key).say(f"{message} (from {given})" if given else message))
    return beam


def _build_kubeflow(section: Any, where: "Where") -> Optional[Kubeflow]:
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


class Where:
    """A position in the config file, for error messages."""

    def __init__(self, source: Path, key: str = ""):
        self.source, self.path = source, key

    def key(self, key: str) -> "Where":
        return Where(self.source, f"{self.path}.{key}" if self.path else key)

    def say(self, message: str) -> str:
        return f"{self.source}: [{self.path}] {message}" if self.path else f"{self.source}: {message}"


def _check_keys(section: Any, allowed: set[str], where: Where, required: set[str] = frozenset()):
    if not isinstance(section, Mapping):
        raise ConfigError(where.say("must be a table"))
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(where.say(f"unknown key(s) {', '.join(unknown)} "
                                    f"(allowed: {', '.join(sorted(allowed))})"))
    missing = sorted(required - set(section))
    if missing:
        raise ConfigError(where.say(f"missing required key(s) {', '.join(missing)}"))


def _build(cls, section: Any, where: Where):
    """Builds a flat dataclass from a TOML table, checking names and types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    required = {n for n, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    _check_keys(section, set(fields), where, required)
    return cls(**{k: _typed(v, hints[k], where.key(k)) for k, v in section.items()})


def _typed(value: Any, hint: Any, where: Where) -> Any:
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
