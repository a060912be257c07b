"""`serve`'s request log: a sample of the requests' rows, for `skew --serving` and `monitor`.

The server calls `record(rows)` from its request threads with the rows it decoded. That
call only draws the sample and appends the kept rows to a bounded queue; one background
thread encodes them (request_encoding.py: as ingestion writes rows) and appends them to
rotating gzipped TFRecord files under `Config.request_log_dir` (log_files.py). A request
therefore never waits for Arrow, gzip or the disk; when the writer falls behind by more
than `MAX_PENDING` batches, rows are dropped and counted rather than slowing requests.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from typing import Any, Callable, Mapping, Optional, Sequence

from pipeline import config as config_lib
from pipeline.serving import log_files
from pipeline.serving.request_encoding import RowEncoder

# A crash loses the open file; flushing bounds what even a reader of that file would miss.
FLUSH_SECONDS = 1.0
# How often the idle writer wakes up to close a file that is old enough.
TICK_SECONDS = 0.5
MAX_PENDING = 10_000
# The writer encodes up to this many waiting rows in one Arrow batch: encoding costs about
# the same for one row as for hundreds.
WRITE_ROWS = 4096
BYTES_PER_MB = 1024 * 1024
_STOP = object()
_log = logging.getLogger(__name__)


def open_request_log(config: config_lib.Config, *, seed: Optional[int] = None,
                     clock: Callable[[], float] = time.time) -> Optional["RequestLog"]:
    """The request log `[serving]` asks for, or None when log_sample_rate is 0."""
    serving = config.serving
    if serving.log_sample_rate <= 0:
        return None
    return RequestLog(str(config.request_log_dir), RowEncoder.from_config(config),
                      serving.log_sample_rate, int(serving.log_rotate_mb * BYTES_PER_MB),
                      serving.log_rotate_seconds, seed=seed, clock=clock)


class RequestLog:
    """Thread-safe: `record` may be called from any number of threads."""

    def __init__(self, directory: str, encoder: RowEncoder, sample_rate: float,
                 rotate_bytes: int, rotate_seconds: float, *, seed: Optional[int] = None,
                 clock: Callable[[], float] = time.time, flush_seconds: float = FLUSH_SECONDS):
        from tensorflow.io import gfile

        gfile.makedirs(directory)
        self.directory = directory
        self.dropped = 0  # rows lost to a full queue or a failed write
        self._encoder = encoder
        self._rate = sample_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=MAX_PENDING)
        self._rotation = log_files.Rotation(directory, rotate_bytes, rotate_seconds,
                                            flush_seconds, clock)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()

    @property
    def closed_files(self) -> list[str]:
        """The files this log has closed so far, oldest first."""
        return list(self._rotation.closed)

    def record(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Samples `rows` (raw feature dicts) for the log; returns at once."""
        if self._closed:
            return
        kept = [dict(row) for row in self._sample(rows)]
        if kept:
            try:
                self._queue.put_nowait(kept)
            except queue.Full:
                self._count_dropped(len(kept))

    def flush(self) -> None:
        """Waits until every row recorded so far is written and flushed (and a file that is
        old enough closed)."""
        if self._closed:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait()

    def close(self) -> None:
        """Writes what is queued and closes the open file; later records are ignored."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _sample(self, rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
        if self._rate >= 1.0:
            return rows
        with self._lock:
            draws = [self._rng.random() for _ in rows]
        return [row for row, draw in zip(rows, draws) if draw < self._rate]

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=TICK_SECONDS)
            except queue.Empty:
                item = None
            rows: list = []
            while isinstance(item, list):  # every batch waiting, encoded as one
                rows += item
                item = self._next_waiting() if len(rows) < WRITE_ROWS else None
            if rows and not self._guarded(
                    lambda: self._rotation.write(self._encoder.encode(rows))):
                self._count_dropped(len(rows))
            if item is _STOP:
                self._guarded(self._rotation.close)
                return
            if isinstance(item, threading.Event):
                self._guarded(lambda: self._rotation.tick(force_flush=True))
                item.set()
            self._guarded(self._rotation.tick)

    def _next_waiting(self):
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def _count_dropped(self, rows: int) -> None:
        with self._lock:
            self.dropped += rows

    def _guarded(self, action: Callable[[], None]) -> bool:
        """A failing disk or bucket must not stop the server: logged, and the rows dropped."""
        try:
            action()
            return True
        except Exception as error:  # noqa: BLE001  (any failure of the log's own I/O)
            _log.warning("request log %s: %s: %s", self.directory, type(error).__name__, error)
            return False
