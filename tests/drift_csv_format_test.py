"""Drift, skew and the DriftCheck read CSV with the config's [csv] table, as ingestion does.

The same rows are written twice: with `,` and empty fields, and with `;` and `NA` for
every missing value. With `[csv] delimiter = ";"` and `null_values = ["NA"]` the second
copy must give the statistics, and so the reports, of the first.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import tensorflow_data_validation as tfdv

from components import drift, layout
from components.csv_ingest.header import CsvFormat
from components.drift_check import executor as drift_check
from pipeline import config as config_lib
from pipeline.drift import commands
from tests.conftest import REPO, TAXI_SCHEMA, run_cli, slice_spans, taxi_config

ROWS = 800
SERVING = REPO / "data" / "taxi_serving" / "requests.csv"


def rewrite(source: Path, target: Path, delimiter: str = ";", marker: str = "NA") -> Path:
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert any("" in row for row in rows[1:]), "the sample needs missing values"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(rows[0])
        writer.writerows([cell if cell else marker for cell in row] for row in rows[1:])
    return target


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("csv-format")
    comma = slice_spans(root / "comma", ROWS, spans=(1, 2))
    for span in (1, 2):
        rewrite(comma / f"span-{span}" / "data.csv", root / "semicolon" / f"span-{span}" /
                "data.csv")
    comma_config = taxi_config(root / "comma.toml", comma)
    semicolon_config = taxi_config(root / "semicolon.toml", root / "semicolon")
    with open(semicolon_config, "a", encoding="utf-8") as handle:
        handle.write('\n[csv]\ndelimiter = ";"\nnull_values = ["NA"]\n')
    return root, comma_config, semicolon_config


def test_drift_command_reads_the_configs_delimiter_and_markers(setup):
    _, comma_config, semicolon_config = setup
    reports = []
    for config in (comma_config, semicolon_config):
        done = run_cli("drift", "--config", str(config), "--baseline", "1", "--current", "2",
                       "--format", "json")
        assert done.returncode in (0, 1), done.stderr
        reports.append(json.loads(done.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["features"]


def test_drift_and_skew_statistics_equal_those_of_the_comma_copy(setup):
    root, comma_config, semicolon_config = setup
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    semicolon = config_lib.load(semicolon_config)
    kinds = semicolon.drift_features()
    csv_format = commands._csv_format(semicolon)  # what drift and skew read CSV with
    assert (csv_format.delimiter, csv_format.null_values) == (";", ("NA",))
    for span in (1, 2):
        plain = drift.compute_statistics(str(root / "comma" / f"span-{span}" / "data.csv"),
                                         drift.CSV, schema, kinds)
        marked = drift.compute_statistics(
            str(root / "semicolon" / f"span-{span}" / "data.csv"), drift.CSV, schema, kinds,
            csv_format=csv_format)
        assert marked == plain
        assert any(f.num_stats.common_stats.num_missing or f.string_stats.common_stats.num_missing
                   for f in plain.datasets[0].features)
    serving = rewrite(SERVING, root / "serving" / "requests.csv")
    training = drift.compute_statistics(str(root / "comma" / "span-2" / "data.csv"), drift.CSV,
                                        schema, kinds)
    skews = [drift.compare(drift.SKEW, training, drift.compute_statistics(
        str(path), drift.CSV, schema, kinds, csv_format=form), schema, kinds,
        drift.Thresholds()).to_dict() for path, form in ((SERVING, CsvFormat()),
                                                         (serving, csv_format))]
    assert skews[0] == skews[1]


def test_drift_check_reads_the_span_files_with_the_csv_format(setup, tmp_path):
    root, _, semicolon_config = setup
    schema = tfdv.load_schema_text(str(TAXI_SCHEMA))
    kinds = config_lib.load(semicolon_config).drift_features()
    outputs = {}
    for name, form in (("comma", CsvFormat()),
                       ("semicolon", CsvFormat(";", ("NA",)))):
        report = drift_check.check_span(str(root / name), 2, schema, kinds, drift.Thresholds(),
                                        str(tmp_path / name), csv_format=form)
        stats = tfdv.load_statistics(str(tmp_path / name / layout.DRIFT_CURRENT_STATS /
                                         layout.STATS_FILE))
        outputs[name] = (report, stats)
    assert outputs["semicolon"] == outputs["comma"]
    assert outputs["comma"][0]["computed"]
