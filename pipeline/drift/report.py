"""Drift and skew reports for people (text, HTML) and for schedulers (JSON).

The HTML report is one file with no scripts and no network fetches: a summary table and,
for each feature, an inline SVG of both distributions drawn from the TFDV statistics
(quantile histograms for numeric features, value frequencies for categorical ones).
"""

from __future__ import annotations

import html
import json
from typing import Optional

from tensorflow_metadata.proto.v0 import statistics_pb2

from components import drift

TOP_VALUES = 10
BINS = 30
BASELINE_COLOR, CURRENT_COLOR = "#1f77b4", "#ff7f0e"


def render(report: drift.Report, output_format: str) -> str:
    if output_format == "json":
        return render_json(report)
    if output_format == "html":
        return render_html(report)
    return render_text(report)


def render_json(report: drift.Report) -> str:
    return json.dumps(report.to_dict(), indent=2)


def _value(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def render_text(report: drift.Report) -> str:
    title = (f"{report.comparison.capitalize()}: {report.current} vs {report.baseline}")
    rows = [("feature", "kind", "metric", "value", "threshold", "verdict")]
    rows += [(f.feature, f.kind, f.metric, _value(f.value), f"{f.threshold:g}",
              f.verdict.upper() if f.verdict != drift.OK else f.verdict)
             for f in report.features]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title, ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines += ["", f"{len(report.over)} of {len(report.features)} features over threshold"]
    return "\n".join(lines)


# ---- HTML ---------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.over td { background: #fde2e1; }
tr.over td.verdict { color: #b00020; font-weight: bold; }
section { margin-bottom: 2em; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; }
"""


def render_html(report: drift.Report) -> str:
    title = f"{report.comparison.capitalize()} report: {report.current} vs {report.baseline}"
    return render_html_page(title, [report])


def render_html_page(title: str, reports: list[drift.Report], intro: str = "") -> str:
    """One self-contained page of several reports (`monitor`'s skew and drift), each with
    its summary table and distributions; `intro` is trusted HTML put under the title."""
    esc = html.escape
    several = len(reports) > 1
    parts = [_html_report(r, f"{r.comparison}-" if several else "", several) for r in reports]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{esc(title)}</h1>
{intro}{chr(10).join(parts)}
</body></html>
"""


def _html_report(report: drift.Report, ids: str, heading: bool) -> str:
    """The summary table and distributions of one report; `ids` prefixes its element ids
    so that several reports share a page."""
    esc = html.escape
    rows = []
    for f in report.features:
        css = "" if f.verdict == drift.OK else " class=\"over\""
        rows.append(
            f"<tr{css}><td><a href=\"#{ids}f-{esc(f.feature)}\">{esc(f.feature)}</a></td>"
            f"<td>{esc(f.kind)}</td><td>{esc(f.metric)}</td><td class=\"num\">{_value(f.value)}</td>"
            f"<td class=\"num\">{f.threshold:g}</td><td class=\"verdict\">{esc(f.verdict)}</td>"
            f"<td>{esc(f.threshold_source)}</td></tr>")
    sections = []
    for f in report.features:
        sides = (feature_stats(report.baseline_statistics, f.feature),
                 feature_stats(report.current_statistics, f.feature))
        picture = (numeric_svg(*sides, f.feature) if f.kind == drift.NUMERIC
                   else categorical_svg(*sides, f.feature))
        sections.append(f"<section id=\"{ids}f-{esc(f.feature)}\"><h3>{esc(f.feature)} "
                        f"<small>({esc(f.metric)} {_value(f.value)}, threshold "
                        f"{f.threshold:g}: {esc(f.verdict)})</small></h3>{picture}</section>")
    legend = (f"<p class=\"legend\">baseline<span style=\"background:{BASELINE_COLOR}\"></span>"
              f"{esc(report.baseline)}&nbsp;&nbsp; current"
              f"<span style=\"background:{CURRENT_COLOR}\"></span>{esc(report.current)}</p>")
    title = (f"<h2>{esc(report.comparison.capitalize())}: {esc(report.current)} vs "
             f"{esc(report.baseline)}</h2>\n" if heading else "")
    return f"""{title}<p>{len(report.over)} of {len(report.features)} features over threshold. Sorted by how far
each is over its threshold.</p>
<table id="{ids}summary">
<thead><tr><th>feature</th><th>kind</th><th>distance metric</th><th>value</th><th>threshold</th>
<th>verdict</th><th>threshold from</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h{3 if heading else 2}>Distributions</h{3 if heading else 2}>
{legend}
{chr(10).join(sections)}"""


def feature_stats(stats: statistics_pb2.DatasetFeatureStatisticsList,
                   name: str) -> Optional[statistics_pb2.FeatureNameStatistics]:
    for dataset in stats.datasets[:1]:
        for feature in dataset.features:
            if ".".join(feature.path.step) == name or feature.name == name:
                return feature
    return None


def _quantile_buckets(feature) -> list[tuple[float, float, float]]:
    if feature is None or not feature.HasField("num_stats"):
        return []
    for histogram in feature.num_stats.histograms:
        if histogram.type == statistics_pb2.Histogram.QUANTILES:
            return [(b.low_value, b.high_value, b.sample_count) for b in histogram.buckets]
    return []


def _mass_between(buckets, low: float, high: float) -> float:
    """Share of a histogram's mass in [low, high), values uniform within each bucket."""
    total = sum(c for _, _, c in buckets) or 1.0
    mass = 0.0
    for b_low, b_high, count in buckets:
        if b_high <= b_low:  # a point bucket
            mass += count if low <= b_low < high else 0.0
            continue
        overlap = min(high, b_high) - max(low, b_low)
        if overlap > 0:
            mass += count * overlap / (b_high - b_low)
    return mass / total


def numeric_svg(baseline, current, name: str, width: int = 640, height: int = 200) -> str:
    """Both sides' quantile histograms (FeatureNameStatistics, either may be None) overlaid
    on one grid."""
    sides = [_quantile_buckets(baseline), _quantile_buckets(current)]
    if not all(sides):
        return "<p>No numeric statistics on one side.</p>"
    # A common grid between the smaller 10th and the larger 90th percentile, with the
    # tails in the first and last bins, so one outlier cannot squash the picture.
    smallest, largest = min(q[0][0] for q in sides), max(q[-1][1] for q in sides)
    low = min(q[0][1] for q in sides)
    high = max(q[-1][0] for q in sides)
    if high <= low:
        low, high = smallest, max(largest, smallest + 1.0)
    step = (high - low) / (BINS - 2)
    edges = [min(smallest, low)] + [low + i * step for i in range(BINS - 1)]
    edges.append(max(largest, high) + step)  # the last bin includes the maximum
    masses = [[_mass_between(q, edges[i], edges[i + 1]) for i in range(BINS)] for q in sides]
    pad = 30
    peak = max(max(m) for m in masses) or 1.0
    bar = (width - 2 * pad) / BINS
    shapes = []
    for color, mass in zip((BASELINE_COLOR, CURRENT_COLOR), masses):
        for i, value in enumerate(mass):
            h = (height - 2 * pad) * value / peak
            shapes.append(f"<rect x=\"{pad + i * bar:.1f}\" y=\"{height - pad - h:.1f}\" "
                          f"width=\"{bar:.1f}\" height=\"{h:.1f}\" fill=\"{color}\" "
                          f"fill-opacity=\"0.5\"><title>{edges[i]:.4g} to {edges[i + 1]:.4g}: "
                          f"{value:.1%}</title></rect>")
    axis = (f"<line x1=\"{pad}\" y1=\"{height - pad}\" x2=\"{width - pad}\" y2=\"{height - pad}\" "
            f"stroke=\"#444\"/>"
            f"<text x=\"{pad}\" y=\"{height - 8}\" font-size=\"12\">(first bin: from "
            f"{smallest:.4g}) {low:.4g}</text>"
            f"<text x=\"{width - pad}\" y=\"{height - 8}\" font-size=\"12\" text-anchor=\"end\">"
            f"{high:.4g} (last bin: up to {largest:.4g})</text>")
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
            f"role=\"img\" aria-label=\"histograms of {html.escape(name)}\">"
            f"{''.join(shapes)}{axis}</svg>")


def _frequencies(feature) -> dict[str, float]:
    if feature is None or not feature.HasField("string_stats"):
        return {}
    string_stats = feature.string_stats
    counts = {b.label: b.sample_count for b in string_stats.rank_histogram.buckets}
    if not counts:
        counts = {v.value: v.frequency for v in string_stats.top_values}
    total = string_stats.common_stats.num_non_missing or sum(counts.values()) or 1.0
    return {label: count / total for label, count in counts.items()}


def categorical_svg(baseline, current, name: str, bar_width: int = 380) -> str:
    """Both sides' most frequent values (FeatureNameStatistics, either may be None), as
    paired bars of each value's share."""
    sides = [_frequencies(baseline), _frequencies(current)]
    if not any(sides):
        return "<p>No value counts on either side.</p>"
    # Ties broken by the value, so the same statistics always draw the same picture.
    values = sorted(set(sides[0]) | set(sides[1]),
                    key=lambda v: (-max(sides[0].get(v, 0.0), sides[1].get(v, 0.0)), v))
    values = values[:TOP_VALUES]
    label_width, row = 220, 26
    height = row * len(values) + 10
    peak = max(max(s.get(v, 0.0) for s in sides) for v in values) or 1.0
    shapes = []
    for i, value in enumerate(values):
        y = 5 + i * row
        shapes.append(f"<text x=\"{label_width - 6}\" y=\"{y + 16}\" font-size=\"12\" "
                      f"text-anchor=\"end\">{html.escape(value[:32])}</text>")
        for j, (color, side) in enumerate(zip((BASELINE_COLOR, CURRENT_COLOR), sides)):
            share = side.get(value, 0.0)
            w = bar_width * share / peak
            shapes.append(f"<rect x=\"{label_width}\" y=\"{y + j * 11}\" width=\"{w:.1f}\" "
                          f"height=\"10\" fill=\"{color}\"><title>{share:.1%}</title></rect>")
            shapes.append(f"<text x=\"{label_width + w + 4:.1f}\" y=\"{y + j * 11 + 9}\" "
                          f"font-size=\"10\">{share:.1%}</text>")
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{label_width + bar_width + 60}\" "
            f"height=\"{height}\" role=\"img\" aria-label=\"top values of {html.escape(name)}\">"
            f"{''.join(shapes)}</svg>")
