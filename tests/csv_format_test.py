"""The [csv] table: the delimiter and missing-value markers, from the config to the reader."""

from __future__ import annotations

import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components.csv_ingest import reader
from components.csv_ingest.header import CsvFormat
from pipeline import config as config_lib
from tests.conftest import run_cli, slice_spans, taxi_config

TYPES = {"fare": schema_pb2.FLOAT, "hour": schema_pb2.INT, "company": schema_pb2.BYTES}


def read(data: bytes, csv_format: CsvFormat) -> list[tf.train.Example]:
    return [tf.train.Example.FromString(e) for _, e in reader.read_split_examples(
        "f.csv", data, TYPES, reader.PersonalData(), [1], csv_format)]


def test_markers_are_missing_in_every_column_and_the_delimiter_is_honoured():
    markers = CsvFormat(delimiter=";", null_values=("NA", "-"))
    rows = read(b"fare;hour;company\nNA;3;-\n1.5;-;NA\n;;\n2;4;Flash\n", markers)
    for example in rows[:3]:
        features = example.features.feature
        assert not features["fare"].float_list.value or features["fare"].float_list.value == [1.5]
        assert list(features["company"].bytes_list.value) == []
    assert list(rows[1].features.feature["hour"].int64_list.value) == []
    assert rows[3].features.feature["company"].bytes_list.value == [b"Flash"]


def test_without_markers_a_marker_in_a_numeric_column_is_named():
    with pytest.raises(reader.CsvError, match="line 2: column 'fare': 'NA' is not a number"):
        read(b"fare,hour,company\nNA,3,a\n", CsvFormat())
    with pytest.raises(reader.CsvError, match="line 3: column 'hour': 'x' is not an integer"):
        read(b"fare,hour,company\nNA,3,a\n1,x,b\n", CsvFormat(null_values=("NA",)))


def _config(tmp_path, table: str):
    path = taxi_config(tmp_path / "c.toml", tmp_path / "data")
    path.write_text(path.read_text() + "\n" + table)
    return path


def test_the_table_is_typed_with_defaults(tmp_path):
    default = config_lib.load(taxi_config(tmp_path / "d.toml", tmp_path / "data")).csv
    assert (default.delimiter, default.null_values) == (",", ())
    loaded = config_lib.load(_config(tmp_path, '[csv]\ndelimiter = ";"\n'
                                               'null_values = ["NA", "N/A", "null", "-"]\n'))
    assert loaded.csv == config_lib.Csv(delimiter=";", null_values=("NA", "N/A", "null", "-"))


@pytest.mark.parametrize("table,message", [
    ('[csv]\ndelimiter = ";;"', "[csv.delimiter] ';;' must be one character"),
    ('[csv]\ndelimiter = "\\""', "must be one character other than a quote"),
    ('[csv]\nnull_values = "NA"', "[csv.null_values] expected a list"),
    ('[csv]\nnull_values = ["N,A"]', "[csv.null_values] 'N,A' cannot be a field"),
    ('[csv]\nquote = "x"', "[csv] unknown key(s) quote"),
])
def test_bad_settings_name_file_and_key(tmp_path, table, message):
    path = _config(tmp_path, table)
    with pytest.raises(config_lib.ConfigError) as error:
        config_lib.load(path)
    assert str(error.value).startswith(f"{path.resolve()}: ")
    assert message in str(error.value)


@pytest.mark.e2e
def test_a_semicolon_span_with_na_markers_validates(tmp_path):
    """Pre-flight header check, the factory's custom_config and the reader in one run."""
    data = slice_spans(tmp_path / "data", 300, spans=(1,))
    span_file = data / "span-1" / "data.csv"
    lines = span_file.read_text().splitlines()
    seconds, company = (lines[0].split(",").index(n) for n in ("trip_seconds", "company"))
    rows = [line.split(",") for line in lines]
    for cells in rows[1::50]:  # columns the curated schema lets be missing
        cells[seconds], cells[company] = "NA", "-"
    span_file.write_text("\n".join(";".join(cells) for cells in rows) + "\n")
    config = _config(tmp_path, '[csv]\ndelimiter = ";"\nnull_values = ["NA", "-"]\n')
    result = run_cli("validate", "--config", str(config), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Rows: eval" in result.stdout and "Anomalies: none" in result.stdout
