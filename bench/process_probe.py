"""Wall time and peak memory of one command, child processes included.

Beam's multi_processing mode runs its workers as child processes, so the peak is the
largest sum of resident memory over the whole process tree, sampled every 0.2 s (a peak
shorter than that can be missed; the figure is a lower bound). The command's own high-water
mark (VmHWM, which the kernel resets at exec) is sampled too, every 10 ms for the first
seconds: a process that lives less than one interval would otherwise be measured as it
started. (wait4's ru_maxrss cannot serve: it keeps the forking parent's size.)
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2
FAST_SAMPLE_SECONDS, FAST_FOR_SECONDS = 0.01, 2.0


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    log: Path


def tree_rss(process: psutil.Process) -> int:
    """The resident bytes of the process and its descendants. A descendant that exits
    while psutil walks the tree makes `children` raise: this sample then counts the
    process alone, rather than the sampling thread dying and every later peak going
    unseen."""
    try:
        members = [process, *process.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        members = [process]
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def high_water(pid: int) -> int:
    """The process's peak resident bytes since its exec (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run(command: list[str], log: Path, cwd: Path, env: dict | None = None,
        timeout: float | None = None) -> Measured:
    """Runs `command` with stdout and stderr to `log`; never raises on a failing command."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    with open(log, "wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(child.pid)
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(watched), high_water(child.pid))
                fast = time.perf_counter() - started < FAST_FOR_SECONDS
                done.wait(FAST_SAMPLE_SECONDS if fast else SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            returncode = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for member in [*watched.children(recursive=True), watched]:
                member.kill()
            returncode = child.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    return Measured(returncode, wall, peak, log)
