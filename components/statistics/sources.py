"""The compared data as Arrow record batches, decoded the way TFDV decodes it.

CSV files are read by ingestion's reader (components/csv_ingest/reader.py), so the
config's [csv] delimiter and null_values mean here what they mean to CsvExampleGen, and
a bad file gets the same one-line error naming file, line and column. Each compared
column becomes what TFDV's CSV decoder makes of it: a large_list of int64, float32 or
large_binary, null where the value is missing. TFRecord files of tf.Examples are
decoded by tfx_bsl's decoder, as TFDV's TFExampleRecord source does.

Local files are read with plain file I/O (no TensorFlow); a bucket URI goes through
tf.io.gfile.
"""

from __future__ import annotations

import glob
import gzip
import os
import struct
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import schema_pb2

from components.csv_ingest.header import CsvFormat
from components.errors import InputError

CSV, TFRECORD = "csv", "tfrecord"
# TFDV's default input batch (constants.DEFAULT_DESIRED_INPUT_BATCH_SIZE): the statistics'
# running mean and variance are combined per batch, so equal batches give equal digits.
BATCH_ROWS = 1000
_CSV_SUFFIXES = (".csv", ".csv.gz")
_TFRECORD_SUFFIXES = (".tfrecord", ".tfrecords", ".tfrecord.gz", ".tfrecords.gz", ".gz")
ROWS_ONLY = "__rows__"
_LIST_TYPES = {schema_pb2.INT: pa.int64(), schema_pb2.FLOAT: pa.float32(),
               schema_pb2.BYTES: pa.large_binary()}


class InputDataError(InputError, ValueError):
    """Data that cannot be compared: missing, empty, or not CSV/TFRecord; names the path."""


def _remote(path: str) -> bool:
    return "://" in path


def _gfile():
    from tensorflow.io import gfile

    return gfile


def _isdir(path: str) -> bool:
    return _gfile().isdir(path) if _remote(path) else os.path.isdir(path)


def data_files(path: str) -> tuple[str, str]:
    """(a glob of the data, its format) for a CSV/TFRecord file or a folder of them."""
    exists = _gfile().exists(path) if _remote(path) else os.path.exists(path)
    if not exists:
        raise InputDataError(f"{path}: no such file or folder")
    if not _isdir(path):
        return path, _format_of(path)
    listed = _gfile().listdir(path) if _remote(path) else os.listdir(path)
    names = sorted(n.rstrip("/") for n in listed
                   if not n.startswith((".", "_")) and not _isdir(os.path.join(path, n)))
    if not names:
        raise InputDataError(f"{path}: folder holds no data files")
    formats = {_format_of(os.path.join(path, n)) for n in names}
    if len(formats) > 1:
        raise InputDataError(f"{path}: folder mixes CSV and TFRecord files")
    suffixes = {_suffix(n) for n in names}
    return os.path.join(path, "*" + suffixes.pop() if len(suffixes) == 1 else "*"), formats.pop()


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in _CSV_SUFFIXES + _TFRECORD_SUFFIXES if lowered.endswith(s)), "")


def _format_of(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(_CSV_SUFFIXES):
        return CSV
    if lowered.endswith(_TFRECORD_SUFFIXES):
        return TFRECORD
    raise InputDataError(f"{path}: not a CSV (.csv) or TFRecord (.tfrecord, .tfrecord.gz, .gz) "
                         f"file")


def matching_files(pattern: str) -> list[str]:
    found = _gfile().glob(pattern) if _remote(pattern) else glob.glob(pattern)
    files = sorted(f for f in found if not _isdir(f))
    if not files:
        raise InputDataError(f"{pattern}: no files match")
    return files


def total_bytes(files: Sequence[str]) -> int:
    if any(_remote(f) for f in files):
        return sum(_gfile().stat(f).length for f in files)
    return sum(os.path.getsize(f) for f in files)


def read_bytes(path: str) -> bytes:
    if _remote(path):
        with _gfile().GFile(path, "rb") as handle:
            return handle.read()
    with open(path, "rb") as handle:
        return handle.read()


def record_batches(path: str, data_format: str, schema: schema_pb2.Schema,
                   names: Sequence[str], csv_format: CsvFormat = CsvFormat()
                   ) -> Iterator[pa.RecordBatch]:
    """The file's rows in batches of BATCH_ROWS, only the columns in `names`."""
    data = read_bytes(path)
    if data_format == CSV:
        batch = csv_record_batch(path, data, schema, names, csv_format)
    else:
        batch = tfrecord_record_batch(path, data, names)
    for start in range(0, batch.num_rows, BATCH_ROWS):
        yield batch.slice(start, BATCH_ROWS)


def csv_record_batch(path: str, data: bytes, schema: schema_pb2.Schema, names: Sequence[str],
                     csv_format: CsvFormat) -> pa.RecordBatch:
    from components.csv_ingest import reader

    types = reader.column_types(schema)
    table = reader.read_table(path, data, types, csv_format)
    columns, kept = [], []
    for name in names:
        if name in table.column_names:
            value_type = _LIST_TYPES.get(types.get(name), pa.large_binary())
            columns.append(_as_lists(table[name].combine_chunks(), value_type))
            kept.append(name)
    return _batch(columns, kept, table.num_rows)


def _batch(columns: list, names: list, rows: int) -> pa.RecordBatch:
    """A batch of the compared columns; with none of them, a placeholder column keeps the
    row count (the statistics read only compared columns)."""
    if not names:
        return pa.RecordBatch.from_arrays([pa.nulls(rows)], [ROWS_ONLY])
    return pa.RecordBatch.from_arrays(columns, names)


def _as_lists(column: pa.Array, value_type: pa.DataType) -> pa.LargeListArray:
    """One value per row in a list, or null where the value is missing (TFDV's CSV form)."""
    # pyarrow.compute's functions and null offsets rather than Array methods and a mask:
    # those load Arrow's dataset module (a tenth of a second) on the way.
    valid = np.asarray(pc.is_valid(column), dtype=bool)
    offsets = np.concatenate([[0], np.cumsum(valid)]).astype(np.int64)
    values = pc.drop_null(column)
    if pa.types.is_string(values.type):
        values = pc.cast(values, pa.binary())
    null_offsets = pa.array(offsets, mask=np.concatenate([~valid, [False]]))
    return pa.LargeListArray.from_arrays(null_offsets, pc.cast(values, value_type))


def example_batches(path: str) -> Iterator[pa.RecordBatch]:
    """A TFRecord file's tf.Examples, every feature, in batches of BATCH_ROWS (none for
    a file without records: a split can get no row of a small input file)."""
    records = list(tfrecords(path, read_bytes(path)))
    if records:
        batch = _decoded(path, records)
        for start in range(0, batch.num_rows, BATCH_ROWS):
            yield batch.slice(start, BATCH_ROWS)


def tfrecord_record_batch(path: str, data: bytes, names: Sequence[str]) -> pa.RecordBatch:
    records = list(tfrecords(path, data))
    if not records:
        raise InputDataError(f"{path}: no records")
    batch = _decoded(path, records)
    kept = [n for n in names if n in batch.schema.names]
    return _batch([batch.column(batch.schema.get_field_index(n)) for n in kept], kept,
                  batch.num_rows)


def _decoded(path: str, records: list[bytes]) -> pa.RecordBatch:
    from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

    try:
        return ExamplesToRecordBatchDecoder().DecodeBatch(records)
    except Exception as error:  # noqa: BLE001  (the decoder raises bare RuntimeErrors)
        raise InputDataError(f"{path}: not a file of tf.Examples: {error}") from None


def tfrecords(path: str, data: bytes) -> Iterator[bytes]:
    """The records of a TFRecord file (gzip-compressed if it says so), CRCs checked."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    position = 0
    while position < len(data):
        if position + 12 > len(data):
            raise InputDataError(f"{path}: truncated TFRecord header at byte {position}")
        length, length_crc = struct.unpack_from("<QI", data, position)
        start, end = position + 12, position + 12 + length
        if masked_crc(data[position:position + 8]) != length_crc or end + 4 > len(data):
            raise InputDataError(f"{path}: not a TFRecord file (bad record at byte {position})")
        (data_crc,) = struct.unpack_from("<I", data, end)
        if masked_crc(data[start:end]) != data_crc:
            raise InputDataError(f"{path}: corrupted TFRecord (checksum at byte {end})")
        yield data[start:end]
        position = end + 4


def masked_crc(chunk: bytes) -> int:
    """TFRecord's masked CRC-32C of a length or a record."""
    import google_crc32c

    crc = google_crc32c.value(chunk)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
