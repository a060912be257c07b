"""bench/scale.py's tables and plot, from the figures it keeps (so they can be redrawn).

The growth table divides each component's time by its time at the smallest size: a
component whose cost is fixed stays near 1, one that reads every row grows with the size.
"""

from __future__ import annotations

import math

MIB = 2**20
# Components shown in the growth table and the plot: those whose time is not ~0 at any size.
MIN_SECONDS = 0.5
WIDTH, HEIGHT, MARGIN = 720, 420, 60
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def render(figures: dict) -> str:
    return "\n\n".join(filter(None, [_runs(figures), _stock(figures), _growth(figures),
                                      _verdicts(figures)]))


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _runs(figures: dict) -> str:
    rows = []
    for r in figures["conveyor"]:
        rows.append([f"{r['size']:g}×", f"{r['rows']:,}", f"{r['csv_bytes'] / MIB:,.0f}",
                     _outcome(r), f"{r['peak_rss_bytes'] / MIB:,.0f}",
                     _auc(r.get("metrics", {}))])
    stock = figures.get("stock")
    if stock:
        rows.append([f"{stock['size']:g}× (stock)", "", "", _outcome(stock),
                     f"{stock['peak_rss_bytes'] / MIB:,.0f}", ""])
    return _table(["size", "rows", "CSV (MiB)", "end to end (s)", "peak memory (MiB)",
                   "Evaluator AUC"], rows)


def _stock(figures: dict) -> str:
    """How far the stock example got: a finished component's time, or its state at the end
    (a component still running when the run was cut off or killed has no time of its own)."""
    stock = figures.get("stock") or {}
    steps = stock.get("components") or []
    if not steps:
        return ""
    parts = [f"{c['node']} {c['seconds']:,.1f} s" if c["state"] in ("executed", "cached")
             else f"{c['node']} {c['state']} at the end" for c in steps]
    return f"Stock at {stock['size']:g}×, by component: " + ", ".join(parts) + "."


def _outcome(run: dict) -> str:
    if run.get("cut_off"):
        return f"cut off at {run['wall_seconds']:,.0f} (not finished)"
    if run["returncode"] < 0:  # the kernel's OOM killer sends signal 9
        return f"killed (signal {-run['returncode']}) after {run['wall_seconds']:,.0f}"
    if run["returncode"] != 0:
        return f"failed (exit {run['returncode']}) after {run['wall_seconds']:,.0f}"
    return f"{run['wall_seconds']:,.1f}"


def _auc(metrics: dict) -> str:
    value = metrics.get("auc")
    return "—" if value is None else f"{value:.4f}"


def components(figures: dict) -> list[str]:
    names = []
    for r in figures["conveyor"]:
        for name, seconds in r["components"].items():
            if seconds >= MIN_SECONDS and name not in names:
                names.append(name)
    return names


def _growth(figures: dict) -> str:
    runs = figures["conveyor"]
    if not runs:
        return ""
    first = runs[0]
    header = ["component"] + [f"{r['size']:g}× (s)" for r in runs] + [
        f"{r['size']:g}× / {first['size']:g}×" for r in runs[1:]]
    rows = []
    for name in components(figures):
        seconds = [r["components"].get(name) for r in runs]
        base = seconds[0]
        rows.append([name] + ["—" if s is None else f"{s:,.1f}" for s in seconds] + [
            "—" if s is None or not base else f"{s / base:,.1f}" for s in seconds[1:]])
    return _table(header, rows)


def _verdicts(figures: dict) -> str:
    by_size = {r["size"]: r for r in figures["conveyor"]}
    big, hundred = by_size.get(1000.0), by_size.get(100.0)
    if big is None:
        return ""
    targets = figures["targets"]
    peak = big["peak_rss_bytes"]
    lines = [f"1000× peak memory {peak / 2**30:.2f} GiB against ≤ "
             f"{targets['peak_bytes'] / 2**30:g} GiB: "
             f"{'met' if big['returncode'] == 0 and peak <= targets['peak_bytes'] else 'missed'}"]
    if hundred is not None:
        growth = big["wall_seconds"] / hundred["wall_seconds"]
        verdict = "met" if big["returncode"] == 0 and growth <= targets["growth"] else "missed"
        lines.append(f"1000× wall time {growth:.1f}× the 100× one against ≤ "
                     f"{targets['growth']:g}×: {verdict}")
    return "\n".join(f"- {line}" for line in lines)


def svg(figures: dict) -> str:
    """Each component's time against size, both axes logarithmic."""
    runs = figures["conveyor"]
    sizes = [r["size"] for r in runs]
    values = [s for r in runs for s in r["components"].values() if s >= MIN_SECONDS]
    values += [r["wall_seconds"] for r in runs]
    x_of = _log_axis(min(sizes), max(sizes), MARGIN, WIDTH - 170)
    y_of = _log_axis(min(values), max(values), HEIGHT - MARGIN, 20)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    for size in sizes:
        parts.append(f'<text x="{x_of(size):.1f}" y="{HEIGHT - MARGIN + 18}" '
                     f'text-anchor="middle">{size:g}×</text>')
    for tick in _decades(min(values), max(values)):
        parts.append(f'<line x1="{MARGIN}" x2="{WIDTH - 170}" y1="{y_of(tick):.1f}" '
                     f'y2="{y_of(tick):.1f}" stroke="#ddd"/><text x="{MARGIN - 6}" '
                     f'y="{y_of(tick) + 4:.1f}" text-anchor="end">{tick:g} s</text>')
    series = [(name, [(r["size"], r["components"].get(name)) for r in runs])
              for name in components(figures)]
    series.append(("end to end", [(r["size"], r["wall_seconds"]) for r in runs]))
    for index, (name, points) in enumerate(series):
        colour = "#000" if name == "end to end" else COLOURS[index % len(COLOURS)]
        coords = [f"{x_of(s):.1f},{y_of(v):.1f}" for s, v in points if v and v >= MIN_SECONDS]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{" ".join(coords)}"/>')
        parts.append(f'<text x="{WIDTH - 160}" y="{30 + 18 * index}" fill="{colour}">'
                     f'{name}</text>')
    parts.append(f'<text x="{MARGIN}" y="{HEIGHT - 12}">rows × 15,002 (log); seconds (log)'
                 f'</text></svg>')
    return "\n".join(parts) + "\n"


def _log_axis(low: float, high: float, start: float, end: float):
    low, high = math.log10(low), math.log10(high) if high > low else math.log10(low) + 1
    return lambda value: start + (math.log10(value) - low) / (high - low) * (end - start)


def _decades(low: float, high: float) -> list[float]:
    return [10.0 ** e for e in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)]
