"""Conveyor against the stock TFX Chicago taxi example, on the same rows and training steps.

    .venv/bin/python bench/run.py --sizes 1 10 100 [--train-steps N] [--output docs/BENCHMARKS.md]

For each size (× the 15,002 rows of the sample in the tfx wheel) both pipelines run in a
fresh interpreter, twice: once from an empty workspace (wall time, peak memory of the
process tree, per-component time from ML Metadata, ingestion rows/s) and once more
unchanged (the fully cached re-run). Conveyor answers that one from ML Metadata without
running the pipeline, so it runs a third time with `--rerun`, through TFX's cache like the
stock re-run. Then Conveyor's pushed SavedModel and int8 TFLite (and the stock SavedModel)
are measured: size, per-example latency at batch 1 and 256,
accuracy and AUC on the eval split. The tables go to stdout and, with --output, into
docs/BENCHMARKS.md between its results markers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the model measurements load TF here
if str(REPO) not in sys.path:  # run as a script: `python bench/run.py`
    sys.path.insert(0, str(REPO))

from bench import environment, inputs, process_probe, report  # noqa: E402

STOCK_TRAIN_STEPS, STOCK_EVAL_STEPS = 1000, 150  # what the stock example hard-codes
CONVEYOR_NAME = "taxi"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.0],
                        help="multiples of the bundled rows, e.g. 0.1 1 10 100")
    parser.add_argument("--train-steps", type=int, default=STOCK_TRAIN_STEPS,
                        help="Trainer steps for both pipelines (default: the stock 1000)")
    parser.add_argument("--eval-steps", type=int, default=STOCK_EVAL_STEPS,
                        help="Trainer eval steps for both pipelines (default: the stock 150)")
    parser.add_argument("--output", type=Path, help="write the results into this Markdown file")
    parser.add_argument("--work-dir", type=Path, help="where the temporary folders go "
                        "(default: the system temp folder); each size's folder is removed "
                        "after it unless --keep")
    parser.add_argument("--keep", action="store_true", help="keep data, workspaces and logs")
    parser.add_argument("--timeout", type=float, help="seconds allowed for each pipeline run")
    args = parser.parse_args(argv)
    if any(size <= 0 for size in args.sizes):
        parser.error("--sizes: every size must be positive")
    if args.train_steps <= 0 or args.eval_steps <= 0:
        parser.error("--train-steps and --eval-steps must be positive")
    return args


def child_env() -> dict:
    """Both pipelines on Keras 2 (tf_keras), as TFX 1.16 needs, with TF's C++ logs off."""
    env = dict(os.environ)
    env.update(TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def conveyor_config(path: Path, data_root: Path, train_steps: int, eval_steps: int) -> Path:
    """configs/taxi.toml as shipped, pointed at the benchmark's data and steps."""
    text = (REPO / "configs" / "taxi.toml").read_text(encoding="utf-8")
    replacements = {
        'data_root = "../data/taxi"': f'data_root = "{data_root}"',
        'schema = "../schema/taxi/schema.pbtxt"':
            f'schema = "{REPO / "schema" / "taxi" / "schema.pbtxt"}"',
    }
    settings = {"train_steps = ": f"train_steps = {train_steps}",
                "eval_steps = ": f"eval_steps = {eval_steps}"}
    lines, applied = [], set()
    for line in text.splitlines():
        if line.strip() in replacements:
            applied.add(line.strip())
            line = replacements[line.strip()]
        for prefix, setting in settings.items():
            if line.startswith(prefix):
                applied.add(prefix)
                line = setting
        lines.append(line)
    missing = (set(replacements) | set(settings)) - applied
    if missing:  # benchmarking the bundled data or the wrong steps would go unnoticed
        raise SystemExit(f"configs/taxi.toml: no line {sorted(missing)[0]!r} to point at the "
                         f"benchmark's data and steps; update bench/run.py")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_twice(name: str, command: list[str], logs: Path, args, metadata: Path,
              pipeline_name: str, through_cache: Optional[str] = None) -> report.PipelineRun:
    """The first run, then the unchanged re-run; with `through_cache` (the flag that makes
    the pipeline go through TFX although nothing changed), that re-run once more, whose
    ML Metadata then says what was cached."""
    from bench import component_times

    print(f"  {name}: first run ...", file=sys.stderr, flush=True)
    first = process_probe.run(command, logs / f"{name}-first.log", REPO, child_env(),
                              args.timeout)
    times = component_times.latest_run_times_at(metadata, pipeline_name)
    print(f"  {name}: {first.wall_seconds:.1f} s (exit {first.returncode}); cached re-run ...",
          file=sys.stderr, flush=True)
    cached = process_probe.run(command, logs / f"{name}-cached.log", REPO, child_env(),
                               args.timeout)
    result = report.PipelineRun(name, first.returncode, first.wall_seconds,
                                first.peak_rss_bytes, times, cached.returncode,
                                cached.wall_seconds, str(first.log))
    if through_cache:
        print(f"  {name}: {cached.wall_seconds:.1f} s; re-run through TFX's cache ...",
              file=sys.stderr, flush=True)
        again = process_probe.run(command + [through_cache], logs / f"{name}-through-cache.log",
                                  REPO, child_env(), args.timeout)
        result.through_cache_seconds = again.wall_seconds
        if result.cached_returncode in (0, 1):  # the first failure is the one to report
            result.cached_returncode = again.returncode
    result.cached_components = component_times.latest_run_times_at(metadata, pipeline_name)
    return result


def bench_size(size: float, folder: Path, args) -> report.SizeResult:
    from bench import model_selection

    print(f"{report.size_label(size)}: preparing data in {folder}", file=sys.stderr, flush=True)
    data = inputs.build(size, folder / "data")
    logs = folder / "logs"
    stock_work = folder / "stock"
    from bench.stock_pipeline import PIPELINE_NAME, paths as stock_paths

    stock = run_twice("stock", [sys.executable, "-m", "bench.stock_pipeline",
                                "--data", str(data.stock_root), "--work", str(stock_work),
                                "--train-steps", str(args.train_steps),
                                "--eval-steps", str(args.eval_steps)],
                      logs, args, stock_paths(stock_work)["metadata_path"], PIPELINE_NAME)
    workspace = folder / "conveyor"
    config = conveyor_config(folder / "conveyor.toml", data.conveyor_root, args.train_steps,
                             args.eval_steps)
    conveyor = run_twice("Conveyor", [sys.executable, "-m", "pipeline", "run", "--config",
                                      str(config), "--workspace", str(workspace)],
                         logs, args, workspace / "metadata.sqlite", CONVEYOR_NAME,
                         through_cache="--rerun")
    result = report.SizeResult(size, data.rows, data.shards, stock, conveyor)
    print("  measuring models ...", file=sys.stderr, flush=True)
    model_selection.measure(result, stock_work, workspace, folder / "models")
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    import warnings

    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    warnings.filterwarnings("ignore")
    command = "python bench/run.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc)
    machine = environment.describe()
    results = []
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"conveyor-bench-{size:g}x-", dir=args.work_dir))
        try:
            results.append(bench_size(size, folder, args))
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                print(f"  kept {folder}", file=sys.stderr)
    machine["load_after"] = environment.load_average()
    header = environment.render_header(command, started, machine, args)
    print(header)
    print()
    print(report.render_text(results))
    if args.output:
        environment.write_results(args.output, header, report.render_markdown(results))
        print(f"\nwrote {args.output}", file=sys.stderr)
    failed = [r for res in results for r in (res.stock, res.conveyor)
              if r.returncode not in (0, 1) or r.cached_returncode not in (0, 1)]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
