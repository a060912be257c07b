"""The batcher of `serve`: concurrent requests share model calls, per served version, and
a request the model refuses fails alone."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from pipeline.serving.server.batching import MAX_BATCH_ROWS, Batcher
from pipeline.serving.server.registry import Served


class Doubling:
    """A backend whose prediction is twice each row's x; it refuses a row without x."""

    def __init__(self):
        self.calls, self.threads = [], set()

    def predict(self, rows):
        self.calls.append(len(rows))
        self.threads.add(threading.get_ident())
        return np.array([[2.0 * row["x"]] for row in rows])


def served(version: int, backend) -> Served:
    return Served(version, backend, output_width=1)


def run(*requests):
    async def main():
        batcher = Batcher()
        try:
            return await asyncio.gather(*(batcher.predict(s, rows) for s, rows in requests),
                                        return_exceptions=True)
        finally:
            batcher.close()
    return asyncio.run(main())


def test_concurrent_requests_share_one_call_and_get_their_own_rows():
    backend = Doubling()
    version = served(1, backend)
    answers = run(*[(version, [{"x": i}, {"x": i + 0.5}]) for i in range(10)])
    assert backend.calls == [20]
    for i, answer in enumerate(answers):
        np.testing.assert_array_equal(answer, [[2.0 * i], [2.0 * i + 1]])
    assert threading.get_ident() not in backend.threads  # off the event loop


def test_a_refused_request_fails_alone():
    backend = Doubling()
    version = served(1, backend)
    answers = run((version, [{"x": 1}]), (version, [{"y": 1}]), (version, [{"x": 3}]))
    assert backend.calls == [3, 1, 1, 1]  # the batch, then each request alone
    np.testing.assert_array_equal(answers[0], [[2.0]])
    assert isinstance(answers[1], KeyError)
    np.testing.assert_array_equal(answers[2], [[6.0]])


def test_a_batch_holds_one_version():
    old, new = Doubling(), Doubling()
    first, second = served(1, old), served(2, new)
    answers = run((first, [{"x": 1}]), (second, [{"x": 2}]), (first, [{"x": 3}]))
    assert old.calls == [2] and new.calls == [1]
    assert [a.tolist() for a in answers] == [[[2.0]], [[4.0]], [[6.0]]]


def test_a_call_stops_taking_requests_past_max_batch_rows():
    backend = Doubling()
    version = served(1, backend)
    run(*[(version, [{"x": 0}] * 100) for _ in range(8)])
    assert MAX_BATCH_ROWS == 512 and backend.calls == [600, 200]
