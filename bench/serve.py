"""`serve` under HTTP load (wrk), beside the same backend called in-process.

    .venv/bin/python bench/serve.py [--config C --workspace W] [--seconds 10] [--workers 1,2]

Without --config/--workspace a small taxi model is trained and pushed first (in a
temporary folder, as the tests do). For each backend the server runs on 127.0.0.1 and wrk
posts one single-row predict (a row of data/taxi_serving/) at 1, 8 and 64 connections for
--seconds each; the in-process rate is the backend's own predict on that decoded row, no
HTTP, one row a call. Prints a markdown table: requests/s, p50, p99, errors (non-2xx and
socket errors), and the HTTP rate as a share of the in-process one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.serve_harness import Server, sample_rows  # noqa: E402

CONNECTIONS = (1, 8, 64)
IN_PROCESS_SECONDS = 5.0
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
"""


def push_small_model(root: Path) -> tuple[Path, Path]:
    from tests.conftest import run_cli, slice_spans, taxi_config

    data = slice_spans(root / "data", 1000, spans=(1, 2))
    config = taxi_config(root / "taxi.toml", data, train_steps=100, eval_steps=5,
                         max_examples=1000)
    workspace = root / "workspace"
    done = run_cli("run", "--config", str(config), "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr[-3000:]
    return config, workspace


def in_process_rate(backend: str, version_dir: Path, label: str, row: dict) -> float:
    """Single-row predicts per second of the backend itself, after a warm-up."""
    from pipeline.serving.server import backends

    model = backends.load(backend, str(version_dir), label)
    for _ in range(50):
        model.predict([row])
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < IN_PROCESS_SECONDS:
        model.predict([row])
        calls += 1
    return calls / (time.perf_counter() - started)


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                           "--timeout", "10s", "-s", str(script), url],
                          capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def parse_wrk(text: str) -> dict:
    """requests/s, p50 and p99 in ms, and errors from wrk's --latency report."""
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

    def millis(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
        return float(value) * units[unit]

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    return {"rate": rate, "p50": millis("50%"), "p99": millis("99%"), "errors": errors}


def logging_state(config: Path) -> str:
    from pipeline import config as config_lib

    rate = config_lib.load(config).serving.log_sample_rate
    return f"request logging on (log_sample_rate {rate})" if rate > 0 else "request logging off"


def bench_backend(backend: str, config: Path, workspace: Path, folder: Path,
                  seconds: int, workers: int) -> list[dict]:
    server = Server(config, workspace, folder / f"{backend}-{workers}.log", "--backend",
                    backend, "--workers", str(workers))
    try:
        server.ready()
        _, metadata = server.call("GET", "/v1/models/taxi/metadata")
        row = sample_rows(metadata, 1)[0]
        script = folder / f"{backend}.lua"
        script.write_text(LUA.format(body=json.dumps(json.dumps({"instances": [row]}))))
        url = f"http://127.0.0.1:{server.port}/v1/models/taxi:predict"
        results = [{"connections": c, "workers": workers, **run_wrk(url, script, c, seconds)}
                   for c in CONNECTIONS]
        version = metadata["model_spec"]["version"]
    finally:
        server.stop()
    from pipeline import config as config_lib
    from pipeline.serving.server.backends import raw_inputs
    from pipeline.serving.server.decoding import decode

    loaded = config_lib.load(config).with_overrides(workspace=workspace)
    version_dir, label = loaded.serving_dir / version, loaded.features.label.name
    inputs = raw_inputs(str(version_dir), label)
    decoded = decode(json.dumps({"instances": [row]}).encode(), inputs).rows[0]
    rate = in_process_rate(backend, version_dir, label, decoded)
    return [{**r, "backend": backend, "in_process": rate} for r in results]


def table(rows: list[dict], seconds: int, config: Path) -> str:
    lines = [f"{logging_state(config)}; {seconds} s per load level, wrk -t1", "",
             "| backend | workers | connections | requests/s | p50 ms | p99 ms | errors | "
             "in-process rows/s | HTTP / in-process |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['workers']} | {r['connections']} | "
                     f"{r['rate']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | "
                     f"{r['in_process']:.0f} | {100 * r['rate'] / r['in_process']:.0f}% |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", default="1", help="comma-separated, e.g. 1,2")
    parser.add_argument("--backends", default="savedmodel,tflite")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (scripts/system_deps.sh installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        folder = Path(tmp)
        config, workspace = ((args.config, args.workspace) if args.config
                             else push_small_model(folder))
        rows, load_before = [], os.getloadavg()[0]
        for backend in args.backends.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                rows += bench_backend(backend, config, workspace, folder, args.seconds, workers)
        print(table(rows, args.seconds, config))
        print(f"\nload average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
