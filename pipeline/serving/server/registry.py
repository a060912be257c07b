"""The served version and its hot swap.

A background thread lists the serving folder every `poll_seconds`. A version newer than
the served one is loaded completely and answers one warm-up prediction before it replaces
the served one, in a single assignment: a request holds the `Served` it started with, so
in-flight requests finish on the old version, which is freed once the last one is done.
Only complete versions count (components/versioned_pusher/versions.py: staging folders are
not numbered, remote versions need their push record). A version that fails to load is
logged once and skipped; the served one stays.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from components.versioned_pusher.versions import versions
from pipeline.errors import InputError
from pipeline.serving.server import backends

log = logging.getLogger("conveyor.serve")


@dataclass(frozen=True)
class Served:
    version: int
    backend: Any  # a backends.*Backend
    output_width: int  # columns of the prediction, read from the warm-up


class NoVersion(InputError):
    """Nothing loadable to serve (exit 2)."""


class Registry:
    def __init__(self, serving_dir: str, load: Callable[[str], Any], poll_seconds: float):
        self.serving_dir = serving_dir
        self._load = load
        self._poll_seconds = poll_seconds
        self.served: Optional[Served] = None
        self.failed: dict[int, str] = {}  # version -> why it did not load
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def load_initial(self) -> Served:
        """The newest version that loads; older ones are tried when the newest fails."""
        found = versions(self.serving_dir)
        if not found:
            raise NoVersion(f"{self.serving_dir}: no pushed version to serve (run the "
                            "pipeline first)")
        for version in reversed(found):
            if self._try(version):
                return self.served
        raise NoVersion(f"{self.serving_dir}: no version loads; version {found[-1]}: "
                        f"{self.failed[found[-1]]}")

    def poll_once(self) -> None:
        found = versions(self.serving_dir)
        newest = found[-1] if found else None
        current = self.served.version if self.served else None
        if newest is not None and (current is None or newest > current) \
                and newest not in self.failed:
            self._try(newest)

    def _try(self, version: int) -> bool:
        path = os.path.join(self.serving_dir, str(version))
        try:
            backend = self._load(path)
            warm = backend.predict([backends.warm_up_row(backend.inputs)])
            served = Served(version, backend, int(warm.shape[-1]))
        except Exception as error:  # noqa: BLE001  (any broken version: keep serving)
            self.failed[version] = f"{type(error).__name__}: {str(error).strip()[:500]}"
            log.error("version %s failed to load, still serving %s: %s", version,
                      self.served.version if self.served else "nothing", self.failed[version])
            return False
        previous = self.served
        gc.freeze()  # the new version's objects too (app.freeze_heap says why)
        self.served = served  # the swap: one reference assignment
        log.info("serving version %s%s", version,
                 f" (was {previous.version})" if previous else "")
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="version-poller",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            try:
                self.poll_once()
            except Exception as error:  # noqa: BLE001  (a listing error: try again next poll)
                log.error("cannot list %s: %s", self.serving_dir, error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
