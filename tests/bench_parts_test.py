"""The benchmark's parts that need no pipeline: same rows for both inputs, the verdicts,
and the results block replaced in place in docs/BENCHMARKS.md."""

from __future__ import annotations

import csv
import math

from bench import environment, inputs, report
from bench.component_times import ComponentTime
from pipeline.dataset import bundled_data

SAMPLE_HEADER = ["fare", "trip_start_timestamp", "company", "tips"]
SAMPLE = [["10.0", "1", "A", "3.0"], ["10.0", "2", "B", "1.0"], ["", "3", "C", "5.0"]]


def _sample(path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SAMPLE_HEADER)
        writer.writerows(SAMPLE)
    return path


def _rows(folder):
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_both_pipelines_get_the_same_rows_repeated_and_sharded(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "SHARD_ROWS", 4)
    built = inputs.build(3, tmp_path / "out", _sample(tmp_path / "sample.csv"))
    assert (built.rows, built.shards) == (9, 3)
    stock, conveyor = _rows(built.stock_root), _rows(built.conveyor_root / "span-1")
    assert len(stock) == len(conveyor) == 9
    assert [r["trip_start_timestamp"] for r in stock] == ["1", "2", "3"] * 3
    assert all("tips" not in r for r in conveyor)
    assert [r["trip_start_timestamp"] for r in conveyor] == ["1", "2", "3"] * 3
    assert [r[bundled_data.LABEL_COLUMN] for r in conveyor] == ["1", "0", "0"] * 3
    assert sorted(p.name for p in built.stock_root.iterdir()) == sorted(
        p.name for p in (built.conveyor_root / "span-1").iterdir())


def test_a_fraction_takes_the_first_rows(tmp_path):
    built = inputs.build(0.5, tmp_path / "out", _sample(tmp_path / "sample.csv"))
    assert built.rows == 2 and built.shards == 1
    assert [r["trip_start_timestamp"] for r in _rows(built.stock_root)] == ["1", "2"]


def _run(name, wall, cached, ingest):
    return report.PipelineRun(name, 0, wall, 2**30, [ComponentTime("CsvExampleGen", "executed",
                                                                    ingest)], 0, cached)


def test_verdicts_follow_the_targets_by_size():
    result = report.SizeResult(1, 1000, 1, _run("stock", 100, 40, 10), _run("Conveyor", 49, 21, 2))
    rows = {r[0]: r for r in report.ratio_rows(result)}
    assert rows["end-to-end wall (s)"][3:] == ["0.49", "≤ 0.3", "missed"]
    assert rows["cached re-run (s)"][3:] == ["0.53", "≤ 0.2", "missed"]
    assert "re-run through TFX's cache (s)" not in rows
    assert rows["ingestion (rows/s)"][1:4] == ["100", "500", "5.00"]
    fast = report.SizeResult(10, 1000, 1, _run("stock", 100, 40, 10), _run("Conveyor", 29, 2, 2))
    fast.conveyor.through_cache_seconds = 6.0
    rows = {r[0]: r for r in report.ratio_rows(fast)}
    assert rows["end-to-end wall (s)"][3:] == ["0.29", "≤ 0.3", "met"]
    assert rows["cached re-run (s)"][3:] == ["0.05", "≤ 0.2", "met"]
    assert rows["re-run through TFX's cache (s)"][1:] == ["40.0", "6.0", "0.15", "—",
                                                         "no target"]
    big = report.SizeResult(100, 10, 1, _run("stock", 100, 40, 1), _run("Conveyor", 21, 10, 1))
    assert {r[0]: r for r in report.ratio_rows(big)}["end-to-end wall (s)"][4:] == [
        "≤ 0.2", "missed"]
    smoke = report.SizeResult(0.1, 10, 1, _run("stock", 1, 1, 1), _run("Conveyor", 9, 1, 1))
    assert {r[0]: r for r in report.ratio_rows(smoke)}["end-to-end wall (s)"][5] == "no target"
    assert math.isnan(report.ratio(1.0, 0.0))


def test_results_are_replaced_between_the_markers(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\nintro\n\n<!-- bench:results:start -->\nold\n"
                   "<!-- bench:results:end -->\n\nafter\n", encoding="utf-8")
    environment.write_results(doc, "command: x", "| table |")
    text = doc.read_text(encoding="utf-8")
    assert "old" not in text and "| table |" in text and "command: x" in text
    assert text.startswith("# Benchmarks\n\nintro\n") and text.endswith("after\n")
    environment.write_results(doc, "command: y", "| again |")
    assert doc.read_text(encoding="utf-8").count("<!-- bench:results:start -->") == 1


def test_conveyor_runs_the_shipped_config_on_the_benchmark_data_and_steps(tmp_path):
    from bench.run import conveyor_config
    from pipeline import config as config_lib

    shipped = config_lib.load(config_lib.DEFAULT_CONFIG)
    loaded = config_lib.load(conveyor_config(tmp_path / "c.toml", tmp_path / "data", 70, 9))
    assert loaded.data_root == tmp_path / "data"
    assert (loaded.training.train_steps, loaded.training.eval_steps) == (70, 9)
    assert loaded.schema == shipped.schema
    assert loaded.training.batch_size == shipped.training.batch_size
    assert loaded.beam == shipped.beam
