"""What makes a file unreadable as CSV before any row is parsed, named in one line:
binary or compressed content, an empty file, a repeated column name, or a header that
is one column because the file uses another delimiter.

Shared by the run's pre-flight check (pipeline/dataset/spans.py) and the ingestion
executor, so both say the same thing about the same file.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator, Mapping, Sequence

from components.errors import InputError

GZIP_SUFFIX = ".gz"
_GZIP_MAGIC = b"\x1f\x8b"
# Delimiters a user's export may have used instead of the configured one.
_OTHER_DELIMITERS = {";": "';'", "\t": "a tab", ",": "','", "|": "'|'"}
_CLOSE_MATCHES = 3


class CsvError(InputError, ValueError):
    """A CSV file the pipeline will not ingest; the message names file, row and column."""


@dataclass(frozen=True)
class CsvFormat:
    """How the span files are written (the config's [csv] table): the field delimiter and
    the markers read as a missing value in every column, besides the empty field."""

    delimiter: str = ","
    null_values: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> "CsvFormat":
        return cls(delimiter=settings.get("delimiter", ","),
                   null_values=tuple(settings.get("null_values", ())))

    @property
    def missing(self) -> list[str]:
        return ["", *self.null_values]


def decompressed(path: str, data: bytes) -> bytes:
    """The file's text bytes: a `.gz` file is decompressed, other files must be text."""
    if path.endswith(GZIP_SUFFIX):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise CsvError(f"{path}: not a readable gzip file ({error})") from None
        check_text(path, data, compressed=True)
        return data
    check_text(path, data)
    return data


def check_text(path: str, data: bytes, compressed: bool = False) -> None:
    """Refuses binary content (a NUL byte anywhere: Python's csv module cannot read one)
    and, in a file not named .gz, gzip-compressed data."""
    if not compressed and data.startswith(_GZIP_MAGIC):
        raise CsvError(f"{path}: gzip-compressed data in a file not named .gz; "
                       f"decompress it or add .gz to its name")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise CsvError(f"{path}: line {line}: binary data (a NUL byte at byte {nul}), "
                       f"not a CSV text file")


def read_header(path: str, handle: BinaryIO, delimiter: str = ",") -> list[str]:
    """The checked header of an open file (binary mode), without reading the rest."""
    if path.endswith(GZIP_SUFFIX):
        try:
            line = gzip.GzipFile(fileobj=handle).readline()
        except (OSError, EOFError, zlib.error) as error:
            raise CsvError(f"{path}: not a readable gzip file ({error})") from None
        check_text(path, line, compressed=True)
    else:
        line = handle.readline()
        check_text(path, line)
    return parse_header(path, line.decode("utf-8", errors="replace"), delimiter)


def parse_header(path: str, text: str, delimiter: str = ",") -> list[str]:
    """The checked header of a file's decoded text (a byte-order mark is skipped)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise CsvError(f"{path}: empty file, expected a header line and data rows")
    header = next((cells for _, cells in csv_records(path, text, delimiter)), [])
    check_header(path, header, delimiter)
    return header


def csv_records(path: str, text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record of the text, as Python's csv module splits
    them; its errors (a bare carriage return inside a field, a field over its size
    limit) are refused naming the line."""
    records = csv.reader(io.StringIO(text), delimiter=delimiter)
    while True:
        line = records.line_num + 1
        try:
            cells = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            what = ("a carriage return inside an unquoted field"
                    if "new-line character" in str(error) else str(error))
            raise CsvError(f"{path}: line {records.line_num}: {what}") from None
        yield line, cells


def check_header(path: str, header: Sequence[str], delimiter: str = ",") -> None:
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CsvError(f"{path}: line 1: column name {', '.join(map(repr, repeated))} "
                       f"appears more than once in the header")
    if len(names) != 1:
        return
    for other, described in _OTHER_DELIMITERS.items():
        if other != delimiter and other in names[0]:
            expected = _OTHER_DELIMITERS.get(delimiter, repr(delimiter))
            raise CsvError(f"{path}: line 1: the header is one column that looks delimited "
                           f"by {described}, not {expected}; set [csv] delimiter or "
                           f"re-export the file")


def missing_column(path: str, what: str, name: str, header: Sequence[str]) -> str:
    """One line for a column the file lacks: the closest names only, not the whole header."""
    close = difflib.get_close_matches(name, list(header), n=_CLOSE_MATCHES)
    hint = (f"did you mean {', '.join(map(repr, close))}?" if close
            else f"the file has {len(header)} other columns")
    return f"{path}: {what} '{name}' is not a column of this file ({hint})"
