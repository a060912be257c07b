"""Deterministic data with known drift and skew, for the bundled serving sample and tests.

`data/taxi_serving/requests.csv` is `serving_requests(data/taxi/span-3/data.csv)`: what
a model server logged for the model trained on span 3 (every other row, no label), with
one deliberate bug: the client sends trip durations in whole minutes instead of seconds,
so `trip_seconds` is skewed (divided by 60) and nothing else is. Regenerate it with
`python -m pipeline.drift.samples`.

`drifted_rows` makes a span that moved in two known features (fares up, cash payments
re-weighted to card) while every other column is byte-for-byte the same.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from pipeline.source_tree import ROOT

SERVING_SOURCE = ROOT / "data" / "taxi" / "span-3" / "data.csv"
SERVING_SAMPLE = ROOT / "data" / "taxi_serving" / "requests.csv"
SCHEMA = ROOT / "schema" / "taxi" / "schema.pbtxt"
LABEL = "big_tipper"
SECONDS_PER_MINUTE = 60
SKEWED_FEATURE = "trip_seconds"
DRIFTED_FEATURES = ("fare", "payment_type")


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: Iterable[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _scaled(value: str, factor: float) -> str:
    return value if value == "" else f"{float(value) * factor:.2f}"


def drifted_rows(rows: list[dict], fare_factor: float = 1.8) -> list[dict]:
    """Fares scaled up; two of every three cash payments become card payments."""
    drifted, cash_seen = [], 0
    for row in rows:
        row = dict(row, fare=_scaled(row["fare"], fare_factor))
        if row["payment_type"] == "Cash":
            cash_seen += 1
            if cash_seen % 3:
                row["payment_type"] = "Credit Card"
        drifted.append(row)
    return drifted


def write_drifted_span(source: Path, destination: Path) -> Path:
    header, rows = read_rows(source)
    return write_rows(destination, header, drifted_rows(rows))


def serving_requests(source: Path, destination: Path, every: int = 2) -> Path:
    """Every `every`-th row without the label, trip duration in minutes."""
    header, rows = read_rows(source)
    header = [c for c in header if c != LABEL]
    requests = []
    for row in rows[::every]:
        row = {k: v for k, v in row.items() if k != LABEL}
        seconds = row[SKEWED_FEATURE]
        row[SKEWED_FEATURE] = seconds and str(round(int(seconds) / SECONDS_PER_MINUTE))
        requests.append(row)
    return write_rows(destination, header, requests)


def request_rows(path: Path = SERVING_SAMPLE, schema: Path = SCHEMA) -> list[dict]:
    """CSV rows as a client sends them in JSON predict requests (and `serve` hands them to
    its request log): numbers as numbers by the schema's types, a missing value left out."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    parsed = text_format.Parse(schema.read_text(encoding="utf-8"), schema_pb2.Schema())
    parse = {f.name: {schema_pb2.FLOAT: float, schema_pb2.INT: int}.get(f.type, str)
             for f in parsed.feature}
    _, rows = read_rows(path)
    return [{name: parse.get(name, str)(value) for name, value in row.items() if value != ""}
            for row in rows]


if __name__ == "__main__":
    print(serving_requests(SERVING_SOURCE, SERVING_SAMPLE))
