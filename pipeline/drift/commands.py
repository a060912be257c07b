"""`python -m pipeline drift` and `python -m pipeline skew`: reports a scheduler can act on.

drift: two spans (by number, in the config's data root) or two paths (a CSV/TFRecord
file or a folder of them), compared feature by feature.
skew: serving requests (no label) against the training data of a pushed model, found
through ML Metadata lineage (Model <- Trainer <- ... <- the Examples ExampleGen wrote),
compared in the schema's SERVING environment.

Exit status: 0 every feature within its threshold; 1 one or more over; 2 bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pipeline import config as config_lib
from pipeline.errors import EXIT_FINDING, EXIT_OK, DataError



def register(commands) -> None:
    drift = commands.add_parser(
        "drift", help="drift between two spans or data paths (TFDV comparators)",
        description="Compares --current with --baseline feature by feature: Jensen-Shannon "
                    "divergence (numeric), L-infinity distance (categorical). Exit 0 all "
                    "within threshold, 1 any over, 2 bad input.")
    drift.add_argument("--baseline", required=True, help="span number or CSV/TFRecord path")
    drift.add_argument("--current", required=True, help="span number or CSV/TFRecord path")
    drift.add_argument("--data-root", type=Path, help="where span numbers are looked up "
                       "(default: the config's data_root)")
    _common(drift)
    drift.set_defaults(handler=drift_command)

    skew = commands.add_parser(
        "skew", help="train/serving skew of serving requests against a pushed model's "
                     "training data",
        description="Compares serving requests (CSV/TFRecord, without the label) with the "
                    "training data of a pushed model, in the schema's SERVING environment. "
                    "Exit 0 all within threshold, 1 any over, 2 bad input.")
    skew.add_argument("--serving", required=True, help="CSV/TFRecord file or folder of requests")
    skew.add_argument("--model", type=Path, help="pushed version folder "
                      "(<workspace>/serving/<name>/<version>; default: the latest pushed)")
    skew.add_argument("--workspace", type=Path, help="default: the config's workspace")
    _common(skew)
    skew.set_defaults(handler=skew_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    parser.add_argument("--format", choices=("text", "json", "html"), default="text")
    parser.add_argument("--output", type=Path, help="write the report to FILE (default: stdout)")


def drift_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(data_root=args.data_root)
    from components import drift

    schema = _schema(config)
    kinds = config.drift_features()
    try:
        baseline_name, baseline_pattern, baseline_format = _resolve(args.baseline, config)
        current_name, current_pattern, current_format = _resolve(args.current, config)
        csv_format = _csv_format(config)
        report = drift.compare(
            drift.DRIFT,
            drift.compute_statistics(baseline_pattern, baseline_format, schema, kinds,
                                     csv_format=csv_format),
            drift.compute_statistics(current_pattern, current_format, schema, kinds,
                                     csv_format=csv_format),
            schema, kinds, drift.Thresholds.from_dict(config.drift.thresholds_dict()),
            baseline_name=baseline_name, current_name=current_name)
    except drift.InputDataError as error:
        raise DataError(str(error)) from None
    return _emit(report, args)


def skew_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(workspace=args.workspace)
    from components import drift
    from pipeline.drift import training_data

    schema = _schema(config)
    kinds = config.drift_features()
    try:
        serving_pattern, serving_format = drift.data_files(str(args.serving))
        version_dir = Path(args.model) if args.model else training_data.latest_pushed(config)
        training = training_data.training_examples(config, version_dir)
        report = drift.compare(
            drift.SKEW,
            drift.compute_statistics(training.pattern, drift.TFRECORD, schema, kinds),
            drift.compute_statistics(serving_pattern, serving_format, schema, kinds,
                                     csv_format=_csv_format(config)),
            schema, kinds, drift.Thresholds.from_dict(config.drift.thresholds_dict()),
            baseline_name=training.description, current_name=f"serving {args.serving}")
    except drift.InputDataError as error:
        raise DataError(str(error)) from None
    return _emit(report, args)


def _emit(report, args: argparse.Namespace) -> int:
    from pipeline.drift import report as drift_report

    text = drift_report.render(report, args.format)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise DataError(f"{args.output}: cannot write the report: {error.strerror}") from None
        print(f"wrote {args.output}: {len(report.over)} of {len(report.features)} features "
              f"over threshold", file=sys.stderr)
    else:
        print(text)
    return EXIT_FINDING if report.over else EXIT_OK


def _csv_format(config: config_lib.Config):
    """The config's [csv] table, as ingestion reads span files with it."""
    from dataclasses import asdict

    from components.csv_ingest.header import CsvFormat

    return CsvFormat.from_dict(asdict(config.csv))


def _schema(config: config_lib.Config):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not config.schema.is_file():
        raise config_lib.ConfigError(f"{config.source}: [pipeline.schema] schema file "
                                     f"{config.schema} does not exist")
    return text_format.Parse(config.schema.read_text(encoding="utf-8"), schema_pb2.Schema())


def _resolve(value: str, config: config_lib.Config) -> tuple[str, str, str]:
    """(name for people, glob, format) of a span number or a path."""
    from components import drift
    from pipeline.dataset.spans import select_span

    if re.fullmatch(r"\d+", value.strip()):
        span = select_span(config.data_root, int(value))
        if not span.files:
            raise DataError(f"{span.path}: span {span.number} holds no data files")
        pattern, data_format = drift.data_files(str(span.path))
        return f"span {span.number}", pattern, data_format
    pattern, data_format = drift.data_files(value)
    return value, pattern, data_format
