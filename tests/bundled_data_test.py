"""The checked-in taxi spans are exactly what the builder makes from the installed wheel."""

import csv

from pipeline.dataset import bundled_data
from tests.conftest import TAXI_DATA


def test_checked_in_spans_are_rebuilt_byte_for_byte_from_the_tfx_wheel(tmp_path):
    written = bundled_data.build_spans(bundled_data.wheel_sample_csv(), tmp_path)
    assert [p.parent.name for p in written] == ["span-1", "span-2", "span-3"]
    for path in written:
        assert path.read_bytes() == (TAXI_DATA / path.parent.name / "data.csv").read_bytes()


def test_spans_are_in_timestamp_order_and_labelled():
    last = None
    for number in (1, 2, 3):
        with open(TAXI_DATA / f"span-{number}" / "data.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert "tips" not in rows[0] and set(r["big_tipper"] for r in rows) == {"0", "1"}
        stamps = [int(r["trip_start_timestamp"]) for r in rows]
        assert stamps == sorted(stamps)
        assert last is None or last <= stamps[0]
        last = stamps[-1]


def test_big_tipper_rule():
    assert bundled_data.big_tipper("2.5", "10") == 1
    assert bundled_data.big_tipper("2.0", "10") == 0
    assert bundled_data.big_tipper("", "10") == 0
    assert bundled_data.big_tipper("3", "") == 0
