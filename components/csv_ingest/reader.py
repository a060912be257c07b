"""Reads one CSV file into tf.Examples, or fails with a message naming file, row and column.

Why not TFX's own CSV reader: it reads each file line by line in Python, infers column
types from the data (so one bad cell silently turns a numeric column into strings),
and fails on a bad row with a stack trace that names neither file nor row. Here the
curated schema fixes each column's type, Arrow parses the file in C++, and the slow
Python scan runs only after a failure, to say exactly where it is.

Personal columns are dropped or pseudonymized here, before anything is written, so
that no raw value reaches an artifact.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from components.csv_ingest.header import (CsvError, CsvFormat, csv_records, decompressed,
                                          parse_header)

ARROW_TYPES = {schema_pb2.INT: pa.int64(), schema_pb2.FLOAT: pa.float64(),
               schema_pb2.BYTES: pa.string()}
_TYPE_NAMES = {schema_pb2.INT: "an integer", schema_pb2.FLOAT: "a number",
               schema_pb2.BYTES: "text"}
BATCH_ROWS = 8192


@dataclass(frozen=True)
class PersonalData:
    """Columns to drop and columns to replace by a keyed hash (HMAC-SHA256) of the value."""

    drop: tuple[str, ...] = ()
    pseudonymize: tuple[str, ...] = ()
    key: Optional[bytes] = field(default=None, repr=False)

    def pseudonym(self, value: str) -> str:
        return hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def personal_data(settings: Mapping[str, Any]) -> PersonalData:
    """The rules of `settings` (drop, pseudonymize, key_env): what ingestion applies and
    `serve`'s request log too. The key is read from the environment variable the config
    names; it is never stored."""
    pseudonymize = tuple(settings.get("pseudonymize", ()))
    key = None
    if pseudonymize:
        variable = settings["key_env"]
        value = os.environ.get(variable)
        if not value:
            raise CsvError(f"personal columns {', '.join(pseudonymize)} need a "
                           f"pseudonymization key in the environment variable {variable}")
        key = value.encode("utf-8")
    return PersonalData(drop=tuple(settings.get("drop", ())), pseudonymize=pseudonymize,
                        key=key)


def column_types(schema: schema_pb2.Schema) -> dict[str, int]:
    return {f.name: f.type for f in schema.feature if f.type in ARROW_TYPES}


def read_split_examples(path: str, data: bytes, types: dict[str, int], personal: PersonalData,
                        bounds: Sequence[int], csv_format: CsvFormat = CsvFormat()
                        ) -> Iterator[tuple[int, bytes]]:
    """(split index, serialized tf.Example) of one file's rows, in order; see split_ids."""
    for batch, examples in _encoded_batches(path, data, types, personal, csv_format):
        yield from zip(split_ids(batch, bounds).tolist(), examples)


def split_ids(batch: pa.RecordBatch, bounds: Sequence[int]) -> np.ndarray:
    """Each row's split: a hash of its values into cumulative hash-bucket `bounds`.

    TFX hashes the serialized tf.Example, but the encoder writes features in an order
    that changes from process to process, so the same rows landed in different splits on
    every fresh run. The values (after the personal-data rules) hash the same everywhere.
    """
    import pandas as pd  # here: the statistics read files with this module without it

    hashes = pd.util.hash_pandas_object(batch.to_pandas(), index=False).to_numpy()
    return np.searchsorted(np.asarray(bounds), hashes % np.uint64(bounds[-1]), side="right")


def _encoded_batches(path: str, data: bytes, types: dict[str, int], personal: PersonalData,
                     csv_format: CsvFormat) -> Iterator[tuple[pa.RecordBatch, list[bytes]]]:
    """Each batch of the file's rows (personal-data rules applied) with its tf.Examples."""
    table = apply_personal_data(read_table(path, data, types, csv_format), personal)
    encoder = RecordBatchToExamplesEncoder()
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        yield batch, encoder.encode(as_feature_lists(batch))


def read_table(path: str, data: bytes, types: dict[str, int],
               csv_format: CsvFormat = CsvFormat()) -> pa.Table:
    """The file's rows typed by the schema; a `.csv.gz` file is read decompressed."""
    data = decompressed(path, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvError(f"{path}: line {line}: bytes that are not UTF-8 "
                       f"({data[error.start:error.start + 1]!r} at byte {error.start}); "
                       f"save the file as UTF-8") from None
    delimiter = csv_format.delimiter
    header = parse_header(path, text, delimiter)
    convert = pa_csv.ConvertOptions(
        column_types={name: ARROW_TYPES.get(types.get(name), pa.string()) for name in header},
        null_values=csv_format.missing, strings_can_be_null=True,
        quoted_strings_can_be_null=True)
    parse = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    try:
        table = pa_csv.read_csv(pa.BufferReader(_arrow_owned(data)), convert_options=convert,
                                parse_options=parse)
    except pa.ArrowInvalid as error:
        raise CsvError(locate_error(path, text, header, types, str(error),
                                    csv_format)) from None
    if table.num_rows == 0:
        raise CsvError(f"{path}: header only, no data rows")
    check_no_line_breaks(path, table)
    return table


def _arrow_owned(data: bytes) -> pa.Buffer:
    """A copy of `data` in memory Arrow owns, for its threaded CSV reader.

    A Python file object makes the reader's threads call back into Python for every
    block (that hung under the fuzzer's tracing). Python bytes wrapped as they are still
    leave a reader thread to release them, under the GIL, after `read_csv` returned: when
    the process exits at once (a bad file is a one-line error), that thread meets the
    finalizing interpreter and the process aborts ("terminate called without an active
    exception"). Releasing Arrow's own memory needs no GIL.
    """
    buffer = pa.allocate_buffer(len(data))
    memoryview(buffer).cast("B")[:] = data
    return buffer


def check_no_line_breaks(path: str, table: pa.Table) -> None:
    """A quoted value spanning lines is almost always a broken export; refuse it."""
    for name in table.column_names:
        column = table[name]
        if not pa.types.is_string(column.type):
            continue
        broken = pc.match_substring_regex(column, "[\r\n]")
        if pc.any(broken).as_py():
            line = pc.index(broken, True).as_py() + 2  # after the header line
            raise CsvError(f"{path}: line {line}: column '{name}': a quoted value contains a "
                           f"line break")


def locate_error(path: str, text: str, header: list[str], types: dict[str, int],
                 arrow_message: str, csv_format: CsvFormat = CsvFormat()) -> str:
    """Finds the first row and column behind an Arrow parse error (slow; error path only)."""
    missing = set(csv_format.missing)
    for number, cells in csv_records(path, text.lstrip("\ufeff"), csv_format.delimiter):
        if number == 1 or not cells:  # line 1 is the header
            continue
        if len(cells) != len(header):
            return (f"{path}: line {number}: {len(cells)} fields, but the header has "
                    f"{len(header)}")
        for name, cell in zip(header, cells):
            kind = types.get(name)
            if (cell not in missing and kind in (schema_pb2.INT, schema_pb2.FLOAT)
                    and not _parses(cell, kind)):
                return (f"{path}: line {number}: column '{name}': {cell!r} is not "
                        f"{_TYPE_NAMES[kind]} as the schema requires")
    return f"{path}: not a readable CSV file ({arrow_message.splitlines()[0]})"


def _parses(cell: str, kind: int) -> bool:
    try:
        if kind == schema_pb2.INT:
            int(cell)
        else:
            float(cell)
        return True
    except ValueError:
        return False


def apply_personal_data(table: pa.Table, personal: PersonalData) -> pa.Table:
    drop = [name for name in personal.drop if name in table.column_names]
    table = table.drop(drop) if drop else table
    for name in personal.pseudonymize:
        if name not in table.column_names:
            continue
        column = table[name].cast(pa.string())
        encoded = column.combine_chunks().dictionary_encode()
        pseudonyms = pa.array([personal.pseudonym(v) for v in encoded.dictionary.to_pylist()],
                              pa.string())
        replaced = pa.DictionaryArray.from_arrays(encoded.indices, pseudonyms).cast(pa.string())
        table = table.set_column(table.column_names.index(name), name, replaced)
    return table


def as_feature_lists(batch: pa.RecordBatch) -> pa.RecordBatch:
    """One list per cell, as tf.Example features are: a value, or an empty list if missing."""
    arrays = []
    for column in batch.columns:
        valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
        offsets = pa.array(np.concatenate([[0], np.cumsum(valid)]), pa.int32())
        values = column.drop_null()
        if pa.types.is_floating(values.type):
            values = values.cast(pa.float32())
        elif pa.types.is_string(values.type):
            values = values.cast(pa.binary())
        arrays.append(pa.ListArray.from_arrays(offsets, values))
    return pa.RecordBatch.from_arrays(arrays, batch.schema.names)

