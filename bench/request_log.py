"""What `RequestLog.record` costs a request, and how fast its writer thread drains.

    .venv/bin/python bench/request_log.py [--calls 20000] [--threads 1 8]

For each sample rate and thread count: the time of each single-row `record` call as the
request threads see it (p50, p99, mean, in microseconds), then the rows per second the
background writer encodes and writes (from the first call until `flush` returns). The
rows are the bundled serving sample's (as a JSON client sends them), cycled, with the
config's schema and [privacy] rules.
Prints a Markdown table; figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pipeline import config as config_lib  # noqa: E402
from pipeline.drift import samples  # noqa: E402
from pipeline.serving.request_encoding import RowEncoder  # noqa: E402
from pipeline.serving.request_log import BYTES_PER_MB, RequestLog  # noqa: E402


def measure(config: config_lib.Config, rows: list[dict], rate: float, threads: int,
            calls: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-request-log-") as folder:
        log = RequestLog(folder, RowEncoder.from_config(config), rate,
                         int(config.serving.log_rotate_mb * BYTES_PER_MB),
                         config.serving.log_rotate_seconds, seed=1)
        times: list[list[float]] = [[] for _ in range(threads)]

        def send(index: int) -> None:
            for call in range(index, calls, threads):
                row = [rows[call % len(rows)]]
                started = time.perf_counter()
                log.record(row)
                times[index].append(time.perf_counter() - started)

        started = time.perf_counter()
        workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        log.flush()
        drained = time.perf_counter() - started
        log.close()
    each = sorted(t for part in times for t in part)
    return {"p50": each[len(each) // 2] * 1e6, "p99": each[int(len(each) * 0.99)] * 1e6,
            "mean": statistics.fmean(each) * 1e6, "rows_per_s": calls * rate / drained,
            "dropped": log.dropped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    args = parser.parse_args()
    config = config_lib.load(args.config)
    rows = samples.request_rows()
    print("| sample rate | threads | calls | record p50 µs | record p99 µs | record mean µs "
          "| logged rows/s (until flushed) | dropped |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for rate in (1.0, 0.1):
        for threads in args.threads:
            m = measure(config, rows, rate, threads, args.calls)
            print(f"| {rate:g} | {threads} | {args.calls} | {m['p50']:.1f} | {m['p99']:.1f} "
                  f"| {m['mean']:.1f} | {m['rows_per_s']:,.0f} | {m['dropped']} |")


if __name__ == "__main__":
    main()
