"""Start-up of the read-only commands: time to the first line of output and to the end.

    .venv/bin/python bench/startup.py [--repeat 5] [--workspace workspace]

Needs a workspace `make run` made (lineage and skew read its metadata and its pushed
model). Each command runs in a fresh process, with PYTHONUNBUFFERED=1 so its first line
reaches the pipe when it is written; the first output is that line's arrival, the
complete time the process's exit. The table gives the best of --repeat runs (the figure
least inflated by other load) and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import environment  # noqa: E402  (after the path the script runs from)

COMMANDS = (
    ("--help", ["--help"]),
    ("lineage runs", ["lineage", "runs", "--workspace", "{workspace}"]),
    ("lineage model --latest", ["lineage", "model", "--latest", "--workspace", "{workspace}"]),
    ("drift --baseline 2 --current 3", ["drift", "--baseline", "2", "--current", "3"]),
    ("skew --serving data/taxi_serving/",
     ["skew", "--serving", "data/taxi_serving/", "--workspace", "{workspace}"]),
)


def time_command(argv: list[str]) -> tuple[float, float]:
    """(seconds to the first line on stdout, seconds to exit) of one fresh process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_USE_LEGACY_KERAS": "1"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *argv], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first_line = process.stdout.readline()
    first = time.perf_counter() - started
    process.stdout.read()
    status = process.wait()
    complete = time.perf_counter() - started
    if not first_line or status not in (0, 1):
        raise SystemExit(f"python -m pipeline {' '.join(argv)} exited {status} "
                         f"(is there a workspace? run `make run` first)")
    return first, complete


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workspace", type=Path, default=ROOT / "workspace")
    args = parser.parse_args()
    print(f"load average before: {environment.load_average()}")
    rows = []
    for name, template in COMMANDS:
        argv = [part.format(workspace=args.workspace) for part in template]
        runs = [time_command(argv) for _ in range(args.repeat)]
        firsts, completes = [r[0] for r in runs], [r[1] for r in runs]
        rows.append((name, min(firsts), min(completes), statistics.median(firsts),
                     statistics.median(completes)))
    print(f"load average after: {environment.load_average()}")
    print(f"\n| command | first output s (best of {args.repeat}) | complete s (best) "
          f"| first output s (median) | complete s (median) |")
    print("| --- | --- | --- | --- | --- |")
    for name, *figures in rows:
        print(f"| `{name}` | " + " | ".join(f"{f:.2f}" for f in figures) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
