"""Keeping a run's terminal to progress lines and the summary.

TensorFlow Lite's converter, its XNNPACK delegate and absl's C++ logging write straight
to file descriptor 2, past Python's logging and TF_CPP_MIN_LOG_LEVEL. Without --verbose
the run sends descriptor 2 to a log file in the workspace (kept, for when something
goes wrong) while Python's sys.stderr, which the progress lines use, stays on the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator, Optional

RUN_LOG = Path("logs") / "native-stderr.log"  # inside the workspace


@contextlib.contextmanager
def native_stderr_to(log_path: Optional[Path]) -> Iterator[None]:
    """Sends descriptor 2 to `log_path` (None: leaves it alone) for the block."""
    if log_path is None:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8")
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 2)
    previous, sys.stderr = sys.stderr, terminal
    try:
        yield
    finally:
        terminal.flush()
        sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)
        terminal.close()
