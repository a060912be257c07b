"""Request rows written exactly as ingestion writes span rows.

The server hands over raw feature dicts (`{"fare": 12.5, "company": "Flash Cab"}`). They
become an Arrow batch typed by the curated schema, pass through ingestion's own
personal-data rules and tf.Example encoder (components/csv_ingest/reader.py), so a
logged request and an ingested row with the same values are the same bytes, and `skew`
compares like with like. Every schema column is written, as a span's CSV holds every
column: a missing value (absent key or None) is a null cell, which ingestion's encoder
writes as the feature with an empty value list, as it writes a CSV's empty field.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional, Sequence

from pipeline import config as config_lib


class RowEncoder:
    """Serializes request rows to raw-feature tf.Examples (the label is never written)."""

    def __init__(self, types: Mapping[str, int], personal):
        from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

        self._types = dict(types)
        self._personal = personal
        self._encoder = RecordBatchToExamplesEncoder()

    @classmethod
    def from_config(cls, config: config_lib.Config) -> "RowEncoder":
        """The schema's columns and the config's [privacy] rules; the pseudonymization key
        is read from the environment as ingestion reads it (a missing one is an input
        error, raised here, before the first request)."""
        from google.protobuf import text_format
        from tensorflow_metadata.proto.v0 import schema_pb2

        from components.csv_ingest import reader

        schema = text_format.Parse(config.schema.read_text(encoding="utf-8"),
                                   schema_pb2.Schema())
        types = {name: kind for name, kind in reader.column_types(schema).items()
                 if name != config.features.label.name}
        privacy = config.privacy
        personal = reader.personal_data({"drop": privacy.drop,
                                         "pseudonymize": privacy.pseudonymize,
                                         "key_env": privacy.key_env})
        return cls(types, personal)

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> list[bytes]:
        """One serialized tf.Example per row; columns the schema does not know are left out."""
        import pyarrow as pa

        from components.csv_ingest import reader

        names = list(self._types)
        if not rows or not names:
            return []
        arrays = []
        for name in names:
            convert = converter(self._types[name])
            arrays.append(pa.array([convert(row.get(name)) for row in rows],
                                   reader.ARROW_TYPES[self._types[name]]))
        table = reader.apply_personal_data(pa.Table.from_arrays(arrays, names), self._personal)
        encoded: list[bytes] = []
        for batch in table.to_batches():
            encoded += self._encoder.encode(reader.as_feature_lists(batch))
        return encoded


def converter(kind: int) -> Callable[[Any], Optional[Any]]:
    """The conversion of a cell to one schema type (None, missing, when it is not one: the
    server validates requests, so this only keeps a stray value from failing a batch).
    Chosen once per column: the writer calls it for every cell."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    return {schema_pb2.BYTES: _text, schema_pb2.FLOAT: _real}.get(kind, _integer)


def _text(value: Any) -> Optional[str]:
    if type(value) is str:
        return value
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _real(value: Any) -> Optional[float]:
    if type(value) is float:
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _integer(value: Any) -> Optional[int]:
    if type(value) is int:
        return value
    number = _real(value)
    if number is not None and math.isfinite(number) and number.is_integer():
        return int(value) if isinstance(value, int) else int(number)
    return None
