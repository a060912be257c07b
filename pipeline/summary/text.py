"""The run summary as a terminal reads it."""

from __future__ import annotations

from typing import Optional

from pipeline.summary.summary import RunSummary


def render_text(summary: RunSummary) -> str:
    lines = [f"Run {summary.run_id}" + (f" (span {summary.span})" if summary.span else "")]
    lines.append("Components:")
    lines += [f"  {node:<30} {state:<9} {duration(summary.seconds.get(node))}".rstrip()
              for node, state in summary.components]
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
        if summary.state_of("VersionedPusher") == "cached":
            lines.append(f"Serving version {summary.pushed_version or '?'} (cached run, nothing "
                         f"new pushed): {summary.saved_model}")
        elif summary.pushed:
            lines.append(f"Pushed SavedModel: {summary.saved_model}")
            lines.append(f"Pushed TFLite (int8): {summary.tflite_model}")
        else:
            lines.append(f"Not pushed: {summary.push_note}"
                         + (f" (serving version {summary.pushed_version}: "
                            f"{summary.saved_model})" if summary.saved_model else ""))
        if summary.tflite_parity:
            parity = summary.tflite_parity
            lines.append(f"TFLite parity ({parity.get('method')}): accuracy "
                         f"{parity.get('tflite_accuracy', 0):.4f} vs float "
                         f"{parity.get('float_accuracy', 0):.4f} on {parity.get('examples')} "
                         f"eval examples")
    if summary.report:
        lines.append(f"Report: {summary.report}")
    return "\n".join(lines)


def duration(seconds: Optional[float]) -> str:
    """A component's time as a person reads it: 0.4s, 12s, 3m05s."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


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
