"""One run at a time per workspace: SQLite metadata and the serving folder are shared.

An flock on a file in the workspace is released by the kernel when the process dies,
even by SIGKILL, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import InputError

LOCK_FILE = ".conveyor.lock"


class AlreadyRunning(InputError, RuntimeError):
    """Another run holds the workspace; the message names its holder."""


@contextmanager
def exclusive(workspace: Path):
    workspace.mkdir(parents=True, exist_ok=True)
    path = workspace / LOCK_FILE
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise AlreadyRunning(f"{workspace}: a run is already in progress ({holder}); "
                                 f"wait for it to finish or use another --workspace") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
