"""Concurrent predict requests of one worker, run as one model call.

One task takes the requests queued on the event loop and runs them together in the
model thread, while the loop goes on reading and decoding the next ones: under load a
call holds every request that arrived during the previous call, at one request it is
that request alone (no timer, so no added wait). A model call costs much the same for one
row as for dozens, so this is what keeps p99 latency flat at 64 connections. One thread
runs every call, in turn: the TFLite interpreter is not thread-safe.

A batch holds requests of one served version only (a hot swap mid-queue splits it). If a
batch's call fails, each request is run alone so that only the bad one fails.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field

import numpy as np

MAX_BATCH_ROWS = 512  # rows per model call; the rest wait for the next call


@dataclass
class _Pending:
    served: object  # a registry.Served
    rows: list
    future: asyncio.Future = field(default=None)


class Batcher:
    def __init__(self):
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="model")

    async def predict(self, served, rows: list) -> np.ndarray:
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._run())
        pending = _Pending(served, rows, loop.create_future())
        self._queue.put_nowait(pending)
        return await pending.future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].rows)
            while not self._queue.empty() and size < MAX_BATCH_ROWS:
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].rows)
            for group in _by_version(batch):
                try:
                    await self._call(group)
                except Exception as error:  # noqa: BLE001  (this task must outlive any batch)
                    for pending in group:
                        _settle(pending, error=error)

    async def _call(self, group: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        backend = group[0].served.backend
        rows = [row for pending in group for row in pending.rows]
        try:
            outputs = await loop.run_in_executor(self._thread, backend.predict, rows)
        except Exception as error:  # noqa: BLE001  (handed to the requests, or retried alone)
            if len(group) == 1:
                _settle(group[0], error=error)
                return
            for pending in group:
                await self._call([pending])
            return
        start = 0
        for pending in group:
            _settle(pending, outputs[start:start + len(pending.rows)])
            start += len(pending.rows)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._thread.shutdown(wait=False)


def _settle(pending: _Pending, outputs=None, error: Exception | None = None) -> None:
    if pending.future.done():  # the client went away and the request was cancelled
        return
    if error is not None:
        pending.future.set_exception(error)
    else:
        pending.future.set_result(outputs)


def _by_version(batch: list[_Pending]) -> list[list[_Pending]]:
    groups: dict[int, list[_Pending]] = {}
    for pending in batch:
        groups.setdefault(id(pending.served), []).append(pending)
    return list(groups.values())
