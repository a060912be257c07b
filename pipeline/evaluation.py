"""Reading the Evaluator's output: the overall metrics and the thresholds a model missed.

`overall_metrics` reads the metrics file with TFMA's own proto module but without TFMA's
package (whose import loads Beam, TensorFlow and TFMA's whole API before the first line
of a lineage answer) and names the metrics as TFMA's `load_eval_result` does: `<name>`,
`<name>_diff` for the change against the baseline, `<aggregation>_<name>`, the
candidate's when a baseline was evaluated too.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from pipeline import readers

_METRICS_MODULE = "tensorflow_model_analysis.proto.metrics_for_slice_pb2"
OVERALL = "overall"


def overall_metrics(evaluation_uri: str) -> dict[str, float]:
    """The overall slice's metrics of an Evaluator output, by metric name."""
    return next((values for name, values in metrics_by_slice(evaluation_uri)
                 if name == OVERALL), {})


def metrics_by_slice(evaluation_uri: str) -> list[tuple[str, dict[str, float]]]:
    """(slice name, metrics by name) of every single slice of an Evaluator output, in the
    order TFMA wrote them; the overall slice is named OVERALL."""
    protos = _metrics_module()
    found = []
    for path in readers.glob(os.path.join(evaluation_uri, "metrics*")):
        for record in readers.records(path):
            metrics_for_slice = protos.MetricsForSlice.FromString(record)
            if metrics_for_slice.HasField("cross_slice_key"):
                continue
            by_model = _by_model(metrics_for_slice)
            if by_model is not None:
                found.append((_slice_name(metrics_for_slice.slice_key), {
                    name: value for by_sub_key in by_model.values()
                    for values in by_sub_key.values() for name, value in values.items()}))
    return found


def _by_model(metrics_for_slice):
    """{output: {sub key: {name: value}}} of the one model TFMA's viewer would show (the
    candidate's, with the model-independent metrics such as example_count), or None."""
    models: dict = {}
    if metrics_for_slice.metrics:
        models[""] = {"": {"": {name: value.double_value.value
                                for name, value in metrics_for_slice.metrics.items()
                                if value.HasField("double_value")}}}
    candidate = None
    for item in metrics_for_slice.metric_keys_and_values:
        key = item.key
        outputs = models.setdefault(key.model_name, {}).setdefault(key.output_name, {})
        values = outputs.setdefault(key.sub_key.SerializeToString()
                                    if key.HasField("sub_key") else b"", {})
        if key.is_diff:
            candidate = key.model_name if candidate in (None, key.model_name) else ""
            name = f"{key.name}_diff"
        elif key.HasField("aggregation_type"):
            name = f"{key.aggregation_type}_{key.name}"
        else:
            name = key.name
        if item.value.HasField("double_value") and not _has_interval(item):
            values[name] = float(item.value.double_value.value)
    if candidate in models:
        chosen = models[candidate]
        if candidate and "" in models:
            for output, by_sub_key in models[""].items():
                for sub_key, values in by_sub_key.items():
                    chosen.setdefault(output, {}).setdefault(sub_key, {}).update(values)
        return chosen
    if not candidate and len(models) == 1:
        return next(iter(models.values()))
    return None


def _has_interval(item) -> bool:
    """TFMA's viewer shows a metric with a confidence interval as a bounded value."""
    interval = item.confidence_interval
    return interval.HasField("lower_bound") and interval.HasField("upper_bound")


def _metrics_module():
    """TFMA's MetricsForSlice proto module, which needs only protobuf, loaded from its
    file. It is registered under its own name, so a later `import
    tensorflow_model_analysis` in the same process finds it and defines nothing twice."""
    if _METRICS_MODULE in sys.modules:
        return sys.modules[_METRICS_MODULE]
    package = importlib.util.find_spec("tensorflow_model_analysis")
    path = os.path.join(package.submodule_search_locations[0], "proto",
                        "metrics_for_slice_pb2.py")
    spec = importlib.util.spec_from_file_location(_METRICS_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_METRICS_MODULE] = module
    spec.loader.exec_module(module)
    return module


def failed_thresholds(evaluation_uri: str) -> list[str]:
    """One line per metric that missed its threshold, naming metric, value and bound."""
    import tensorflow_model_analysis as tfma

    lines = []
    validation = tfma.load_validation_result(evaluation_uri)
    for per_slice in validation.metric_validations_per_slice:
        slice_name = _slice_name(per_slice.slice_key)
        for failure in per_slice.failures:
            kind = "change vs baseline" if failure.metric_key.is_diff else "value"
            lines.append(f"{failure.metric_key.name} ({kind}, slice {slice_name}) = "
                         f"{failure.metric_value.double_value.value:.4f} misses "
                         f"{_threshold_text(failure.metric_threshold, tfma)}")
    return lines


def _slice_name(slice_key) -> str:
    return ", ".join(f"{c.column}={_slice_value(c)}" for c in slice_key.single_slice_keys) \
        or OVERALL


def _slice_value(column):
    if column.HasField("bytes_value"):
        return column.bytes_value.decode()
    return column.int64_value if column.HasField("int64_value") else column.float_value


def _threshold_text(threshold, tfma) -> str:
    if threshold.HasField("value_threshold"):
        bounds = threshold.value_threshold
        parts = []
        if bounds.HasField("lower_bound"):
            parts.append(f">= {bounds.lower_bound.value}")
        if bounds.HasField("upper_bound"):
            parts.append(f"<= {bounds.upper_bound.value}")
        return " and ".join(parts)
    change = threshold.change_threshold
    return f"change bound {change.absolute.value} ({tfma.MetricDirection.Name(change.direction)})"
