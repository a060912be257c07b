"""The command line: `python -m pipeline <command>`, one verb per question a user asks:
run, validate, check, drift, skew, monitor, lineage, compile, schema, bundled-data, report,
serve.

Exit status: 0 success; 1 a finding (anomalies stopped training, the model was not
blessed, drift or skew over threshold, a metadata problem); 2 a usage or input error
(bad config, missing data, a run already in progress, data a component rejected);
3 an unexpected failure. A user's mistake gets one line on stderr; the stack trace
only with --verbose.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path

from pipeline import config as config_lib
from pipeline.runners import compile_command
from pipeline.drift import commands as drift_commands
from pipeline.lineage import cli as lineage_cli
from pipeline.monitor import commands as monitor_commands
from pipeline.serving.server import command as serve_command
from pipeline.errors import (EXIT_FAILURE, EXIT_FINDING, EXIT_INPUT, EXIT_OK, InputError,
                             component_failure, failure_line)
from pipeline.runners.workspace_lock import exclusive
from pipeline.summary import report_cli
from pipeline.source_tree import ROOT

VALIDATION_NODE = "ValidationGate"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="full logs and stack traces")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline with the local Beam runner")
    add_run_arguments(run)
    run.add_argument("--rerun", action="store_true", help="run through TFX (whose cache still "
                     "applies) even when nothing changed since the last complete run")
    run.set_defaults(handler=run_command, until=None)

    validate = commands.add_parser("validate", help="ingest and validate a span only (up to "
                                   "the ValidationGate): check new data without training")
    add_run_arguments(validate)
    validate.set_defaults(handler=run_command, until=VALIDATION_NODE, rerun=True)

    check = commands.add_parser("check", help="check the workspace's metadata store: every "
                                "LIVE artifact's files exist, no execution left RUNNING")
    check.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    check.add_argument("--workspace", type=Path)
    check.set_defaults(handler=check_command)

    schema = commands.add_parser("schema", help="draft a schema (with TRAINING and SERVING "
                                 "environments) for a new dataset, to curate and check in")
    schema.add_argument("--data", required=True, help="CSV file or glob, e.g. 'data/x/span-*/*.csv'")
    schema.add_argument("--label", required=True)
    schema.add_argument("--output", type=Path, required=True)
    schema.add_argument("--config", type=Path, help="the pipeline's config: its [privacy] "
                        "columns are drafted without their raw values")
    schema.set_defaults(handler=schema_command)

    spans = commands.add_parser("bundled-data", help="(re)build data/taxi from the tfx wheel")
    spans.add_argument("--output", type=Path,
                       default=ROOT / "data" / "taxi")
    spans.add_argument("--spans", type=int, default=3)
    spans.set_defaults(handler=bundled_data_command)
    compile_command.register(commands)
    lineage_cli.register(commands)
    drift_commands.register(commands)
    monitor_commands.register(commands)
    report_cli.register(commands)
    serve_command.register(commands)
    return parser


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `run` and `validate` share: what to run on, and where."""
    parser.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    parser.add_argument("--data-root", type=Path, help="folder of span-N/ folders of CSV files")
    parser.add_argument("--span", type=int, help="span to ingest (default: the latest)")
    parser.add_argument("--workspace", type=Path,
                        help="where metadata, artifacts and pushed models live (default ./workspace)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--beam-runner", help="override [beam] runner (DirectRunner, "
                        "DataflowRunner, FlinkRunner, SparkRunner); options come from [beam]")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_logs(args.verbose)
    try:
        return args.handler(args)
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001  (the one place that turns crashes into a line)
        if args.verbose:
            traceback.print_exc()
        print(failure_line(error, args.verbose), file=sys.stderr)
        return EXIT_FAILURE


def run_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(
        data_root=args.data_root, span=args.span, workspace=args.workspace,
        beam_runner=args.beam_runner)
    from pipeline.runners import unchanged

    with exclusive(config.workspace):
        digest = None if args.until else unchanged.digest_or_none(config)
        earlier = (unchanged.unchanged_run(config, digest)
                   if digest is not None and not args.rerun else None)
        if earlier is not None:
            print(f"Nothing changed since run {earlier.run_id} (config, schema, span files, "
                  f"code, packages): its results stand; `run --rerun` runs the pipeline "
                  f"through TFX's cache.", file=sys.stderr)
            summary, failure = earlier, None
        else:
            summary, failure = _run_pipeline(config, args.until, args.verbose, digest)
    return _report_run(summary, failure, args.format)


def _run_pipeline(config, until, verbose: bool, digest):
    """Runs the pipeline with the workspace locked; returns the run's summary read back
    from ML Metadata (None if it never started) and the failure that stopped it, if any.
    A run that completes records `digest`, its inputs' (None: nothing to record)."""
    from pipeline.runners import console, unchanged
    from pipeline.runners import local as local_runner
    from pipeline.metadata import store as metadata_store
    from pipeline.summary import summary as run_summary

    started = time.time()
    failure = None
    try:
        with console.native_stderr_to(None if verbose else config.workspace / console.RUN_LOG):
            local_runner.run(config, until=until)
    except Exception as error:  # noqa: BLE001  (reported after the summary)
        failure = error
    store = metadata_store.open_store(config)
    summary = run_summary.summarize(store, config.name, since=started,
                                    pipeline_root=str(config.pipeline_root))
    if summary is not None:
        report_cli.write_after_run(store, config, summary)
        if failure is None and digest is not None:
            unchanged.record(store, config, summary, digest)
    return summary, failure


def _report_run(summary, failure, output_format: str) -> int:
    """Prints the summary and turns the run's outcome into the exit status."""
    from pipeline.summary import text as summary_text

    if summary is not None:
        print(json.dumps(summary.to_dict(), indent=2) if output_format == "json"
              else summary_text.render_text(summary))
    if failure is not None:
        from components.validation_gate.executor import AnomaliesFound  # imports TFX

        if isinstance(failure, AnomaliesFound):
            print("Stopped: data validation found anomalies; nothing was trained or pushed.",
                  file=sys.stderr)
            return EXIT_FINDING
        failed = [n for n, s in (summary.components if summary else []) if s == "failed"]
        raise component_failure(failure, failed[0] if failed else None) from failure
    if summary is not None and summary.blessed is False:
        print("Not blessed: the model missed its thresholds; the serving model is unchanged.",
              file=sys.stderr)
        return EXIT_FINDING
    return EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(workspace=args.workspace)
    if config.metadata.backend == "sqlite" and not config.metadata_path.exists():
        raise config_lib.ConfigError(f"{config.metadata_path}: no metadata store in this workspace")
    from pipeline.metadata import health as metadata_health
    from pipeline.metadata import store as metadata_store

    with exclusive(config.workspace):
        problems = metadata_health.check(metadata_store.open_store(config), config.name,
                                        str(config.pipeline_root))
    for problem in problems:
        print(problem)
    print(f"metadata check: {len(problems)} problem(s)")
    return EXIT_FINDING if problems else EXIT_OK


def schema_command(args: argparse.Namespace) -> int:
    from pipeline.dataset import schema_tool

    privacy = (config_lib.load(args.config, check_schema=False).privacy if args.config
               else None)
    schema_tool.write(schema_tool.draft_schema(args.data, args.label, privacy), args.output)
    print(f"wrote {args.output}: curate it (domains, presence) and point the config at it")
    return EXIT_OK


def bundled_data_command(args: argparse.Namespace) -> int:
    from pipeline.dataset import bundled_data

    for path in bundled_data.build_spans(bundled_data.wheel_sample_csv(), args.output,
                                         args.spans):
        print(path)
    return EXIT_OK


class _Progress(logging.Handler):
    """Turns the local runner's 'Component X is running/finished.' log lines into progress
    lines, the finished one with the component's time."""

    _PATTERN = re.compile(r"^Component (\S+) is (running|finished)\.$")

    def __init__(self):
        super().__init__()
        self._started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = self._PATTERN.match(record.getMessage())
        if not match:
            return
        node, what = match.groups()
        if what == "running":
            self._started[node] = record.created
            print(f"  running {node} ...", file=sys.stderr, flush=True)
        elif node in self._started:
            from pipeline.summary.text import duration

            took = duration(record.created - self._started.pop(node))
            print(f"  finished {node} in {took}", file=sys.stderr, flush=True)


def quiet_logs(verbose: bool) -> None:
    """TensorFlow, Beam and TFX log thousands of lines; show them only with --verbose.

    Levels are set at the source loggers, so handlers that libraries add later (Beam
    calls logging.basicConfig) still see nothing below ERROR.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")  # ML Metadata's C++ connection logs
    warnings.filterwarnings("ignore")
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.INFO)
    # The CLI reports failures itself, in one line; library error logs would repeat them
    # with stack traces.
    absl_logging.get_absl_handler().setLevel(logging.CRITICAL)
    logging.getLogger().setLevel(logging.CRITICAL)
    for name in ("tensorflow", "apache_beam", "root"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    absl_logger = logging.getLogger("absl")
    absl_logger.setLevel(logging.INFO)
    absl_logger.propagate = False
    absl_logger.addHandler(_Progress())
