"""The data half of the run page: each feature's train and eval distributions, missing
share, the schema's expectation, its anomalies and its drift against the previous span.

Charts are the drift report's inline SVGs (pipeline/drift/report.py), with train as the
first side and eval as the second, so both pages read the same way.
"""

from __future__ import annotations

import html
from typing import Optional

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from pipeline import readers
from pipeline.drift import report as drift_report
from pipeline.summary.summary import RunSummary

TRAIN, EVAL = "train", "eval"
esc = html.escape


def statistics_by_split(summary: RunSummary) -> dict:
    """{split: DatasetFeatureStatisticsList} of the run's StatisticsGen output."""
    artifacts = summary.outputs.get("StatisticsGen", {}).get("statistics", [])
    return dict(readers.split_statistics(artifacts[0])) if artifacts else {}


def run_schema(summary: RunSummary) -> Optional[schema_pb2.Schema]:
    artifacts = summary.outputs.get("ImportSchemaGen", {}).get("schema", [])
    return readers.read_schema(artifacts[0].uri) if artifacts else None


def feature_names(stats: dict) -> list[str]:
    names = []
    for split_stats in stats.values():
        for dataset in split_stats.datasets[:1]:
            for feature in dataset.features:
                name = ".".join(feature.path.step) or feature.name
                if name not in names:
                    names.append(name)
    return names


def _common(feature) -> Optional[statistics_pb2.CommonStatistics]:
    if feature is None:
        return None
    for kind in ("num_stats", "string_stats", "bytes_stats", "struct_stats"):
        if feature.HasField(kind):
            return getattr(feature, kind).common_stats
    return None


def missing_share(feature) -> Optional[float]:
    """Rows without a value: missing, or present with no values (an empty CSV cell reaches
    StatisticsGen as an empty list, which TFDV counts as non-missing)."""
    common = _common(feature)
    if common is None:
        return None
    total = common.num_missing + common.num_non_missing
    empty = sum(b.sample_count for b in common.num_values_histogram.buckets
                if b.high_value == 0)
    return min(1.0, (common.num_missing + empty) / total) if total else None


def expectation(schema: Optional[schema_pb2.Schema], name: str) -> str:
    """What the curated schema expects of a feature, in a few words."""
    feature = next((f for f in (schema.feature if schema else []) if f.name == name), None)
    if feature is None:
        return "not in the schema"
    parts = [schema_pb2.FeatureType.Name(feature.type)]
    if feature.HasField("presence") and feature.presence.min_fraction > 0:
        parts.append(f"present in ≥ {feature.presence.min_fraction:.0%} of rows")
    else:
        parts.append("optional")
    if feature.domain:
        domain = next((d for d in schema.string_domain if d.name == feature.domain), None)
        parts.append(f"domain {feature.domain}" + (f" ({len(domain.value)} values)"
                                                   if domain else ""))
    elif feature.HasField("string_domain"):
        parts.append(f"{len(feature.string_domain.value)} allowed values")
    elif feature.HasField("int_domain") and feature.int_domain.HasField("max"):
        parts.append(f"{feature.int_domain.min} to {feature.int_domain.max}")
    elif feature.HasField("float_domain") and feature.float_domain.HasField("max"):
        parts.append(f"{feature.float_domain.min:g} to {feature.float_domain.max:g}")
    if feature.not_in_environment:
        parts.append("not in " + ", ".join(feature.not_in_environment))
    return ", ".join(parts)


def _share(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _chart(train, evaluation, name: str) -> str:
    sample = train or evaluation
    if sample is not None and sample.HasField("string_stats"):
        return drift_report.categorical_svg(train, evaluation, name, bar_width=300)
    if sample is not None and sample.HasField("num_stats"):
        return drift_report.numeric_svg(train, evaluation, name, width=520, height=160)
    return "<p>No statistics for this feature.</p>"


def _drift_cell(result: Optional[dict]) -> str:
    if result is None:
        return "<td>n/a</td>"
    value = "n/a" if result["value"] is None else f"{result['value']:.4f}"
    css = "num" if result["verdict"] == "ok" else "num over"
    return (f"<td class=\"{css}\">{esc(result['metric'])} {value} "
            f"(threshold {result['threshold']:g}): {esc(result['verdict'])}</td>")


def features_section(summary: RunSummary) -> str:
    stats = statistics_by_split(summary)
    if not stats:
        return ("<section id=\"features\"><h2>Features</h2><p>No statistics in this run."
                "</p></section>")
    schema = run_schema(summary)
    drifts = {f["feature"]: f for f in ((summary.drift or {}).get("features") or [])}
    anomalous: dict[str, list[str]] = {}
    for anomaly in summary.anomalies:
        anomalous.setdefault(anomaly.feature, []).append(
            f"[{anomaly.split}] {anomaly.kind}: {anomaly.description}")
    rows, charts = [], []
    for name in feature_names(stats):
        sides = [drift_report.feature_stats(stats[s], name) if s in stats else None
                 for s in (TRAIN, EVAL)]
        problems = anomalous.get(name, [])
        css = " class=\"anomaly\"" if problems else ""
        rows.append(f"<tr{css}><td><a href=\"#feature-{esc(name)}\">{esc(name)}</a></td>"
                    f"<td class=\"num\">{_share(missing_share(sides[0]))}</td>"
                    f"<td class=\"num\">{_share(missing_share(sides[1]))}</td>"
                    f"<td>{esc(expectation(schema, name))}</td>{_drift_cell(drifts.get(name))}"
                    f"<td>{'<br>'.join(esc(p) for p in problems) or 'none'}</td></tr>")
        charts.append(f"<figure id=\"feature-{esc(name)}\"{css}><figcaption>{esc(name)}"
                      f"{' — anomaly' if problems else ''}</figcaption>"
                      f"{_chart(*sides, name)}</figure>")
    legend = (f"<p class=\"legend\">train<span style=\"background:"
              f"{drift_report.BASELINE_COLOR}\"></span> eval<span style=\"background:"
              f"{drift_report.CURRENT_COLOR}\"></span></p>")
    return (f"<section id=\"features\"><h2>Features</h2><table id=\"feature-table\"><thead><tr>"
            f"<th>feature</th><th>missing (train)</th><th>missing (eval)</th>"
            f"<th>schema expects</th><th>drift vs previous span</th><th>anomalies</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>{legend}"
            f"<div class=\"charts\">{''.join(charts)}</div></section>")


def drift_section(summary: RunSummary) -> str:
    report = summary.drift
    if report is None:
        return ""
    if not report.get("computed"):
        reason = report.get("reason", "no previous span")
        return f"<section id=\"drift\"><h2>Drift</h2><p>Not computed: {esc(reason)}.</p></section>"
    over = [f for f in report["features"] if f["verdict"] != "ok"]
    return (f"<section id=\"drift\"><h2>Drift: {esc(str(report['current']))} vs "
            f"{esc(str(report['baseline']))}</h2><p>{len(over)} of {len(report['features'])} "
            f"features over threshold (per feature in the table above).</p></section>")
