"""The two pipelines' inputs at one size, cut from the same rows of the wheel's sample.

The stock example reads the raw sample (with `tips`; its preprocessing_fn computes the
label), Conveyor reads one span with the label already a column, as pipeline/bundled_data
derives it. Both get the same rows in the same shards, so any difference in wall time is
the pipelines', not the data's. Sizes above 1 repeat the sample; below 1 take its first rows.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from pipeline.dataset import bundled_data

SHARD_ROWS = 100_000  # rows per file: one file per Beam work item in Conveyor's reader


@dataclass(frozen=True)
class Inputs:
    rows: int
    shards: int
    stock_root: Path  # folder of CSV files: the stock CsvExampleGen's input_base
    conveyor_root: Path  # folder holding span-1/ of CSV files: Conveyor's data_root


def read_sample(source: Path) -> tuple[list[str], list[list[str]]]:
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def rows_at(size: float, sample: list[list[str]]) -> int:
    if size <= 0:
        raise ValueError(f"size {size}: must be positive")
    return max(1, round(size * len(sample)))


def build(size: float, destination: Path, source: Path | None = None) -> Inputs:
    """Writes stock/ and conveyor/span-1/ under `destination`, sharded alike."""
    header, sample = read_sample(source or bundled_data.wheel_sample_csv())
    total = rows_at(size, sample)
    shards = max(1, math.ceil(total / SHARD_ROWS))
    tips, fare = header.index(bundled_data.TIPS_COLUMN), header.index(bundled_data.FARE_COLUMN)
    conveyor_header = [c for c in header if c != bundled_data.TIPS_COLUMN] + [
        bundled_data.LABEL_COLUMN]
    stock_root = destination / "stock"
    span = destination / "conveyor" / "span-1"
    stock_root.mkdir(parents=True, exist_ok=True)
    span.mkdir(parents=True, exist_ok=True)
    written = 0
    for shard in range(shards):
        count = min(SHARD_ROWS, total - written) if shards > 1 else total
        name = f"data-{shard:05d}-of-{shards:05d}.csv"
        with open(stock_root / name, "w", newline="", encoding="utf-8") as stock_out, \
                open(span / name, "w", newline="", encoding="utf-8") as conveyor_out:
            stock_writer = csv.writer(stock_out, lineterminator="\n")
            conveyor_writer = csv.writer(conveyor_out, lineterminator="\n")
            stock_writer.writerow(header)
            conveyor_writer.writerow(conveyor_header)
            for index in range(written, written + count):
                row = sample[index % len(sample)]
                stock_writer.writerow(row)
                label = bundled_data.big_tipper(row[tips], row[fare])
                conveyor_writer.writerow([v for i, v in enumerate(row) if i != tips] + [label])
        written += count
    return Inputs(total, shards, stock_root, destination / "conveyor")
