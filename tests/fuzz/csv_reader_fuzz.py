"""Coverage-guided fuzzing of the CSV reader (atheris): any file either reads or is
refused with the reader's own error naming the file, never another exception.

An input is one byte of settings and the file's bytes. The settings byte picks the
`[csv]` delimiter and null_values, whether the content is stored gzip-compressed as
`.csv.gz` (or, uncompressed, under a `.gz` name), and a personal-data rule, so one
corpus covers the config variants a user can choose.

    python -m tests.fuzz.csv_reader_fuzz [libFuzzer flags] [corpus folders]

`make fuzz` runs it on the checked-in corpus; tests/csv_fuzz_test.py runs a bounded pass
and replays tests/fuzz/crashes/ (inputs that once failed) as regression cases.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile

DELIMITERS = (",", ";", "\t", "|")
NULL_VALUES = ((), ("NA",), ("NA", "N/A", "null", "-"), ("",))
# Column types of the curated-schema kinds; a seed's header names some of them.
COLUMNS = {"fare": "FLOAT", "hour": "INT", "company": "BYTES", "miles": "FLOAT",
           "tips": "INT"}
_PSEUDONYM_KEY = b"fuzz-key"


def settings(flags: int) -> dict:
    """What the settings byte selects (bits: 0-1 delimiter, 2-3 null_values, 4-5 how the
    file is stored, 6-7 personal data)."""
    return {"delimiter": DELIMITERS[flags & 3], "null_values": NULL_VALUES[(flags >> 2) & 3],
            "storage": ("csv", "csv.gz", "gz-name", "csv")[(flags >> 4) & 3],
            "personal": ("none", "drop", "pseudonymize", "none")[(flags >> 6) & 3]}


def check_one(data: bytes) -> None:
    """Reads one fuzz input as ingestion does: the header check, then every row."""
    from components.csv_ingest import header, reader
    from components.errors import InputError
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not data:
        return
    chosen = settings(data[0])
    content = data[1:]
    csv_format = header.CsvFormat(chosen["delimiter"], chosen["null_values"])
    types = {name: schema_pb2.FeatureType.Value(kind) for name, kind in COLUMNS.items()}
    personal = reader.PersonalData(
        drop=("company",) if chosen["personal"] == "drop" else (),
        pseudonymize=("company",) if chosen["personal"] == "pseudonymize" else (),
        key=_PSEUDONYM_KEY)
    suffix = ".csv" if chosen["storage"] == "csv" else ".csv.gz"
    stored = gzip.compress(content, mtime=0) if chosen["storage"] == "csv.gz" else content
    with tempfile.TemporaryDirectory(prefix="csv-fuzz-") as folder:
        path = os.path.join(folder, "data" + suffix)
        with open(path, "wb") as handle:
            handle.write(stored)
        try:
            with open(path, "rb") as handle:
                header.read_header(path, handle, csv_format.delimiter)
            with open(path, "rb") as handle:
                file_bytes = handle.read()
            for _ in reader.read_split_examples(path, file_bytes, types, personal, [2, 3],
                                                csv_format):
                pass
        except InputError as error:
            if not str(error).startswith(path + ": "):
                raise AssertionError(f"the error does not name the file: {error}") from None


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["components.csv_ingest"]):
        from components.csv_ingest import header, reader  # noqa: F401
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
