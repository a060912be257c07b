"""`python -m pipeline report [--run ID | --latest] [--output FILE]`: the HTML page of a
run, written again from ML Metadata and the artifacts alone (no pipeline code runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components import layout
from pipeline import config as config_lib
from pipeline.errors import EXIT_OK, DataError, first_line


class NoSuchRun(DataError):
    """The store has no such run (or no run at all) of the pipeline."""


def register(commands) -> None:
    report = commands.add_parser("report", help="write a run's self-contained HTML page "
                                 "(statistics, anomalies, drift, metrics by slice, push)")
    report.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    report.add_argument("--workspace", type=Path)
    which = report.add_mutually_exclusive_group()
    which.add_argument("--run", help="a run id, as `lineage runs` lists them")
    which.add_argument("--latest", action="store_true", help="the latest run (the default)")
    report.add_argument("--output", type=Path, help="where to write it (default: the run's "
                        "report.html in the workspace, recorded in ML Metadata)")
    report.set_defaults(handler=report_command)


def report_path(config, run_id: str) -> Path:
    """The workspace's place for a run's page."""
    return config.workspace / "reports" / config.name / run_id / layout.RUN_REPORT_FILE


def write_run_report(store, config, summary, output: Path | None = None) -> Path:
    """Writes the summary's page; its default place is recorded in ML Metadata."""
    from pipeline.lineage.run_report import record_report
    from pipeline.summary import html as summary_html

    path = output or report_path(config, summary.run_id)
    summary.report = str(path.resolve())
    summary_html.write(summary, config.name, path)
    if output is None:
        record_report(store, config.name, summary.run_id, summary.report)
    return path


def report_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(workspace=args.workspace)
    from pipeline.metadata import store as metadata_store
    from pipeline.summary import summary as run_summary

    store = metadata_store.open_store(config, create=False)
    summary = run_summary.summarize(store, config.name, run_id=args.run,
                                    pipeline_root=str(config.pipeline_root))
    if summary is None:
        raise NoSuchRun(f"{config.metadata_path}: no run "
                        + (f"'{args.run}' " if args.run else "")
                        + f"of pipeline '{config.name}'")
    print(write_run_report(store, config, summary, args.output))
    return EXIT_OK


def write_after_run(store, config, summary) -> None:
    """The page of the run just finished. A page that cannot be written is a warning: the
    run's outcome and exit status are the run's, not the page's."""
    try:
        write_run_report(store, config, summary)
    except Exception as error:  # noqa: BLE001  (any reader failure on a half-written run)
        print(f"warning: no run report: {type(error).__name__}: {first_line(error)}",
              file=sys.stderr)
