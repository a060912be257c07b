"""Drift and skew of feature distributions, measured by TFDV's comparators.

ExampleValidator checks one span against the schema only; whether the data *moved*
needs two sets of statistics and a comparator per feature. This module computes both
sides the same way (so the pipeline's DriftCheck and the `drift`/`skew` commands agree
to the last digit), sets a comparator on every compared feature and turns TFDV's
`drift_skew_info` into one result per feature.

Kinds: a config feature of kind `numeric` or `bucketized` is compared with the
Jensen-Shannon divergence of its histograms (TFDV's L-infinity distance reads 0 on
numeric features); a `categorical` one with the L-infinity distance of its value
frequencies. Integer categoricals are marked `is_categorical` in the schema used for
statistics, or TFDV would keep only numeric statistics for them and L-infinity would
read 0 there too.

Thresholds, strongest first: a `drift_comparator` (drift) or `skew_comparator` (skew)
written in the curated schema for that feature; then the per-feature threshold of the
config's [drift.thresholds]; then the config's default for the feature's kind.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from typing import Mapping, Optional

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components.drift_settings import (  # noqa: F401  (re-exported: the one vocabulary)
    CATEGORICAL, NUMERIC, SOURCE_DEFAULT, SOURCE_FEATURE, SOURCE_SCHEMA, Thresholds,
    feature_kinds)
from components.errors import InputError, first_line

JENSEN_SHANNON, L_INFINITY = "jensen_shannon_divergence", "l_infinity"
DRIFT, SKEW = "drift", "skew"
OK, OVER, MISSING = "ok", "over", "missing"
CSV, TFRECORD = "csv", "tfrecord"
SERVING_ENVIRONMENT = "SERVING"
FORMAT = "conveyor.drift/1"
# Equal-mass buckets: equal-width ones stretch to the largest outlier, so two samples of
# the same long-tailed distribution (fares) read as drifted when their maxima differ.
# Ten of them (TFDV's default): with more, features with many repeated values (taxi
# coordinates are area centroids) get narrow buckets whose edges move between two
# samples of the same data, and the divergence of a few hundred rows reads 0.1 by chance.
HISTOGRAM_BUCKETS = 10
HISTOGRAM_SOURCE = schema_pb2.HistogramSelection.QUANTILES

_METRIC_OF_TYPE = {
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: JENSEN_SHANNON,
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: L_INFINITY,
}
_CSV_SUFFIXES = (".csv",)
_TFRECORD_SUFFIXES = (".tfrecord", ".tfrecords", ".tfrecord.gz", ".tfrecords.gz", ".gz")


class InputDataError(InputError, ValueError):
    """Data that cannot be compared: missing, empty, or not CSV/TFRecord; names the path."""


@dataclass(frozen=True)
class FeatureResult:
    """One row of a report; `to_dict` is the documented JSON shape of a feature."""

    feature: str
    kind: str
    metric: str
    value: Optional[float]
    threshold: float
    verdict: str  # ok | over | missing (no statistics on one side)
    threshold_source: str

    @property
    def excess(self) -> float:
        """How far over its threshold, relative to it; what reports sort by."""
        if self.value is None:
            return float("inf")
        return (self.value - self.threshold) / self.threshold if self.threshold else self.value

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """A comparison of two sets of statistics, ready for any renderer."""

    comparison: str  # drift | skew
    baseline: str  # what the baseline is, for people (e.g. "span 1", a path)
    current: str
    features: tuple[FeatureResult, ...]
    baseline_statistics: statistics_pb2.DatasetFeatureStatisticsList
    current_statistics: statistics_pb2.DatasetFeatureStatisticsList

    @property
    def over(self) -> list[FeatureResult]:
        return [f for f in self.features if f.verdict != OK]

    def to_dict(self) -> dict:
        """The documented JSON shape (README, "Drift and skew"); FORMAT names its version."""
        return {"format": FORMAT, "comparison": self.comparison, "baseline": self.baseline,
                "current": self.current, "verdict": OVER if self.over else OK,
                "features_over_threshold": len(self.over),
                "features": [f.to_dict() for f in self.features]}


def statistics_schema(schema: schema_pb2.Schema, kinds: Mapping[str, str]) -> schema_pb2.Schema:
    """The curated schema with integer categoricals marked, so TFDV counts their values."""
    marked = schema_pb2.Schema()
    marked.CopyFrom(schema)
    for feature in marked.feature:
        if kinds.get(feature.name) == CATEGORICAL and feature.type == schema_pb2.INT:
            feature.int_domain.is_categorical = True
    return marked


def data_files(path: str) -> tuple[str, str]:
    """(a glob TFDV can read, its format) for a CSV/TFRecord file or a folder of them."""
    from tensorflow.io import gfile

    if not gfile.exists(path):
        raise InputDataError(f"{path}: no such file or folder")
    if gfile.isdir(path):
        names = sorted(n.rstrip("/") for n in gfile.listdir(path)
                       if not n.startswith((".", "_")) and not gfile.isdir(os.path.join(path, n)))
        if not names:
            raise InputDataError(f"{path}: folder holds no data files")
        formats = {_format_of(os.path.join(path, n)) for n in names}
        if len(formats) > 1:
            raise InputDataError(f"{path}: folder mixes CSV and TFRecord files")
        suffixes = {_suffix(n) for n in names}
        pattern = os.path.join(path, "*" + suffixes.pop() if len(suffixes) == 1 else "*")
        return pattern, formats.pop()
    return path, _format_of(path)


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in _CSV_SUFFIXES + _TFRECORD_SUFFIXES if lowered.endswith(s)), "")


def _format_of(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(_CSV_SUFFIXES):
        return CSV
    if lowered.endswith(_TFRECORD_SUFFIXES):
        return TFRECORD
    raise InputDataError(f"{path}: not a CSV (.csv) or TFRecord (.tfrecord, .tfrecord.gz, .gz) "
                         f"file")


def compute_statistics(pattern: str, data_format: str, schema: schema_pb2.Schema,
                       kinds: Mapping[str, str], pipeline_options=None,
                       output_path: Optional[str] = None,
                       ) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of the compared features only: other columns (personal ones, say)
    never reach the statistics."""
    stats_schema = statistics_schema(schema, kinds)
    names = [f.name for f in stats_schema.feature if f.name in kinds]
    options = tfdv.StatsOptions(schema=stats_schema, infer_type_from_schema=True,
                                feature_allowlist=names, num_histogram_buckets=HISTOGRAM_BUCKETS,
                                num_quantiles_histogram_buckets=HISTOGRAM_BUCKETS)
    try:
        if data_format == CSV:
            stats = tfdv.generate_statistics_from_csv(pattern, stats_options=options,
                                                      output_path=output_path,
                                                      pipeline_options=pipeline_options)
        else:
            stats = tfdv.generate_statistics_from_tfrecord(pattern, stats_options=options,
                                                           output_path=output_path,
                                                           pipeline_options=pipeline_options)
    except (ValueError, RuntimeError, OSError) as error:
        raise InputDataError(f"{pattern}: cannot read as {data_format}: "
                             f"{first_line(error)}") from error
    if not stats.datasets or stats.datasets[0].num_examples == 0:
        raise InputDataError(f"{pattern}: no rows")
    return stats


def compare(comparison: str, baseline: statistics_pb2.DatasetFeatureStatisticsList,
            current: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema,
            kinds: Mapping[str, str], thresholds: Thresholds, *,
            baseline_name: str = "baseline", current_name: str = "current") -> Report:
    """Drift (current vs previous data) or skew (serving `current` vs training `baseline`)."""
    if comparison not in (DRIFT, SKEW):
        raise ValueError(f"unknown comparison {comparison!r}")
    compared = statistics_schema(schema, kinds)
    sources = _set_comparators(comparison, compared, kinds, thresholds)
    if comparison == DRIFT:
        anomalies = tfdv.validate_statistics(current, compared, previous_statistics=baseline)
    else:
        anomalies = tfdv.validate_statistics(baseline, compared, environment=SERVING_ENVIRONMENT,
                                             serving_statistics=current)
    results = []
    for info in anomalies.drift_skew_info:
        name = ".".join(info.path.step)
        if name not in sources:
            continue
        measurements = info.drift_measurements if comparison == DRIFT else info.skew_measurements
        for measurement in measurements:
            results.append(FeatureResult(
                feature=name, kind=kinds[name],
                metric=_METRIC_OF_TYPE.get(measurement.type, "unknown"),
                value=float(measurement.value), threshold=float(measurement.threshold),
                verdict=OVER if measurement.value > measurement.threshold else OK,
                threshold_source=sources[name]))
    measured = {r.feature for r in results}
    for name in sorted(set(sources) - measured):
        # TFDV measures nothing when one side has no values of the feature.
        feature = next(f for f in compared.feature if f.name == name)
        comparator = feature.drift_comparator if comparison == DRIFT else feature.skew_comparator
        metric = JENSEN_SHANNON if comparator.HasField("jensen_shannon_divergence") else L_INFINITY
        threshold = (comparator.jensen_shannon_divergence.threshold if metric == JENSEN_SHANNON
                     else comparator.infinity_norm.threshold)
        results.append(FeatureResult(name, kinds[name], metric, None, float(threshold), MISSING,
                                     sources[name]))
    results.sort(key=lambda r: (-r.excess, r.feature))
    return Report(comparison, baseline_name, current_name, tuple(results), baseline, current)


def _set_comparators(comparison: str, compared: schema_pb2.Schema, kinds: Mapping[str, str],
                     thresholds: Thresholds) -> dict[str, str]:
    """Sets a comparator on every compared feature the schema leaves without one; returns
    where each feature's threshold came from."""
    sources: dict[str, str] = {}
    for feature in compared.feature:
        if feature.name not in kinds:
            continue
        comparator = feature.drift_comparator if comparison == DRIFT else feature.skew_comparator
        if comparator.HasField("jensen_shannon_divergence") or comparator.HasField("infinity_norm"):
            sources[feature.name] = SOURCE_SCHEMA
            continue
        threshold, sources[feature.name] = thresholds.for_feature(feature.name,
                                                                  kinds[feature.name])
        if kinds[feature.name] == NUMERIC:
            comparator.jensen_shannon_divergence.threshold = threshold
            comparator.jensen_shannon_divergence.source.type = HISTOGRAM_SOURCE
        else:
            comparator.infinity_norm.threshold = threshold
    return sources


def span_folder(data_root: str, number: int) -> Optional[str]:
    """The `span-N` folder of the data root (N may be zero-padded), if it exists."""
    from tensorflow.io import gfile

    if number < 0 or not gfile.isdir(data_root):
        return None
    for name in gfile.listdir(data_root):
        match = re.fullmatch(r"span-(\d+)/?", name)
        if match and int(match.group(1)) == number:
            return os.path.join(data_root, name.rstrip("/"))
    return None

