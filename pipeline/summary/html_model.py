"""The model half of the run page: TFMA's metrics overall and per slice (a table and a
chart), the comparison with the baseline, the blessing, and what was pushed."""

from __future__ import annotations

import html
import os
import re
from typing import Optional

from components import layout
from pipeline import evaluation, readers
from pipeline.summary.summary import RunSummary

esc = html.escape
# The metric a slice chart shows: the first of these the Evaluator computed.
_CHART_METRICS = ("binary_accuracy", "sparse_categorical_accuracy", "accuracy", "auc")
DIFF = "_diff"


def _evaluation_uri(summary: RunSummary) -> Optional[str]:
    artifacts = summary.outputs.get("Evaluator", {}).get("evaluation", [])
    return artifacts[0].uri if artifacts else None


def _number(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.4f}"


def _chart_metric(names) -> Optional[str]:
    return next((m for m in _CHART_METRICS if m in names), None)


def slice_chart(slices: list[tuple[str, dict]], metric: str) -> str:
    """One horizontal bar per slice, the overall slice first, scaled to the largest."""
    values = [(name, m[metric]) for name, m in slices if metric in m]
    label_width, bar_width, row = 260, 360, 20
    peak = max((abs(v) for _, v in values), default=1.0) or 1.0
    shapes = []
    for i, (name, value) in enumerate(values):
        y = 5 + i * row
        w = bar_width * abs(value) / peak
        shapes.append(f"<text x=\"{label_width - 6}\" y=\"{y + 13}\" font-size=\"12\" "
                      f"text-anchor=\"end\">{esc(name[:40])}</text>"
                      f"<rect x=\"{label_width}\" y=\"{y}\" width=\"{w:.1f}\" height=\"15\" "
                      f"fill=\"#2a9d8f\"><title>{esc(name)}: {value:.4f}</title></rect>"
                      f"<text x=\"{label_width + w + 4:.1f}\" y=\"{y + 12}\" font-size=\"11\">"
                      f"{value:.4f}</text>")
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{label_width + bar_width + 70}\" "
            f"height=\"{row * len(values) + 10}\" role=\"img\" aria-label=\"{esc(metric)} by "
            f"slice\">{''.join(shapes)}</svg>")


def evaluation_section(summary: RunSummary) -> str:
    uri = _evaluation_uri(summary)
    if uri is None:
        return ("<section id=\"evaluation\"><h2>Evaluation</h2><p>Not evaluated in this run"
                f"{_stopped(summary)}.</p></section>")
    slices = evaluation.metrics_by_slice(uri)
    slices.sort(key=lambda item: (item[0] != evaluation.OVERALL, _natural(item[0])))
    overall = dict(slices[0][1]) if slices and slices[0][0] == evaluation.OVERALL else {}
    names = sorted(n for n in overall if not n.endswith(DIFF))
    overall_rows = "".join(
        f"<tr><td>{esc(n)}</td><td class=\"num\">{_number(overall[n])}</td>"
        f"<td class=\"num\">{_number(overall.get(n + DIFF))}</td></tr>" for n in names)
    columns = sorted({n for _, m in slices for n in m if not n.endswith(DIFF)})
    slice_rows = "".join(
        f"<tr><td>{esc(name)}</td>" + "".join(f"<td class=\"num\">{_number(m.get(c))}</td>"
                                             for c in columns) + "</tr>"
        for name, m in slices)
    metric = _chart_metric(columns)
    chart = (f"<h3>{esc(metric)} by slice</h3>{slice_chart(slices, metric)}" if metric else "")
    return (f"<section id=\"evaluation\"><h2>Evaluation</h2>{_blessing(summary)}"
            f"<h3>Overall</h3><table id=\"overall-metrics\"><thead><tr><th>metric</th>"
            f"<th>value</th><th>change vs baseline</th></tr></thead><tbody>{overall_rows}"
            f"</tbody></table><h3>By slice</h3><table id=\"slice-metrics\"><thead><tr>"
            f"<th>slice</th>{''.join(f'<th>{esc(c)}</th>' for c in columns)}</tr></thead>"
            f"<tbody>{slice_rows}</tbody></table>{chart}</section>")


def _natural(name: str) -> list:
    """trip_start_hour=2 before trip_start_hour=10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name)]


def _blessing(summary: RunSummary) -> str:
    if summary.blessed is None:
        return "<p>No blessing recorded.</p>"
    verdict = "BLESSED" if summary.blessed else "NOT BLESSED"
    css = "ok" if summary.blessed else "bad"
    missed = "".join(f"<li>{esc(line)}</li>" for line in summary.failed_thresholds)
    return (f"<p id=\"blessing\" class=\"{css}\">Blessing: <strong>{verdict}</strong></p>"
            + (f"<ul>{missed}</ul>" if missed else ""))


def _stopped(summary: RunSummary) -> str:
    failed = [node for node, state in summary.components if state == "failed"]
    return f": the run stopped at {failed[0]}" if failed else ""


def _size(path: str, without: str = "") -> str:
    """The bytes under `path`, less those under `without` (a subfolder), for people."""
    try:
        size = readers.size_of(path) - (readers.size_of(without) if without else 0)
    except OSError:
        return "missing"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MiB"


def pushed_section(summary: RunSummary) -> str:
    if summary.pushed is None:
        return ("<section id=\"pushed\"><h2>Pushed</h2><p>Nothing pushed in this run"
                f"{_stopped(summary)}.</p></section>")
    if summary.state_of("VersionedPusher") == "cached":
        head = f"Cached run: version {summary.pushed_version} keeps serving; nothing new pushed."
    elif summary.pushed:
        head = f"Pushed version {summary.pushed_version}."
    else:
        head = f"Not pushed: {summary.push_note}."
    rows = []
    if summary.saved_model:
        # The version folder is the SavedModel plus the copied TFLite folder.
        tflite_dir = os.path.join(summary.saved_model, layout.TFLITE_SUBDIR)
        rows.append(("SavedModel", summary.saved_model, _size(summary.saved_model, tflite_dir)))
    if summary.tflite_model:
        rows.append(("TFLite (int8)", summary.tflite_model, _size(summary.tflite_model)))
    table = "".join(f"<tr><td>{esc(a)}</td><td><code>{esc(b)}</code></td>"
                    f"<td class=\"num\">{esc(c)}</td></tr>" for a, b, c in rows)
    parity = summary.tflite_parity
    parity_line = (f"<p id=\"parity\">TFLite parity ({esc(str(parity.get('method')))}): accuracy "
                   f"{parity.get('tflite_accuracy', 0):.4f} vs float "
                   f"{parity.get('float_accuracy', 0):.4f} on {parity.get('examples')} eval "
                   f"examples</p>" if parity else "")
    return (f"<section id=\"pushed\"><h2>Pushed</h2><p>{esc(head)}</p><table id=\"pushed-files\">"
            f"<thead><tr><th>what</th><th>where</th><th>size</th></tr></thead><tbody>{table}"
            f"</tbody></table>{parity_line}</section>")
