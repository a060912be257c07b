"""The run's page: one self-contained HTML file a person opens after `run`.

Everything is drawn from the RunSummary (ML Metadata and the files the artifacts point
to), so the page of an earlier run can be written again later (`python -m pipeline
report`). No scripts, no stylesheets or images fetched: inline CSS and inline SVG, so
the file can be mailed, attached to a ticket or opened offline and reads the same.
"""

from __future__ import annotations

import html
from pathlib import Path

from pipeline.summary import html_features, html_model
from pipeline.summary.summary import RunSummary
from pipeline.summary.text import duration

esc = html.escape

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 1.5em 2em;
       color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.anomaly td, tr.failed td { background: #fde2e1; }
tr.cached td { color: #666; }
td.over { color: #b00020; font-weight: bold; }
figure { display: inline-block; vertical-align: top; margin: 0.4em; padding: 0.3em;
         border: 1px solid #eee; }
figure.anomaly { border: 2px solid #b00020; }
figcaption { font-weight: bold; }
.bad { color: #b00020; } .ok { color: #1b7f3b; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 0.3em; }
"""


def render_html(summary: RunSummary, pipeline_name: str) -> str:
    title = f"{pipeline_name}: run {summary.run_id}"
    span = f"Span {summary.span}: " if summary.span is not None else ""
    body = [f"<h1>{esc(title)}</h1>",
            f"<p id=\"verdict\" class=\"{_verdict_class(summary)}\">{esc(span)}"
            f"{esc(verdict(summary))}</p>",
            _components(summary), _rows(summary), _anomalies(summary),
            html_features.features_section(summary), html_features.drift_section(summary),
            html_model.evaluation_section(summary), html_model.pushed_section(summary)]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


def write(summary: RunSummary, pipeline_name: str, path: Path) -> Path:
    """Writes the page atomically: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render_html(summary, pipeline_name), encoding="utf-8")
    partial.replace(path)
    return path


def verdict(summary: RunSummary) -> str:
    """The run's outcome in one sentence."""
    states = dict(summary.components)
    failed = [node for node, state in summary.components if state == "failed"]
    if failed and summary.anomalies:
        return f"Stopped at {failed[0]}: data validation found anomalies; nothing was trained."
    if failed:
        return f"Failed in {failed[0]}."
    if states.get("VersionedPusher") == "cached":
        return f"Cached run: version {summary.pushed_version} keeps serving."
    if summary.pushed:
        return f"Blessed and pushed as version {summary.pushed_version}."
    if summary.blessed is False:
        return "Not blessed: the serving model is unchanged."
    if summary.pushed is False:
        return f"Not pushed: {summary.push_note}."
    return "Complete."


def _verdict_class(summary: RunSummary) -> str:
    bad = any(state == "failed" for _, state in summary.components) or summary.blessed is False
    return "bad" if bad else "ok"


def _components(summary: RunSummary) -> str:
    rows = "".join(
        f"<tr class=\"{esc(state)}\"><td>{esc(node)}</td><td>{esc(state)}</td>"
        f"<td class=\"num\">{duration(summary.seconds.get(node))}</td></tr>"
        for node, state in summary.components)
    return (f"<section id=\"components\"><h2>Components</h2><table id=\"component-table\">"
            f"<thead><tr><th>component</th><th>state</th><th>time</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def _rows(summary: RunSummary) -> str:
    if not summary.rows:
        return ""
    rows = "".join(f"<tr><td>{esc(split)}</td><td class=\"num\">{count}</td></tr>"
                   for split, count in sorted(summary.rows.items()))
    return (f"<section id=\"splits\"><h2>Rows per split</h2><table id=\"split-table\"><thead>"
            f"<tr><th>split</th><th>rows</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _anomalies(summary: RunSummary) -> str:
    if not summary.anomalies:
        checked = summary.state_of("ExampleValidator") in ("executed", "cached")
        found = "None." if checked else "Not checked."
        return f"<section id=\"anomalies\"><h2>Anomalies</h2><p>{found}</p></section>"
    rows = "".join(f"<tr class=\"anomaly\"><td>{esc(a.split)}</td><td><a href=\"#feature-"
                   f"{esc(a.feature)}\">{esc(a.feature)}</a></td><td>{esc(a.kind)}</td>"
                   f"<td>{esc(a.description)}</td></tr>" for a in summary.anomalies)
    return (f"<section id=\"anomalies\"><h2 class=\"bad\">Anomalies ({len(summary.anomalies)})"
            f"</h2><table id=\"anomaly-table\"><thead><tr><th>split</th><th>feature</th>"
            f"<th>kind</th><th>description</th></tr></thead><tbody>{rows}</tbody></table>"
            f"</section>")
