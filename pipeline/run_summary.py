"""What a run did, read back from ML Metadata and the artifacts it points to.

The summary is built from the metadata store rather than from the runner's memory so
that it means the same thing for a run that executed, a run that was cached, and a
run that failed half way (the CLI prints it in every case).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Optional

import tensorflow_data_validation as tfdv
import tensorflow_model_analysis as tfma
from ml_metadata import metadata_store
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components import anomalies as anomalies_lib
from components.tflite_export import SIDECAR_FILE, TFLITE_FILE
from components.versioned_pusher.executor import TFLITE_SUBDIR
from pipeline import mlmd_queries

STATS_FILE = "FeatureStats.pb"


@dataclass
class RunSummary:
    run_id: str
    components: list[tuple[str, str]] = field(default_factory=list)
    span: Optional[int] = None
    rows: dict[str, int] = field(default_factory=dict)
    anomalies: list[anomalies_lib.Anomaly] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    blessed: Optional[bool] = None
    failed_thresholds: list[str] = field(default_factory=list)
    pushed: Optional[bool] = None
    push_note: str = ""
    saved_model: Optional[str] = None
    tflite_model: Optional[str] = None
    tflite_parity: dict = field(default_factory=dict)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    drift: Optional[dict] = None  # DriftCheck's report.json (components/drift_check)

    def state_of(self, node: str) -> Optional[str]:
        return dict(self.components).get(node)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["anomalies"] = [asdict(a) for a in self.anomalies]
        return data


def summarize(store: metadata_store.MetadataStore, pipeline_name: str,
              since: Optional[float] = None) -> Optional[RunSummary]:
    """The latest run of the pipeline; None if there is none (or none since `since`, in
    seconds since the epoch, e.g. when a run failed before its first component)."""
    run = mlmd_queries.latest_run(store, pipeline_name)
    if run is None or (since is not None and run.create_time_since_epoch < since * 1000 - 1000):
        return None
    summary = RunSummary(run_id=run.name)
    outputs_by_node = {}
    for item in mlmd_queries.run_executions(store, run):
        summary.components.append((item.node, item.state))
        outputs = outputs_by_node[item.node] = mlmd_queries.outputs(store, item.execution)
        reader = _READERS.get(item.node)
        if reader and outputs:
            reader(summary, outputs)
    statistics = outputs_by_node.get("StatisticsGen", {}).get("statistics")
    schema = outputs_by_node.get("ImportSchemaGen", {}).get("schema")
    if statistics and schema:
        summary.unseen_categories = unseen_categories(statistics[0], schema[0])
    return summary


def unseen_categories(statistics, schema_artifact) -> dict[str, list[str]]:
    """Values of string features outside the curated schema's domain, per feature.

    ExampleValidator tolerates them below the domain's min_domain_mass and the model maps
    them to OOV buckets; they are still worth a line in the summary, since a new value
    that grows is the first sign of a changed upstream system.
    """
    schema = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema_artifact.uri))
    domains = {d.name: set(d.value) for d in schema.string_domain}
    wanted = {f.name: domains.get(f.domain) for f in schema.feature if f.domain in domains}
    wanted.update({f.name: set(f.string_domain.value) for f in schema.feature
                   if f.HasField("string_domain")})
    unseen: dict[str, set[str]] = {}
    for split in artifact_utils.decode_split_names(statistics.split_names):
        path = os.path.join(artifact_utils.get_split_uri([statistics], split), STATS_FILE)
        for dataset in tfdv.load_stats_binary(path).datasets:
            for feature in dataset.features:
                name = feature.path.step[0] if feature.path.step else feature.name
                if name not in wanted or not feature.HasField("string_stats"):
                    continue
                values = {b.label for b in feature.string_stats.rank_histogram.buckets}
                values |= {v.value for v in feature.string_stats.top_values}
                new = values - wanted[name]
                if new:
                    unseen.setdefault(name, set()).update(new)
    return {name: sorted(values) for name, values in sorted(unseen.items())}


def _examples(summary: RunSummary, outputs) -> None:
    examples = outputs.get("examples", [])
    if examples:
        summary.span = mlmd_queries.int_property(examples[0], "span")


def _statistics(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("statistics", []):
        summary.rows.update(rows_per_split(artifact))


def rows_per_split(statistics) -> dict[str, int]:
    """Examples per split of a StatisticsGen output artifact (also used by lineage)."""
    rows = {}
    for split in artifact_utils.decode_split_names(statistics.split_names):
        path = os.path.join(artifact_utils.get_split_uri([statistics], split), STATS_FILE)
        stats = tfdv.load_stats_binary(path)
        rows[split] = int(sum(d.num_examples for d in stats.datasets))
    return rows


def _anomalies(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("anomalies", []):
        summary.anomalies.extend(anomalies_lib.read(artifact))


def _evaluation(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("evaluation", []):
        summary.metrics.update(overall_metrics(artifact.uri))
        validation = tfma.load_validation_result(artifact.uri)
        summary.failed_thresholds = failed_thresholds(validation)
    for artifact in outputs.get("blessing", []):
        summary.blessed = bool(artifact.get_int_custom_property("blessed"))


def overall_metrics(evaluation_uri: str) -> dict[str, float]:
    """The overall-slice metrics of an Evaluator output (also used by lineage)."""
    metrics = {}
    result = tfma.load_eval_result(evaluation_uri)
    overall = next((m for key, m in result.slicing_metrics if key == ()), {})
    for by_sub_key in overall.values():
        for values in by_sub_key.values():
            for name, value in values.items():
                if "doubleValue" in value:
                    metrics[name] = float(value["doubleValue"])
    return metrics


def failed_thresholds(validation) -> list[str]:
    """One line per metric that missed its threshold, naming metric, value and bound."""
    lines = []
    for per_slice in validation.metric_validations_per_slice:
        slice_name = _slice_name(per_slice.slice_key)
        for failure in per_slice.failures:
            metric = failure.metric_key.name
            kind = "change vs baseline" if failure.metric_key.is_diff else "value"
            lines.append(f"{metric} ({kind}, slice {slice_name}) = "
                         f"{failure.metric_value.double_value.value:.4f} misses "
                         f"{_threshold_text(failure.metric_threshold)}")
    return lines


def _slice_name(slice_key) -> str:
    parts = [f"{c.column}={c.bytes_value.decode() if c.HasField('bytes_value') else c.int64_value if c.HasField('int64_value') else c.float_value}"
             for c in slice_key.single_slice_keys]
    return ", ".join(parts) or "overall"


def _threshold_text(threshold) -> str:
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


def _pushed(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("pushed_model", []):
        summary.pushed = bool(artifact.get_int_custom_property("pushed"))
        summary.push_note = artifact.get_string_custom_property("reason")
        destination = artifact.get_string_custom_property("pushed_destination")
        if destination:
            summary.saved_model = destination
            summary.tflite_model = os.path.join(destination, TFLITE_SUBDIR, TFLITE_FILE)
            sidecar = os.path.join(destination, TFLITE_SUBDIR, SIDECAR_FILE)
            if os.path.exists(sidecar):
                with open(sidecar, encoding="utf-8") as handle:
                    summary.tflite_parity = json.load(handle).get("parity", {})


def _drift(summary: RunSummary, outputs) -> None:
    from components.drift_check.executor import read_report

    for artifact in outputs.get("drift", []):
        summary.drift = read_report(artifact)


def _drift_lines(report: Optional[dict]) -> list[str]:
    if report is None:
        return []
    if not report.get("computed"):
        return [f"Drift: not computed ({report.get('reason', 'no previous span')})"]
    over = [f for f in report["features"] if f["verdict"] != "ok"]
    head = f"Drift {report['current']} vs {report['baseline']}: "
    if not over:
        return [head + f"none over threshold ({len(report['features'])} features)"]
    return [head + f"{len(over)} feature(s) over threshold"] + [
        f"  {f['feature']}: {f['metric']} "
        f"{'n/a' if f['value'] is None else format(f['value'], '.4f')} > {f['threshold']}"
        for f in over]


_READERS = {
    "CsvExampleGen": _examples,
    "StatisticsGen": _statistics,
    "ExampleValidator": _anomalies,
    "Evaluator": _evaluation,
    "VersionedPusher": _pushed,
    "DriftCheck": _drift,
}


def render_text(summary: RunSummary) -> str:
    lines = [f"Run {summary.run_id}" + (f" (span {summary.span})" if summary.span else "")]
    lines.append("Components:")
    lines += [f"  {node:<30} {state}" for node, state in summary.components]
    if summary.rows:
        lines.append("Rows: " + ", ".join(f"{split} {count}" for split, count in
                                          sorted(summary.rows.items())))
    if summary.anomalies:
        lines.append(f"Anomalies ({len(summary.anomalies)}):")
        lines += [f"  {a}" for a in summary.anomalies]
    elif summary.state_of("ExampleValidator") in ("executed", "cached"):
        lines.append("Anomalies: none")
    for name, values in summary.unseen_categories.items():
        shown = ", ".join(repr(v) for v in values[:5]) + (" ..." if len(values) > 5 else "")
        lines.append(f"Unseen categories of {name} (tolerated, mapped to OOV buckets): {shown}")
    lines += _drift_lines(summary.drift)
    if summary.metrics:
        lines.append("Evaluation (overall): " + ", ".join(
            f"{name} {value:.4f}" for name, value in sorted(summary.metrics.items())))
    if summary.blessed is not None:
        lines.append(f"Blessing: {'BLESSED' if summary.blessed else 'NOT BLESSED'}")
        lines += [f"  {line}" for line in summary.failed_thresholds]
    if summary.pushed is not None:
        if summary.pushed:
            lines.append(f"Pushed SavedModel: {summary.saved_model}")
            lines.append(f"Pushed TFLite (int8): {summary.tflite_model}")
        else:
            lines.append(f"Not pushed: {summary.push_note}"
                         + (f" ({summary.saved_model})" if summary.saved_model else ""))
        if summary.tflite_parity:
            parity = summary.tflite_parity
            lines.append(f"TFLite parity ({parity.get('method')}): accuracy "
                         f"{parity.get('tflite_accuracy', 0):.4f} vs float "
                         f"{parity.get('float_accuracy', 0):.4f} on {parity.get('examples')} "
                         f"eval examples")
    return "\n".join(lines)
