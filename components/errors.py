"""The one line of an error a user reads, and the base class of every error a user's
file or config causes, shared by components and the commands."""

from __future__ import annotations

import re


class InputError(Exception):
    """Something the user's config, data or workspace causes, which they can fix.

    The commands exit 2 on these with the message alone; every other exception is a bug
    or an outage (exit 3). Components raise subclasses too (a rejected CSV file), so the
    base lives here: components/ must not import pipeline/.
    """


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
