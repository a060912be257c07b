"""The one line of an error a user reads, shared by components and the commands."""

from __future__ import annotations

import re


def first_line(error: BaseException) -> str:
    """The message a user needs, without Beam's "[while running 'step']" suffix.

    Beam's multi-threaded DirectRunner (a `[beam] direct_running_mode` a user may choose)
    re-raises a worker's error as the text of the worker's traceback: the message is then
    its last line, after the exception's type.
    """
    text = str(error).strip() or type(error).__name__
    lines = text.splitlines()
    line = lines[0]
    if line.startswith("Traceback (most recent call last):"):
        line = re.sub(r"^[\w.]+: ", "", lines[-1].strip(), count=1)
    return re.sub(r" \[while running '[^']*'\]$", "", line)
