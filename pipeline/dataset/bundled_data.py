"""Builds the bundled taxi dataset from the sample that ships inside the tfx wheel.

The checked-in spans under data/taxi are the output of this module; it is kept so
they can be regenerated (and checked) from the installed wheel rather than trusted.
The label is derived here, not in the transform, so that the pipeline itself stays
dataset-agnostic: a dataset reaches it with its label already a column.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

TIPS_COLUMN = "tips"
FARE_COLUMN = "fare"
TIMESTAMP_COLUMN = "trip_start_timestamp"
LABEL_COLUMN = "big_tipper"
BIG_TIP_FRACTION = 0.2


def wheel_sample_csv() -> Path:
    """The Chicago taxi sample inside the installed tfx package."""
    import tfx  # deferred: importing tfx is slow and only this needs it

    return (Path(os.path.dirname(tfx.__file__)) / "examples" / "chicago_taxi_pipeline"
            / "data" / "simple" / "data.csv")


def big_tipper(tips: str, fare: str) -> int:
    """1 when the tip exceeds 20% of the fare; 0 when either is missing, as in TFX's taxi example."""
    try:
        tip_value, fare_value = float(tips), float(fare)
    except ValueError:
        return 0
    if math.isnan(fare_value) or math.isnan(tip_value):
        return 0
    return int(tip_value > BIG_TIP_FRACTION * fare_value)


def build_spans(source: Path, destination: Path, num_spans: int = 3) -> list[Path]:
    """Writes `num_spans` span folders of equal size, in trip_start_timestamp order."""
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [c for c in reader.fieldnames or [] if c != TIPS_COLUMN] + [LABEL_COLUMN]
        rows = list(reader)
    rows.sort(key=lambda r: int(r[TIMESTAMP_COLUMN]))
    per_span = math.ceil(len(rows) / num_spans)
    written = []
    for index in range(num_spans):
        chunk = rows[index * per_span:(index + 1) * per_span]
        span_dir = destination / f"span-{index + 1}"
        span_dir.mkdir(parents=True, exist_ok=True)
        path = span_dir / "data.csv"
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore",
                                    lineterminator="\n")
            writer.writeheader()
            for row in chunk:
                row[LABEL_COLUMN] = big_tipper(row[TIPS_COLUMN], row[FARE_COLUMN])
                writer.writerow(row)
        written.append(path)
    return written
