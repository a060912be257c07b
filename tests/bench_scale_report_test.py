"""bench/scale_report: the growth table, the 1000× verdicts and the plot, from figures."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from bench import scale_report

GIB = 2**30


def _run(size, wall, peak, transform, returncode=0):
    return {"size": size, "rows": int(15002 * size), "csv_bytes": int(size * 2**21),
            "returncode": returncode, "wall_seconds": wall, "peak_rss_bytes": peak,
            "components": {"Transform": transform, "Trainer": 14.0, "SchemaGen": 0.01},
            "metrics": {"auc": 0.94}}


def _figures(big_wall, big_peak, returncode=0, stock=None):
    return {"conveyor": [_run(1.0, 40.0, GIB, 10.0), _run(100.0, 120.0, 2 * GIB, 30.0),
                         _run(1000.0, big_wall, big_peak, 300.0, returncode)],
            "stock": stock, "targets": {"peak_bytes": 6 * GIB, "growth": 10.0}}


def test_growth_is_each_component_over_its_smallest_size_time():
    text = scale_report.render(_figures(900.0, 5 * GIB))
    assert "| Transform | 10.0 | 30.0 | 300.0 | 3.0 | 30.0 |" in text
    assert "| Trainer | 14.0 | 14.0 | 14.0 | 1.0 | 1.0 |" in text
    assert "SchemaGen" not in text  # never half a second: left out


def test_verdicts_follow_the_targets():
    met = scale_report.render(_figures(900.0, 5 * GIB))
    assert "peak memory 5.00 GiB against ≤ 6 GiB: met" in met
    assert "wall time 7.5× the 100× one against ≤ 10×: met" in met
    missed = scale_report.render(_figures(1300.0, 7 * GIB))
    assert "7.00 GiB against ≤ 6 GiB: missed" in missed
    assert "10.8× the 100× one against ≤ 10×: missed" in missed
    failed = scale_report.render(_figures(900.0, 5 * GIB, returncode=1))
    assert "failed (exit 1) after 900" in failed and ": met" not in failed


def test_a_stock_run_cut_off_says_so():
    stock = {"size": 1000.0, "returncode": -9, "wall_seconds": 3600.4, "peak_rss_bytes": GIB,
             "cut_off": True}
    assert "cut off at 3,600 (not finished)" in scale_report.render(_figures(900.0, GIB,
                                                                             stock=stock))


def test_a_killed_stock_run_says_how_far_it_got():
    stock = {"size": 1000.0, "returncode": -9, "wall_seconds": 1043.7, "peak_rss_bytes": GIB,
             "cut_off": False,
             "components": [{"node": "CsvExampleGen", "state": "executed", "seconds": 900.25},
                            {"node": "StatisticsGen", "state": "running", "seconds": 0.0}]}
    text = scale_report.render(_figures(900.0, GIB, stock=stock))
    assert "killed (signal 9) after 1,044" in text
    assert ("Stock at 1000×, by component: CsvExampleGen 900.2 s, "
            "StatisticsGen running at the end.") in text


def test_the_plot_is_svg_with_a_line_per_component_and_end_to_end():
    root = ElementTree.fromstring(scale_report.svg(_figures(900.0, GIB)))
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    labels = [t.text for t in root.findall("{http://www.w3.org/2000/svg}text")]
    assert len(lines) == 3 and {"Transform", "Trainer", "end to end"} <= set(labels)
    assert all(len(line.get("points").split()) == 3 for line in lines)
