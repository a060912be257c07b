"""Wall time and peak memory of one command, child processes included.

Beam's multi_processing mode runs its workers as child processes, so the peak is the
largest sum of resident memory over the whole process tree, sampled every 0.2 s (a peak
shorter than that can be missed; the figure is a lower bound). The command's own peak, as
the kernel counted it (`wait4`'s ru_maxrss), is the floor: a process that lives less than
a sampling interval would otherwise be measured as it started.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    log: Path


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


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
                peak = max(peak, tree_rss(watched))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode, own_peak = _wait(child, watched, timeout)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    return Measured(returncode, wall, max(peak, own_peak), log)


def _wait(child: subprocess.Popen, watched: psutil.Process,
          timeout: float | None) -> tuple[int, int]:
    """(exit code, the child's peak resident bytes); the tree is killed after `timeout`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    flags = os.WNOHANG
    while True:
        pid, status, usage = os.wait4(child.pid, flags)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode, usage.ru_maxrss * 1024  # Linux counts KiB
        if deadline is not None and time.monotonic() > deadline:
            for member in [*watched.children(recursive=True), watched]:
                member.kill()
            flags = 0
        else:
            time.sleep(0.01)
