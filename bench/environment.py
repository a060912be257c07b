"""What a benchmark figure needs beside it: command, date, machine, versions, load.

The load average before and after is recorded because on a shared machine it is the
first thing that explains a surprising figure.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("tfx", "tensorflow", "apache-beam", "tensorflow-transform",
            "tensorflow-model-analysis", "ml-metadata", "tfx-bsl", "pyarrow")
RESULTS_START = "<!-- bench:results:start -->"
RESULTS_END = "<!-- bench:results:end -->"


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def describe() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return {"cores": os.cpu_count(), "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": psutil.virtual_memory().total / 2**30, "cpu": cpu_model(),
            "os": platform.platform(), "versions": versions, "load_before": load_average()}


def render_header(command: str, started: datetime.datetime, machine: dict, args) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    return "\n".join([
        f"command: {command}",
        f"date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {machine['cores']} logical cores ({machine['physical_cores']} physical), "
        f"{machine['memory_gib']:.1f} GiB memory, {machine['cpu']}, {machine['os']}",
        f"load average (1/5/15 min) before: {machine['load_before']}; after: "
        f"{machine.get('load_after', 'n/a')}",
        f"versions: {versions}",
        f"training: {args.train_steps} train steps, {args.eval_steps} eval steps in both "
        f"pipelines (stock batch 40 as its module hard-codes; Conveyor batch_size from "
        f"configs/taxi.toml)",
    ])


def write_results(path: Path, header: str, tables: str) -> None:
    """Replaces the results between the markers (appends them when the file has none)."""
    block = "\n".join([RESULTS_START, "", "```", header, "```", "", tables, "", RESULTS_END])
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if RESULTS_START in text and RESULTS_END in text:
        before, rest = text.split(RESULTS_START, 1)
        after = rest.split(RESULTS_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
