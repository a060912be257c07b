"""The request log's files: their names and the rotating gzipped TFRecord file being written.

A closed file is `requests-<first>-<last>-<pid>-<seq>.tfrecord.gz`, with the UTC times of
its first and last record (and a zero-padded sequence number), so names sort by time
and `monitor` picks a window's files by name alone (no stat, which a bucket makes slow). While it is written a file is named
`_open-requests-<first>-<pid>-<seq>.partial`: the leading `_` is what `skew`'s folder
reader skips, and the suffix keeps it out of a `*.tfrecord.gz` glob (Beam's glob matches
`_` names). It is renamed once closed, so a reader never sees a half-written file; a
crash leaves at most the open file behind.
"""

from __future__ import annotations

import datetime
import itertools
import os
import re
from dataclasses import dataclass
from typing import Optional

PREFIX = "requests-"
SUFFIX = ".tfrecord.gz"
OPEN_PREFIX = "_open-"
OPEN_SUFFIX = ".partial"
_STAMP = "%Y%m%dT%H%M%S"
_CLOSED = re.compile(r"requests-(\d{8}T\d{6}\.\d{6}Z)-(\d{8}T\d{6}\.\d{6}Z)-(\d+)-(\d+)"
                     + re.escape(SUFFIX))
# Unique per process even with several logs open in it (tests, a reloaded server).
_SEQUENCE = itertools.count(1)


def stamp(seconds: float) -> str:
    """A UTC time as a fixed-width, sortable name part (microseconds, `Z`)."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime(_STAMP) + f".{moment.microsecond:06d}Z"


def parse_stamp(text: str) -> float:
    moment = datetime.datetime.strptime(text[:-1], _STAMP + ".%f")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


@dataclass(frozen=True)
class LogFile:
    """A closed log file and the times of its first and last record (epoch seconds)."""

    path: str
    first: float
    last: float


def closed_file(directory: str, name: str) -> Optional[LogFile]:
    """The LogFile of a closed file's name; None for any other name (open files too)."""
    match = _CLOSED.fullmatch(name)
    if not match:
        return None
    return LogFile(os.path.join(directory, name), parse_stamp(match.group(1)),
                   parse_stamp(match.group(2)))


def list_closed(directory: str) -> list[LogFile]:
    """Every closed log file of `directory` (a local path or a bucket URI), oldest first."""
    from tensorflow.io import gfile

    if not gfile.isdir(directory):
        return []
    files = (closed_file(directory, name.rstrip("/")) for name in gfile.listdir(directory))
    return sorted((f for f in files if f is not None), key=lambda f: (f.first, f.path))


class RotatingFile:
    """The open log file: records are appended to it until `close` renames it into place.

    Created on the first record, so an idle log writes no empty files. Not thread-safe:
    RequestLog's one writer thread owns it.
    """

    def __init__(self, directory: str, first: float):
        import tensorflow as tf

        self._directory = directory
        self.first = first
        self.last = first
        self._name = f"{stamp(first)}-{os.getpid()}-{next(_SEQUENCE):06d}"
        self.open_path = os.path.join(directory, f"{OPEN_PREFIX}{PREFIX}{self._name}{OPEN_SUFFIX}")
        self.bytes = 0
        self.records = 0
        self._writer = tf.io.TFRecordWriter(self.open_path, options="GZIP")

    def write(self, record: bytes, now: float) -> None:
        self._writer.write(record)
        self.bytes += len(record)
        self.records += 1
        self.last = now

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> str:
        """Closes and renames the file; returns its final path."""
        from tensorflow.io import gfile

        self._writer.close()
        pid_seq = self._name.split("-", 1)[1]
        final = os.path.join(self._directory,
                             f"{PREFIX}{stamp(self.first)}-{stamp(self.last)}-{pid_seq}{SUFFIX}")
        gfile.rename(self.open_path, final, overwrite=False)
        return final


class Rotation:
    """Appends records to the open file, closing it at `rotate_bytes` of records (before
    compression) or `rotate_seconds` after its first record, and flushing it every
    `flush_seconds`. Times come from `clock` (epoch seconds), so tests can move it."""

    def __init__(self, directory: str, rotate_bytes: int, rotate_seconds: float,
                 flush_seconds: float, clock):
        self._directory = directory
        self._rotate_bytes = rotate_bytes
        self._rotate_seconds = rotate_seconds
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._current: Optional[RotatingFile] = None
        self._flushed_at = 0.0
        self.closed: list[str] = []

    def write(self, records: list[bytes]) -> None:
        now = self._clock()
        self._close_if_old(now)
        for record in records:
            if self._current is None:
                self._current = RotatingFile(self._directory, now)
                self._flushed_at = now
            self._current.write(record, now)
            if self._current.bytes >= self._rotate_bytes:
                self.close()

    def tick(self, force_flush: bool = False) -> None:
        """Closes an old file and flushes the open one when due (or when forced)."""
        now = self._clock()
        self._close_if_old(now)
        if self._current and (force_flush or now - self._flushed_at >= self._flush_seconds):
            self._current.flush()
            self._flushed_at = now

    def close(self) -> None:
        if self._current is not None:
            current, self._current = self._current, None
            self.closed.append(current.close())

    def _close_if_old(self, now: float) -> None:
        if self._current is not None and now - self._current.first >= self._rotate_seconds:
            self.close()
