"""The data root's layout (`span-N/*.csv`) and the checks made before any component runs.

CsvExampleGen would find a missing span or a misnamed column too, but only deep inside
a Beam job with a stack trace; checking the header first gives the user one line that
names the file and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from components.csv_ingest import header as csv_header
from models.features import FeatureSet
from pipeline.errors import DataError

SPAN_PATTERN = "span-{SPAN}/*"
_SPAN_DIR = re.compile(r"^span-(\d+)$")


@dataclass(frozen=True)
class Span:
    number: int
    path: Path

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith("."))


def list_spans(data_root: Path) -> list[Span]:
    if not data_root.is_dir():
        raise DataError(f"{data_root}: data root is not a folder")
    spans = [Span(int(m.group(1)), p) for p in data_root.iterdir()
             if p.is_dir() and (m := _SPAN_DIR.match(p.name))]
    return sorted(spans, key=lambda s: s.number)


def select_span(data_root: Path, number: Optional[int]) -> Span:
    """The requested span, or the latest one, which is what CsvExampleGen ingests by default."""
    spans = list_spans(data_root)
    if not spans:
        raise DataError(f"{data_root}: no span-N folders in the data root")
    if number is None:
        return spans[-1]
    for span in spans:
        if span.number == number:
            return span
    raise DataError(f"{data_root}: no span {number} (spans present: "
                    f"{', '.join(str(s.number) for s in spans)})")


def check_columns(span: Span, features: FeatureSet, delimiter: str = ",") -> None:
    """Every configured feature and the label must be a column of every file of the span."""
    files = span.files
    if not files:
        raise DataError(f"{span.path}: span {span.number} holds no data files")
    wanted = [features.label.name, *features.names]
    for path in files:
        header = read_header(path, delimiter)
        missing = [name for name in wanted if name not in header]
        if missing:
            what = "label" if missing[0] == features.label.name else "feature"
            raise DataError(csv_header.missing_column(str(path), what, missing[0], header))


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """The file's checked header (binary, compressed, empty or mis-delimited files fail
    here with the same line ingestion would give)."""
    with open(path, "rb") as handle:
        return [name.strip() for name in csv_header.read_header(str(path), handle, delimiter)]
