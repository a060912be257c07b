"""The benchmark's tables, as plain text for the terminal and Markdown for docs/BENCHMARKS.md.

Every figure is printed whether or not it meets its target; a missed target says
"missed", and the notes say what bounds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from bench.component_times import ComponentTime
from bench.model_metrics import BATCH_SIZES, ModelFigures

# Conveyor / stock wall time targets by size (× the bundled rows; issue #17); other sizes:
# no target.
WALL_TARGETS = {1.0: 0.3, 10.0: 0.3, 100.0: 0.2}
CACHED_TARGET = 0.2
SIZE_TARGET = 3.0
AUC_TOLERANCE = 0.01


@dataclass
class PipelineRun:
    pipeline: str  # "stock" or "Conveyor"
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    components: list[ComponentTime]
    cached_returncode: int = 0
    cached_seconds: float = math.nan
    log: str = ""
    cached_components: list[ComponentTime] = field(default_factory=list)
    # Conveyor's `run --rerun` after the unchanged re-run: the same no-change run through
    # TFX's cache, which `cached_components` then describes.
    through_cache_seconds: float = math.nan

    @property
    def rerun_executed(self) -> list[str]:
        """Components the no-change re-run executed rather than took from the cache."""
        return [f"{c.node} {c.seconds:.1f} s" for c in self.cached_components
                if c.state == "executed" and c.node != "latest_blessed_model_resolver"]

    @property
    def ingest_seconds(self) -> float:
        return next((c.seconds for c in self.components if c.node == "CsvExampleGen"), math.nan)


@dataclass
class SizeResult:
    size: float
    rows: int
    shards: int
    stock: PipelineRun
    conveyor: PipelineRun
    models: list[ModelFigures] = field(default_factory=list)
    model_sizes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def ratio(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def _num(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:,.{digits}f}"


def _verdict(met: Optional[bool]) -> str:
    return {True: "met", False: "missed", None: "no target"}[met]


def size_label(size: float) -> str:
    return f"{size:g}×"


def ratio_rows(result: SizeResult) -> list[list[str]]:
    """metric, stock, Conveyor, ratio, target, verdict."""
    stock, conveyor = result.stock, result.conveyor
    wall_ratio = ratio(conveyor.wall_seconds, stock.wall_seconds)
    cached_ratio = ratio(conveyor.cached_seconds, stock.cached_seconds)
    target = WALL_TARGETS.get(float(result.size))
    rows = [
        ["end-to-end wall (s)", _num(stock.wall_seconds), _num(conveyor.wall_seconds),
         _num(wall_ratio, 2), f"≤ {target}" if target else "—",
         _verdict(None if target is None or math.isnan(wall_ratio) else wall_ratio <= target)],
        ["cached re-run (s)", _num(stock.cached_seconds), _num(conveyor.cached_seconds),
         _num(cached_ratio, 2), f"≤ {CACHED_TARGET}",
         _verdict(None if math.isnan(cached_ratio) else cached_ratio <= CACHED_TARGET)],
        ["peak memory (MiB)", _num(stock.peak_rss_bytes / 2**20, 0),
         _num(conveyor.peak_rss_bytes / 2**20, 0),
         _num(ratio(conveyor.peak_rss_bytes, stock.peak_rss_bytes), 2), "—", _verdict(None)],
        ["ingestion (s)", _num(stock.ingest_seconds), _num(conveyor.ingest_seconds),
         _num(ratio(conveyor.ingest_seconds, stock.ingest_seconds), 2), "—", _verdict(None)],
        ["ingestion (rows/s)", _num(ratio(result.rows, stock.ingest_seconds), 0),
         _num(ratio(result.rows, conveyor.ingest_seconds), 0),
         _num(ratio(ratio(result.rows, conveyor.ingest_seconds),
                    ratio(result.rows, stock.ingest_seconds)), 2), "—", _verdict(None)],
    ]
    if not math.isnan(conveyor.through_cache_seconds):
        through = ratio(conveyor.through_cache_seconds, stock.cached_seconds)
        rows.insert(2, ["re-run through TFX's cache (s)", _num(stock.cached_seconds),
                        _num(conveyor.through_cache_seconds), _num(through, 2), "—",
                        _verdict(None)])
    rows.append(["re-run: executed, not cached", ", ".join(stock.rerun_executed) or "none",
                 ", ".join(conveyor.rerun_executed) or "none", "", "—", _verdict(None)])
    for run in (stock, conveyor):
        if run.returncode not in (0, 1) or run.cached_returncode not in (0, 1):
            rows.append([f"{run.pipeline} exit status", str(run.returncode),
                         str(run.cached_returncode), "", "", f"failed: see {run.log}"])
    return rows


def component_rows(result: SizeResult) -> list[list[str]]:
    """component, stock s, Conveyor s (first run; "cached" when MLMD says so)."""
    order, by_pipeline = [], {}
    for run in (result.stock, result.conveyor):
        by_pipeline[run.pipeline] = {c.node: c for c in run.components}
        order += [c.node for c in run.components if c.node not in order]

    def cell(pipeline: str, node: str) -> str:
        timing = by_pipeline[pipeline].get(node)
        if timing is None:
            return "—"
        return _num(timing.seconds) + ("" if timing.state == "executed" else f" ({timing.state})")

    return [[node, cell(result.stock.pipeline, node), cell(result.conveyor.pipeline, node)]
            for node in order]


def model_rows(result: SizeResult) -> list[list[str]]:
    return [[m.name, _num(m.size_bytes / 1024, 1),
             *(_num(m.latency_us.get(b), 1) for b in BATCH_SIZES),
             _num(m.accuracy, 4), _num(m.auc, 4), str(m.examples), m.note]
            for m in result.models]


def model_target_rows(result: SizeResult) -> list[list[str]]:
    sizes = result.model_sizes
    by_name = {m.name: m for m in result.models}
    saved = by_name.get("Conveyor SavedModel")
    core = by_name.get("Conveyor int8 TFLite core")
    end_to_end = by_name.get("Conveyor int8 TFLite end to end")
    if not (sizes and saved and core and end_to_end):
        return [["model measurements", "not available", "", "missed"]]
    float_bytes = sizes.get("float_core_tflite_bytes") or sizes["float_core_param_bytes"]
    what = ("float32 TFLite core" if sizes.get("float_core_tflite_bytes")
            else "float core params")
    size_ratio = ratio(float_bytes, sizes["int8_tflite_bytes"])
    rows = [[f"{what} / int8 TFLite bytes (params: {sizes['float_core_param_bytes']:,} B)",
             f"{float_bytes:,} / {sizes['int8_tflite_bytes']:,} = "
             f"{_num(size_ratio, 2)}", f"≥ {SIZE_TARGET}", _verdict(size_ratio >= SIZE_TARGET)]]
    for batch in BATCH_SIZES:
        for lite in (core, end_to_end):
            faster = lite.latency_us[batch] < saved.latency_us[batch]
            rows.append([f"{lite.name} vs SavedModel, µs/example at batch {batch}",
                         f"{_num(lite.latency_us[batch])} vs {_num(saved.latency_us[batch])}",
                         "faster", _verdict(faster)])
    gap = abs(core.auc - saved.auc)
    rows.append(["AUC TFLite vs SavedModel", f"{_num(core.auc, 4)} vs {_num(saved.auc, 4)} "
                 f"(gap {_num(gap, 4)})", f"gap ≤ {AUC_TOLERANCE}",
                 _verdict(None if math.isnan(gap) else gap <= AUC_TOLERANCE)])
    return rows


RATIO_HEADER = ["metric", "stock", "Conveyor", "Conveyor/stock", "target", "verdict"]
COMPONENT_HEADER = ["component", "stock (s)", "Conveyor (s)"]
MODEL_HEADER = ["model", "size (KiB)", *(f"µs/example @{b}" for b in BATCH_SIZES),
                "accuracy", "AUC", "eval examples", "note"]
MODEL_TARGET_HEADER = ["model target", "figure", "target", "verdict"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sections(result: SizeResult):
    title = f"{size_label(result.size)} ({result.rows:,} rows in {result.shards} file(s))"
    yield title, [(RATIO_HEADER, ratio_rows(result)),
                  (COMPONENT_HEADER, component_rows(result)),
                  (MODEL_HEADER, model_rows(result)),
                  (MODEL_TARGET_HEADER, model_target_rows(result))]


def render_text(results: list[SizeResult]) -> str:
    parts = []
    for result in results:
        for title, tables in _sections(result):
            parts.append(f"== {title} ==")
            parts += [text_table(h, r) for h, r in tables if r]
            parts += [f"note: {n}" for n in result.notes]
    return "\n\n".join(parts)


def render_markdown(results: list[SizeResult]) -> str:
    parts = []
    for result in results:
        for title, tables in _sections(result):
            parts.append(f"#### {title}")
            parts += [markdown_table(h, r) for h, r in tables if r]
            parts += [f"- {n}" for n in result.notes]
    return "\n\n".join(parts)
