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
from dataclasses import asdict, dataclass
from typing import Mapping, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components.csv_ingest.header import CsvFormat
from components.drift_settings import (  # noqa: F401  (re-exported: the one vocabulary)
    CATEGORICAL, NUMERIC, SOURCE_DEFAULT, SOURCE_FEATURE, SOURCE_SCHEMA, Thresholds,
    feature_kinds)
from components.statistics import compute, in_process, tfdv_parts
from components.statistics.sources import (  # noqa: F401  (re-exported for the commands)
    CSV, TFRECORD, InputDataError, data_files)

JENSEN_SHANNON, L_INFINITY = "jensen_shannon_divergence", "l_infinity"
DRIFT, SKEW = "drift", "skew"
OK, OVER, MISSING = "ok", "over", "missing"
SERVING_ENVIRONMENT = "SERVING"
FORMAT = "conveyor.drift/1"
# Equal-mass buckets: equal-width ones stretch to the largest outlier, so two samples of
# the same long-tailed distribution (fares) read as drifted when their maxima differ.
# Ten of them (TFDV's default): with more, features with many repeated values (taxi
# coordinates are area centroids) get narrow buckets whose edges move between two
# samples of the same data, and the divergence of a few hundred rows reads 0.1 by chance.
HISTOGRAM_BUCKETS = 10
HISTOGRAM_SOURCE = schema_pb2.HistogramSelection.QUANTILES
STATS_OPTIONS = in_process.Options(num_histogram_buckets=HISTOGRAM_BUCKETS,
                                   num_quantiles_histogram_buckets=HISTOGRAM_BUCKETS)

_METRIC_OF_TYPE = {
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: JENSEN_SHANNON,
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: L_INFINITY,
}
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


def compute_statistics(pattern: str, data_format: str, schema: schema_pb2.Schema,
                       kinds: Mapping[str, str], pipeline_options=None,
                       output_path: Optional[str] = None, csv_format: CsvFormat = CsvFormat(),
                       ) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of the compared features only: other columns (personal ones, say)
    never reach the statistics. CSV files are read with the config's [csv] format."""
    stats_schema = statistics_schema(schema, kinds)
    names = [f.name for f in stats_schema.feature if f.name in kinds]
    return compute.compute(pattern, data_format, stats_schema, names, STATS_OPTIONS,
                           csv_format=csv_format, pipeline_options=pipeline_options,
                           output_path=output_path)


def validate(statistics: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema,
             environment: str = "",
             previous: Optional[statistics_pb2.DatasetFeatureStatisticsList] = None,
             serving: Optional[statistics_pb2.DatasetFeatureStatisticsList] = None,
             ) -> anomalies_pb2.Anomalies:
    """tfdv.validate_statistics (one dataset per list, no options): the same C++ call,
    without importing TensorFlow for it."""
    if environment and environment not in schema.default_environment:
        raise ValueError(f"Environment {environment} not found in the schema.")

    def serialized(stats) -> bytes:
        return stats.datasets[0].SerializeToString() if stats is not None else b""

    result = tfdv_parts.validation().ValidateFeatureStatistics(
        serialized(statistics), schema.SerializeToString(), environment.encode(),
        serialized(previous), serialized(serving), b"", b"", b"", False)
    return anomalies_pb2.Anomalies.FromString(result)


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
        anomalies = validate(current, compared, previous=baseline)
    else:
        anomalies = validate(baseline, compared, environment=SERVING_ENVIRONMENT,
                             serving=current)
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

