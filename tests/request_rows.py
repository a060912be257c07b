"""CSV rows as a client sends them in JSON predict requests: numbers as numbers (by the
schema's types), a missing value left out."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from tests.conftest import TAXI_SCHEMA, read_csv_rows


def request_rows(path: Path, schema_path: Path = TAXI_SCHEMA) -> list[dict]:
    schema = text_format.Parse(schema_path.read_text(encoding="utf-8"), schema_pb2.Schema())
    parse = {f.name: {schema_pb2.FLOAT: float, schema_pb2.INT: int}.get(f.type, str)
             for f in schema.feature}
    return [{name: parse.get(name, str)(value) for name, value in row.items() if value != ""}
            for row in read_csv_rows(path)]
