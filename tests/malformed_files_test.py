"""Malformed span files: the pre-flight check and the reader both name the file and what
is wrong in one line, and a `.csv.gz` file is read as its decompressed CSV."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components.csv_ingest import reader
from pipeline.dataset.spans import check_columns, select_span
from pipeline.errors import InputError
from tests.conftest import TAXI_DATA, run_cli, slice_spans, taxi_config
from pipeline import config as config_lib

TYPES = {"fare": schema_pb2.FLOAT, "hour": schema_pb2.INT, "company": schema_pb2.BYTES}
GOOD = b"fare,hour,company\n12.5,3,Flash\n,4,\n7,5,Blue\n"

MALFORMED = [
    ("data.csv", b"  \n\t\n", "data.csv: empty file"),
    ("data.csv", b"fare,hour\x00\x01\x02,company\n1,2,3\n",
     "data.csv: line 1: binary data (a NUL byte at byte 9), not a CSV text file"),
    ("data.csv", gzip.compress(GOOD), "data.csv: gzip-compressed data in a file not named .gz"),
    ("data.csv.gz", GOOD, "data.csv.gz: not a readable gzip file"),
    ("data.csv", b"fare,hour,fare,company\n1,2,3,a\n",
     "data.csv: line 1: column name 'fare' appears more than once in the header"),
    ("data.csv", b"fare;hour;company\n1;2;a\n",
     "data.csv: line 1: the header is one column that looks delimited by ';', not ','"),
    ("data.csv", b"fare\thour\tcompany\n1\t2\ta\n",
     "data.csv: line 1: the header is one column that looks delimited by a tab, not ','"),
]


def read(name: str, data: bytes) -> list[tf.train.Example]:
    return [tf.train.Example.FromString(e) for _, e in
            reader.read_split_examples(name, data, TYPES, reader.PersonalData(), [1])]


@pytest.mark.parametrize("name,data,message", MALFORMED,
                         ids=[m[2].split(": ", 1)[1][:30] for m in MALFORMED])
def test_the_reader_names_what_is_wrong(name, data, message):
    with pytest.raises(reader.CsvError) as error:
        read(name, data)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_gzipped_csv_reads_as_its_content():
    assert read("data.csv.gz", gzip.compress(GOOD)) == read("data.csv", GOOD)


def _span_with(tmp_path: Path, name: str, data: bytes):
    config_path = taxi_config(tmp_path / "c.toml", slice_spans(tmp_path / "data", 5, spans=(1,)))
    span_file = tmp_path / "data" / "span-1" / "data.csv"
    span_file.unlink()
    (span_file.parent / name).write_bytes(data)
    return config_path, span_file.parent / name


@pytest.mark.parametrize("name,data,message", MALFORMED,
                         ids=[m[2].split(": ", 1)[1][:30] for m in MALFORMED])
def test_the_pre_flight_check_names_what_is_wrong(tmp_path, name, data, message):
    config_path, path = _span_with(tmp_path, name, data)
    config = config_lib.load(config_path)
    with pytest.raises(InputError) as error:
        check_columns(select_span(config.data_root, None), config.features)
    assert str(error.value).startswith(f"{path.parent}/{message}")


def test_a_gzipped_span_passes_the_pre_flight_check(tmp_path):
    taxi = (TAXI_DATA / "span-1" / "data.csv").read_bytes()[:20000]
    config_path, _ = _span_with(tmp_path, "data.csv.gz", gzip.compress(taxi))
    config = config_lib.load(config_path)
    check_columns(select_span(config.data_root, None), config.features)


def test_a_missing_column_names_close_matches_not_the_whole_header(tmp_path):
    taxi = (TAXI_DATA / "span-1" / "data.csv").read_text().splitlines()[:3]
    renamed = [taxi[0].replace("trip_miles", "trip_mile")] + taxi[1:]
    config_path, path = _span_with(tmp_path, "data.csv", "\n".join(renamed).encode())
    config = config_lib.load(config_path)
    with pytest.raises(InputError) as error:
        check_columns(select_span(config.data_root, None), config.features)
    assert str(error.value) == (f"{path}: feature 'trip_miles' is not a column of this file "
                                f"(did you mean 'trip_mile'?)")


def test_the_run_stops_with_one_line_naming_the_file(tmp_path):
    config_path, path = _span_with(tmp_path, "data.csv", gzip.compress(GOOD))
    result = run_cli("run", "--config", str(config_path), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {path}: gzip-compressed data in a file not named .gz; decompress it or "
        f"add .gz to its name")
