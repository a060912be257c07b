"""How Conveyor's run grows with the data, up to 1000× (15 M rows) on one machine.

    .venv/bin/python bench/scale.py --sizes 1 10 100 1000 [--stock-at 1000 --stock-timeout 3600]
                                    [--json results.json] [--svg docs/scale.svg]

Each size runs Conveyor once from an empty workspace (as bench/run.py's first run: the
same inputs, config and steps) and records its wall time, the peak memory of its process
tree, every component's time from ML Metadata and the Evaluator's AUC. `--stock-at` also
runs the stock TFX example at one size, once, cut off after `--stock-timeout` seconds;
its outcome (time, the cut-off, or a failure) is printed beside Conveyor's. The tables go
to stdout; `--json` keeps the figures, `--svg` draws each component's time against size.
Only the largest size's data is kept at a time: 1000× is 1.8 GB of CSV per pipeline.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: `python bench/scale.py`
    sys.path.insert(0, str(REPO))

from bench import environment, inputs, process_probe, run, scale_report  # noqa: E402

PEAK_TARGET_BYTES = 6 * 2**30  # issue #17: the whole process tree at 1000×
GROWTH_TARGET = 10.0  # 1000× wall time at most this many times the 100× one


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/scale.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.0, 10.0, 100.0, 1000.0])
    parser.add_argument("--train-steps", type=int, default=run.STOCK_TRAIN_STEPS)
    parser.add_argument("--eval-steps", type=int, default=run.STOCK_EVAL_STEPS)
    parser.add_argument("--stock-at", type=float, help="also run the stock example at this size")
    parser.add_argument("--stock-timeout", type=float, default=3600.0)
    parser.add_argument("--timeout", type=float, help="seconds allowed for each Conveyor run")
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--svg", type=Path, help="draw component time against size here")
    args = parser.parse_args(argv)
    if any(size <= 0 for size in args.sizes):
        parser.error("--sizes: every size must be positive")
    return args


def conveyor_at(size: float, folder: Path, data: inputs.Inputs, args) -> dict:
    from bench import component_times

    config = run.conveyor_config(folder / "conveyor.toml", data.conveyor_root,
                                 args.train_steps, args.eval_steps)
    workspace = folder / "conveyor"
    command = [sys.executable, "-m", "pipeline", "run", "--config", str(config),
               "--workspace", str(workspace), "--format", "json"]
    print(f"{size:g}x: Conveyor on {data.rows:,} rows ...", file=sys.stderr, flush=True)
    measured = process_probe.run(command, folder / "conveyor.log", REPO, run.child_env(),
                                 args.timeout)
    times = component_times.latest_run_times_at(workspace / "metadata.sqlite", run.CONVEYOR_NAME)
    return {"size": size, "rows": data.rows, "csv_bytes": _csv_bytes(data.conveyor_root),
            "returncode": measured.returncode, "wall_seconds": measured.wall_seconds,
            "peak_rss_bytes": measured.peak_rss_bytes,
            "components": {t.node: t.seconds for t in times if t.state != "cached"},
            "metrics": _summary(measured.log).get("metrics", {})}


def stock_at(size: float, folder: Path, data: inputs.Inputs, args) -> dict:
    print(f"{size:g}x: stock example, cut off after {args.stock_timeout:g} s ...",
          file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "bench.stock_pipeline", "--data", str(data.stock_root),
               "--work", str(folder / "stock"), "--train-steps", str(args.train_steps),
               "--eval-steps", str(args.eval_steps)]
    measured = process_probe.run(command, folder / "stock.log", REPO, run.child_env(),
                                 args.stock_timeout)
    return {"size": size, "returncode": measured.returncode,
            "wall_seconds": measured.wall_seconds, "peak_rss_bytes": measured.peak_rss_bytes,
            "cut_off": measured.wall_seconds >= args.stock_timeout,
            "components": _stock_progress(folder / "stock")}


def _stock_progress(work: Path) -> list[dict]:
    """Each stock component's state and time from its ML Metadata, so a run that was cut
    off or killed says how far it got (its folder is removed afterwards)."""
    from bench import component_times
    from bench.stock_pipeline import PIPELINE_NAME, paths

    times = component_times.latest_run_times_at(paths(work)["metadata_path"], PIPELINE_NAME)
    return [{"node": t.node, "state": t.state, "seconds": t.seconds} for t in times]


def _keep(figures: dict, path: Path | None) -> None:
    """Written after every run, so an hours-long run that is cut short keeps what it measured."""
    if path:
        path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def _csv_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*.csv"))


def _summary(log: Path) -> dict:
    """The run's JSON summary: the last top-level object the command printed."""
    text = log.read_text(encoding="utf-8", errors="replace")
    start = text.rfind("\n{\n")
    if start < 0:
        return {}
    try:
        return json.JSONDecoder().raw_decode(text[start + 1:])[0]
    except ValueError:
        return {}


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python bench/scale.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc)
    machine = environment.describe()
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    figures = {"command": command, "started": started.isoformat(), "machine": machine,
               "conveyor": [], "stock": None,
               "targets": {"peak_bytes": PEAK_TARGET_BYTES, "growth": GROWTH_TARGET}}
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"conveyor-scale-{size:g}x-", dir=args.work_dir))
        try:
            print(f"{size:g}x: preparing data in {folder}", file=sys.stderr, flush=True)
            data = inputs.build(size, folder / "data")
            figures["conveyor"].append(conveyor_at(size, folder, data, args))
            _keep(figures, args.json)
            if args.stock_at == size:
                figures["stock"] = stock_at(size, folder, data, args)
                _keep(figures, args.json)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    machine["load_after"] = environment.load_average()
    _keep(figures, args.json)
    print(environment.render_header(command, started, machine, args))
    print()
    print(scale_report.render(figures))
    if args.svg:
        args.svg.write_text(scale_report.svg(figures), encoding="utf-8")
    return 0 if all(r["returncode"] == 0 for r in figures["conveyor"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
