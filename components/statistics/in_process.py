"""TFDV's statistics of one-value-per-row features, computed in this process.

The same figures TFDV's Beam pipeline produces for these features, from the same parts:
tfx_bsl's quantile sketches, TFDV's quantile histograms and running mean and variance
(loaded by tfdv_parts), each batch added as BasicStatsGenerator adds it, and exact value
counts for the top values and uniques, as TFDV's TopKUniquesStatsGenerator counts them
under Beam (TFDV's own in-memory path sketches them instead, so its counts are
approximate). Only what this module covers is taken in process (`supported`): flat
columns of INT, FLOAT or BYTES, without weights, slices, sparse, structured or
natural-language features; anything else takes the Beam path.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from components.statistics import tfdv_parts

Stats = statistics_pb2.FeatureNameStatistics
# BasicStatsGenerator asks its sketch for this many times more quantiles than histogram
# buckets, to draw the equal-width histogram from (_NUM_QUANTILES_FACTOR_FOR_STD_HISTOGRAM).
_QUANTILES_FACTOR = 100
_NON_UTF8 = "__BYTES_VALUE__"  # TFDV's constants.NON_UTF8_PLACEHOLDER


@dataclass(frozen=True)
class Options:
    """The StatsOptions fields the statistics depend on (TFDV's defaults unless set)."""

    num_histogram_buckets: int = 10
    num_quantiles_histogram_buckets: int = 10
    num_values_histogram_buckets: int = 10
    num_top_values: int = 20
    num_rank_histogram_buckets: int = 1000
    epsilon: float = 0.01


def supported(schema: schema_pb2.Schema, names: Iterable[str]) -> bool:
    """Whether every compared feature is one this module computes as TFDV does."""
    if schema.sparse_feature or schema.weighted_feature:
        return False
    compared = set(names)
    for feature in schema.feature:
        if feature.name not in compared:
            continue
        domain = feature.WhichOneof("domain_info")
        if feature.type not in (schema_pb2.INT, schema_pb2.FLOAT, schema_pb2.BYTES) or \
                domain in ("image_domain", "natural_language_domain", "struct_domain") or \
                (feature.type == schema_pb2.FLOAT and feature.float_domain.is_categorical):
            return False
    return True


def _sketch(options: Options):
    from tfx_bsl import sketches

    return sketches.QuantilesSketch(eps=options.epsilon, max_num_elements=1 << 32,
                                    num_streams=1)


@dataclass
class _Feature:
    """One feature's running statistics (BasicStatsGenerator's partial stats)."""

    options: Options
    kind: Optional[int] = None  # statistics type, once a batch tells it
    non_missing: int = 0
    min_values: int = 2 ** 63 - 1
    max_values: int = 0
    total_values: int = 0
    num_values: object = None
    text_bytes: int = 0
    invalid_utf8: int = 0
    zeros: int = 0
    nan: int = 0
    low: float = float("inf")
    high: float = float("-inf")
    finite_low: float = float("inf")
    finite_high: float = float("-inf")
    pos_inf: float = 0.0
    quantiles: object = None
    moments: object = None
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.num_values, self.quantiles = _sketch(self.options), _sketch(self.options)
        self.moments = tfdv_parts.variance_util().MeanVarAccumulator()

    def add(self, column: pa.Array, categorical: bool) -> None:
        from tfx_bsl.arrow import array_util

        self.kind = self.kind if self.kind is not None else _type_of(column.type)
        if not len(column):
            return
        present = ~np.asarray(array_util.GetArrayNullBitmapAsByteArray(column)).view(bool)
        lengths = np.asarray(array_util.ListLengthsFromListArray(column))[present]
        self.non_missing += len(column) - column.null_count
        self.max_values = np.maximum.reduce(lengths, initial=self.max_values)
        self.min_values = np.minimum.reduce(lengths, initial=self.min_values)
        self.total_values += np.sum(lengths)
        grouped = pc.value_counts(pa.array(lengths))
        self.num_values.AddValues(grouped.field(0), grouped.field(1))
        values = column.flatten()
        if self.kind == Stats.STRING or (categorical and self.kind == Stats.INT):
            self._add_text(values)
        elif self.kind in (Stats.INT, Stats.FLOAT):
            self._add_numbers(values)

    def _add_text(self, values: pa.Array) -> None:
        from tfx_bsl.arrow import array_util

        if pa.types.is_integer(values.type):
            self.text_bytes += int(np.sum([len(str(v)) for v in np.asarray(values)],
                                          dtype=np.int64))
        else:
            self.text_bytes += int(array_util.GetBinaryArrayTotalByteSize(values))
            self.invalid_utf8 += array_util.CountInvalidUTF8(values)
        counted = pc.value_counts(values)
        self.counts.update(dict(zip(counted.field("values").to_pylist(),
                                    counted.field("counts").to_pylist())))

    def _add_numbers(self, values: pa.Array) -> None:
        if not len(values):
            return
        array = np.asarray(values)
        nan_mask = np.isnan(array)
        self.nan += np.sum(nan_mask)
        array = array[~nan_mask]
        if array.size == 0:
            return
        self.moments.update(array.astype(np.float64))
        low, high = np.min(array), np.max(array)
        self.low, self.high = min(self.low, low), max(self.high, high)
        if low == float("-inf") or high == float("inf"):
            finite = array[np.isfinite(array)]
            if finite.size:
                self.finite_low = min(self.finite_low, np.min(finite))
                self.finite_high = max(self.finite_high, np.max(finite))
        else:
            self.finite_low, self.finite_high = (min(self.finite_low, low),
                                                 max(self.finite_high, high))
        self.pos_inf += np.isposinf(array).sum()
        self.zeros += array.size - np.count_nonzero(array)
        self.quantiles.AddValues(pa.array(array))


def _type_of(arrow_type: pa.DataType) -> Optional[int]:
    value_type = arrow_type.value_type if hasattr(arrow_type, "value_type") else arrow_type
    if pa.types.is_integer(value_type):
        return Stats.INT
    if pa.types.is_floating(value_type):
        return Stats.FLOAT
    if pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type) or \
            pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
        return Stats.STRING
    return None


def _quantiles(sketch, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    quantiles, counts = sketch.GetQuantilesAndCumulativeWeights(buckets)
    return (quantiles.flatten().to_numpy(zero_copy_only=False),
            counts.flatten().to_numpy(zero_copy_only=False))


def _common(state: _Feature, examples: int) -> statistics_pb2.CommonStatistics:
    common = statistics_pb2.CommonStatistics(num_non_missing=state.non_missing,
                                             num_missing=examples - state.non_missing)
    if state.non_missing:
        common.min_num_values = int(state.min_values)
        common.max_num_values = int(state.max_values)
        common.tot_num_values = int(state.total_values)
        common.avg_num_values = common.tot_num_values / common.num_non_missing
        histogram = tfdv_parts.quantiles_util().generate_quantiles_histogram(
            *_quantiles(state.num_values, state.options.num_values_histogram_buckets))
        common.num_values_histogram.CopyFrom(histogram)
    return common


def _numeric(state: _Feature) -> statistics_pb2.NumericStatistics:
    """BasicStatsGenerator's _make_numeric_stats_proto, for unweighted features."""
    result, options = statistics_pb2.NumericStatistics(), state.options
    quantiles_util = tfdv_parts.quantiles_util()
    total = int(state.total_values) - int(state.nan)
    if total == 0:
        if state.nan:
            for kind in (statistics_pb2.Histogram.STANDARD, statistics_pb2.Histogram.QUANTILES):
                result.histograms.add(type=kind).num_nan = int(state.nan)
        return result
    result.mean = float(state.moments.mean)
    result.std_dev = math.sqrt(max(0, state.moments.variance))
    result.num_zeros = int(state.zeros)
    result.min, result.max = float(state.low), float(state.high)
    quantiles, counts = _quantiles(state.quantiles,
                                   _QUANTILES_FACTOR * options.num_quantiles_histogram_buckets)
    result.median = float(quantiles_util.find_median(quantiles))
    standard = quantiles_util.generate_equi_width_histogram(
        quantiles=quantiles, cumulative_counts=counts, finite_min=state.finite_low,
        finite_max=state.finite_high, num_buckets=options.num_histogram_buckets,
        num_pos_inf=state.pos_inf)
    by_quantile = quantiles_util.generate_quantiles_histogram(
        *quantiles_util.rebin_quantiles(quantiles, counts, _QUANTILES_FACTOR))
    for histogram in (standard, by_quantile):
        histogram.num_nan = int(state.nan)
        result.histograms.add().CopyFrom(histogram)
    return result


def _text(state: _Feature, examples: int) -> statistics_pb2.StringStatistics:
    """Basic string statistics plus TopKUniquesStatsGenerator's exact top values."""
    result = statistics_pb2.StringStatistics(invalid_utf8_count=int(state.invalid_utf8))
    if state.total_values:
        result.avg_length = state.text_bytes / int(state.total_values)
    result.common_stats.CopyFrom(_common(state, examples))
    if not state.counts:
        return result
    result.unique = len(state.counts)
    options = state.options
    ranked = sorted(((count, value) for value, count in state.counts.items()), reverse=True)
    for rank, (count, value) in enumerate(
            ranked[:max(options.num_top_values, options.num_rank_histogram_buckets)]):
        label = _label(value)
        if rank < options.num_top_values:
            result.top_values.add(value=label, frequency=count)
        if rank < options.num_rank_histogram_buckets:
            result.rank_histogram.buckets.add(low_rank=rank, high_rank=rank, label=label,
                                              sample_count=count)
    return result


def _label(value) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return _NON_UTF8
    return str(value)


def statistics(batches: Iterable[pa.RecordBatch], schema: schema_pb2.Schema,
               names: list[str], options: Options = Options()
               ) -> statistics_pb2.DatasetFeatureStatisticsList:
    """The statistics of the `names` columns of the batches (features in `names` order)."""
    categorical = {f.name for f in schema.feature
                   if f.type == schema_pb2.INT and (f.int_domain.is_categorical
                                                    or f.WhichOneof("domain_info") == "bool_domain")}
    states: dict[str, _Feature] = {}
    examples = 0
    for batch in batches:
        examples += batch.num_rows
        for name in names:
            index = batch.schema.get_field_index(name)
            if index >= 0:
                states.setdefault(name, _Feature(options)).add(batch.column(index),
                                                               name in categorical)
    result = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = result.datasets.add(num_examples=examples)
    for name in names:
        if name in states:
            dataset.features.add().CopyFrom(_feature(name, states[name], examples,
                                                     name in categorical))
    return result


def _feature(name: str, state: _Feature, examples: int, categorical: bool) -> Stats:
    feature = Stats(type=state.kind if state.kind is not None else Stats.STRING)
    feature.path.step.append(name)
    if feature.type == Stats.STRING or (categorical and feature.type == Stats.INT):
        feature.string_stats.CopyFrom(_text(state, examples))
    else:
        numeric = _numeric(state)
        numeric.common_stats.CopyFrom(_common(state, examples))
        feature.num_stats.CopyFrom(numeric)
    return feature
