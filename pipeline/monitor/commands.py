"""`python -m pipeline monitor`: is live traffic still like the training data?

The closed request-log files of a window (`--since 1h`, up to `--until`, default now;
windows.py) are compared, on the skew code path of `skew --serving`, with the training
data of the serving model (pipeline/drift/training_data.py), and with the previous
window of the same length (drift) when that window has files.

Exit status: 0 every feature within its threshold; 1 any over (skew or drift); 2 bad input
(a bad duration, no log files in the window, no pushed model).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

from pipeline import config as config_lib
from pipeline.errors import EXIT_FINDING, EXIT_OK, DataError
from pipeline.monitor import windows
from pipeline.serving import log_files

FORMAT = "conveyor.monitor/1"
DEFAULT_SINCE = "1h"


def register(commands) -> None:
    monitor = commands.add_parser(
        "monitor", help="skew (and drift) of the logged serving requests of a time window",
        description="Compares the request logs of `serve` in the window --since DURATION up "
                    "to --until (default now) with the serving model's training data "
                    "(skew), and with the window before it (drift). Exit 0 all within "
                    "threshold, 1 any over, 2 bad input.")
    monitor.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    monitor.add_argument("--workspace", type=Path, help="default: the config's workspace")
    monitor.add_argument("--since", default=DEFAULT_SINCE,
                         help=f"window length, e.g. 30m, 2h, 1d (default {DEFAULT_SINCE})")
    monitor.add_argument("--until", help="window end: a duration ago (2h) or an ISO 8601 "
                         "time (default: now)")
    monitor.add_argument("--model", type=Path, help="pushed version folder (default: the "
                         "latest pushed)")
    monitor.add_argument("--format", choices=("text", "json", "html"), default="text")
    monitor.add_argument("--output", type=Path, help="write the report to FILE (default: stdout)")
    monitor.set_defaults(handler=monitor_command)


def monitor_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(workspace=args.workspace)
    length = windows.parse_duration(args.since)
    end = windows.parse_until(args.until, time.time())
    window = windows.Window(end - length, end)
    files = log_files.list_closed(str(config.request_log_dir))
    current = window.select(files)
    if not current:
        raise DataError(f"{config.request_log_dir}: no closed request log files in "
                        f"{window.describe()} ({len(files)} in all)")
    previous = window.previous().select(files)
    skew, drift = compare_window(config, args.model, window, current, previous)
    text = render(args.format, window, current, previous, skew, drift)
    over = skew.over + (drift.over if drift else [])
    write(text, args.output, f"{len(over)} finding(s)")
    return EXIT_FINDING if over else EXIT_OK


def compare_window(config: config_lib.Config, model: Optional[Path], window: windows.Window,
                   current: list, previous: list):
    """(skew of `current` vs the training data, drift of `current` vs `previous` or None)."""
    from components import drift
    from pipeline.drift import commands as drift_commands
    from pipeline.drift import training_data

    schema = drift_commands._schema(config)
    kinds = config.drift_features()
    thresholds = drift.Thresholds.from_dict(config.drift.thresholds_dict())
    try:
        version_dir = model or training_data.latest_pushed(config)
        training = training_data.training_examples(config, version_dir)
        training_stats = drift.compute_statistics(training.pattern, drift.TFRECORD, schema,
                                                  kinds)
        current_stats = _statistics(current, schema, kinds)
        skew = drift.compare(drift.SKEW, training_stats, current_stats, schema, kinds,
                             thresholds, baseline_name=training.description,
                             current_name=f"requests {window.describe()}")
        if not previous:
            return skew, None
        before = window.previous()
        drifted = drift.compare(drift.DRIFT, _statistics(previous, schema, kinds),
                                current_stats, schema, kinds, thresholds,
                                baseline_name=f"requests {before.describe()}",
                                current_name=f"requests {window.describe()}")
        return skew, drifted
    except drift.InputDataError as error:
        raise DataError(str(error)) from None


def _statistics(files: list, schema, kinds):
    from components import drift

    with staged(files) as folder:
        return drift.compute_statistics(*drift.data_files(folder), schema, kinds)


@contextlib.contextmanager
def staged(files: list) -> Iterator[str]:
    """A local folder holding exactly `files` (hard links, or copies from a bucket), since
    TFDV reads one glob and a window is a subset of the log folder."""
    from tensorflow.io import gfile

    with tempfile.TemporaryDirectory(prefix="conveyor-monitor-") as folder:
        for log_file in files:
            target = os.path.join(folder, os.path.basename(log_file.path))
            try:
                os.link(log_file.path, target)
            except OSError:
                gfile.copy(log_file.path, target)
        yield folder


def render(output_format: str, window: windows.Window, current: list, previous: list,
           skew, drift) -> str:
    from pipeline.drift import report as drift_report

    before = window.previous()
    if output_format == "json":
        over = skew.over + (drift.over if drift else [])
        return json.dumps({
            "format": FORMAT, "verdict": "over" if over else "ok",
            "window": {**window.to_dict(), "files": len(current)},
            "previous_window": {**before.to_dict(), "files": len(previous)},
            "skew": skew.to_dict(), "drift": drift.to_dict() if drift else None}, indent=2)
    no_drift = (f"Drift: not computed (no request log files in the previous window "
                f"{before.describe()})")
    heading = (f"Monitor: {len(current)} request log file(s) of {window.describe()}; "
               f"previous window: {len(previous)} file(s)")
    if output_format == "html":
        import html

        intro = f"<p>{html.escape(heading)}.</p>\n" + (
            "" if drift else f"<p>{html.escape(no_drift)}.</p>\n")
        reports = [skew] + ([drift] if drift else [])
        return drift_report.render_html_page(f"Monitor: {window.describe()}", reports, intro)
    parts = [heading, "", drift_report.render_text(skew), ""]
    parts.append(drift_report.render_text(drift) if drift else no_drift)
    return "\n".join(parts)


def write(text: str, output: Optional[Path], summary: str) -> None:
    if output is None:
        print(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise DataError(f"{output}: cannot write the report: {error.strerror}") from None
    print(f"wrote {output}: {summary}", file=sys.stderr)
