"""Time windows of the request log: durations (`30m`, `2h`, `1d`, `1h30m`), `--until`, and
which closed log files belong to a window.

A file belongs to the window that holds its last record, so consecutive windows never
share a file: a window can start with up to `[serving] log_rotate_seconds` of records
from just before it, and the open file (not readable until it is closed) is never in one.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from pipeline.errors import DataError
from pipeline.serving.log_files import LogFile

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
DURATION_HINT = "a duration such as 30m, 2h, 1d or 1h30m"


def parse_duration(text: str, option: str = "--since") -> float:
    """Seconds of a duration; a DataError naming the option for anything else."""
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        raise DataError(f"{option} {text!r}: not {DURATION_HINT}")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(compact))
    if seconds <= 0:
        raise DataError(f"{option} {text!r}: the duration must be longer than zero")
    return seconds


def parse_until(text: Optional[str], now: float) -> float:
    """`--until`: a duration ago (`2h`), an ISO 8601 time (UTC unless it says otherwise),
    or now."""
    if text is None:
        return now
    if _DURATION.fullmatch(text.strip().lower()):
        return now - parse_duration(text, "--until")
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"--until {text!r}: not {DURATION_HINT} (ago) or an ISO 8601 time "
                        f"such as 2026-12-02T17:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Window:
    """[start, end) in epoch seconds."""

    start: float
    end: float

    def previous(self) -> "Window":
        """The window of the same length just before this one."""
        return Window(self.start - (self.end - self.start), self.start)

    def select(self, files: Iterable[LogFile]) -> list[LogFile]:
        return [f for f in files if self.start <= f.last < self.end]

    def describe(self) -> str:
        return f"{iso(self.start)} to {iso(self.end)}"

    def to_dict(self) -> dict:
        return {"since": iso(self.start), "until": iso(self.end)}
