"""`python -m pipeline serve` on a freshly pushed taxi model, over real HTTP on 127.0.0.1.

One pipeline run pushes a small model; servers (savedmodel, tflite, two workers, and one
on a copy of the serving folder for the hot swap) run as subprocesses on free ports.
Predictions are checked against the SavedModel called here, in-process.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import tensorflow as tf

from components.layout import SERVING_SIGNATURE, STAGING_PREFIX
from tests.conftest import run_cli, slice_spans, taxi_config
from tests.serve_harness import Server, sample_rows

pytestmark = pytest.mark.e2e

MAX_BODY_KB = 256
MIN_CLASS_AGREEMENT = 0.97  # the end-to-end int8 file against the SavedModel (litert tests)


class Pushed:
    def __init__(self, root: Path):
        data = slice_spans(root / "data", 1000, spans=(1, 2))
        self.config = taxi_config(root / "taxi.toml", data, train_steps=100, eval_steps=5,
                                  max_examples=1000, max_body_kb=MAX_BODY_KB, poll_seconds=0.5)
        self.workspace = root / "workspace"
        self.root = root
        done = run_cli("run", "--config", str(self.config), "--workspace", str(self.workspace))
        assert done.returncode == 0, done.stderr[-3000:]
        self.serving = self.workspace / "serving" / "taxi"
        self.version = int(max(p.name for p in self.serving.iterdir() if p.name.isdigit()))

    def server(self, log: str, *extra: str) -> Server:
        return Server(self.config, self.workspace, self.root / log, *extra)


@pytest.fixture(scope="module")
def pushed(tmp_path_factory) -> Pushed:
    return Pushed(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def server(pushed):
    started = pushed.server("savedmodel.log")
    try:
        yield started.ready()
    finally:
        started.stop()


@pytest.fixture(scope="module")
def metadata(server) -> dict:
    status, answer = server.call("GET", "/v1/models/taxi/metadata")
    assert status == 200, answer
    return answer


@pytest.fixture(scope="module")
def rows(metadata) -> list[dict]:
    return sample_rows(metadata, 300)


def serialized(rows: list[dict], metadata: dict) -> list[bytes]:
    """The rows as tf.Examples, built here."""
    inputs = metadata["metadata"]["signature_def"]["signature_def"][SERVING_SIGNATURE]["inputs"]
    examples = []
    for row in rows:
        example = tf.train.Example()
        for name, value in row.items():
            feature, dtype = example.features.feature[name], inputs[name]["dtype"]
            if dtype == "DT_STRING":
                feature.bytes_list.value.append(value.encode())
            elif dtype == "DT_INT64":
                feature.int64_list.value.append(value)
            else:
                feature.float_list.value.append(value)
        examples.append(example.SerializeToString())
    return examples


def in_process(version_dir: Path, rows: list[dict], metadata: dict) -> np.ndarray:
    """The SavedModel's serving signature, called here on the same rows."""
    signature = tf.saved_model.load(str(version_dir)).signatures[SERVING_SIGNATURE]
    return signature(examples=tf.constant(serialized(rows, metadata)))["outputs"].numpy()


@pytest.fixture(scope="module")
def expected(pushed, rows, metadata) -> np.ndarray:
    return in_process(pushed.serving / str(pushed.version), rows, metadata)


def test_status_and_metadata(server, pushed, metadata):
    assert server.call("GET", "/v1/models/taxi") == (200, {"model_version_status": [
        {"version": str(pushed.version), "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}}]})
    assert metadata["model_spec"]["version"] == str(pushed.version)
    signature = metadata["metadata"]["signature_def"]["signature_def"][SERVING_SIGNATURE]
    inputs = {name: spec["dtype"] for name, spec in signature["inputs"].items()}
    assert inputs["fare"] == "DT_FLOAT" and inputs["company"] == "DT_STRING"
    assert inputs["trip_start_hour"] == "DT_INT64" and "big_tipper" not in inputs
    assert len(inputs) == 17  # every column of the serving sample's CSV
    dims = signature["outputs"]["outputs"]["tensor_shape"]["dim"]
    assert [d["size"] for d in dims] == ["-1", "1"]


def test_rows_and_columns_match_the_savedmodel(server, rows, expected):
    status, answer = server.predict({"instances": rows})
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["predictions"]), expected, atol=1e-6)
    columns = {name: [row.get(name) for row in rows[:50]]
               for name in sorted({name for row in rows[:50] for name in row})}
    status, answer = server.predict({"inputs": columns})
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["outputs"]), expected[:50], atol=1e-6)


def test_serialized_examples_as_a_tf_serving_client_sends_them(server, rows, metadata,
                                                               expected):
    b64 = [{"b64": base64.b64encode(e).decode()} for e in serialized(rows[:20], metadata)]
    status, answer = server.predict({"signature_name": SERVING_SIGNATURE, "instances": b64})
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["predictions"]), expected[:20], atol=1e-6)
    bad = {"instances": [{"b64": base64.b64encode(b"\xff not an example").decode()}]}
    status, answer = server.predict(bad)
    assert status == 400 and "instances[0]" in answer["error"], answer


def test_version_route(server, pushed, rows, expected):
    status, answer = server.predict({"instances": rows[:3]}, version=pushed.version)
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["predictions"]), expected[:3], atol=1e-6)
    assert server.call("GET", f"/v1/models/taxi/versions/{pushed.version}")[0] == 200


def test_bad_requests_get_tf_serving_errors(server, pushed, rows):
    good = json.dumps({"instances": rows[:1]}).encode()
    no_fare = {k: v for k, v in rows[0].items() if k != "fare"}
    over = b'{"instances": [' + b" " * (MAX_BODY_KB * 1024) + b"]}"
    predict = "/v1/models/taxi:predict"
    cases = [
        (predict, b'{"instances": [', 400, "request body is not JSON"),
        (predict, json.dumps({"instances": [rows[0], no_fare]}).encode(), 400,
         "instances[1]: missing feature 'fare'"),
        (predict, json.dumps({"instances": [{**rows[0], "fares": 1.0}]}).encode(), 400,
         "instances[0]: unknown feature 'fares'"),
        (predict, json.dumps({"instances": [rows[0], {**rows[0], "fare": "cheap"}]}).encode(),
         400, "instances[1]: feature 'fare': \"cheap\" is not a number"),
        (predict, b'{"instances": []}', 400, "empty batch"),
        (predict, over, 413, "over the limit of 256 KB"),
        (predict, (over[i:i + 4096] for i in range(0, len(over), 4096)), 413,
         "over the limit of 256 KB"),  # chunked: no Content-Length to check first
        (f"/v1/models/taxi/versions/{pushed.version + 1}:predict", good, 404,
         f"no version '{pushed.version + 1}'"),
        ("/v1/models/taxo:predict", good, 404, "unknown model 'taxo'"),
        ("/v1/models/taxi:classify", good, 404, "no such route"),
    ]
    for path, body, status, message in cases:
        answer = server.call("POST", path, body)
        assert answer[0] == status and message in answer[1]["error"], (path, answer)
        assert list(answer[1]) == ["error"]
        assert server.call("POST", predict, good)[0] == 200  # still serving
    assert server.process.poll() is None
    assert "Traceback" not in server.log_text()


def test_tflite_backend_gives_the_savedmodels_classes(pushed, rows, expected, metadata):
    started = pushed.server("tflite.log", "--backend", "tflite")
    try:
        started.ready()
        status, answer = started.predict({"instances": rows})
        assert status == 200, answer
        tflite = np.array(answer["predictions"])
        assert tflite.shape == expected.shape
        agreement = np.mean((tflite[:, 0] > 0.5) == (expected[:, 0] > 0.5))
        assert agreement >= MIN_CLASS_AGREEMENT, agreement
        assert np.abs(tflite - expected).mean() <= 0.05
        assert started.call("GET", "/v1/models/taxi/metadata") == (200, metadata)
        assert started.predict({"instances": [{"fare": "x"}]})[0] == 400
    finally:
        started.stop()


def test_two_workers_serve(pushed, rows, expected):
    started = pushed.server("workers.log", "--workers", "2")
    try:
        started.ready()
        for _ in range(6):
            status, answer = started.predict({"instances": rows[:5]})
            assert status == 200, answer
            np.testing.assert_allclose(np.array(answer["predictions"]), expected[:5], atol=1e-6)
        workers = psutil.Process(started.process.pid).children()
        assert len([w for w in workers if "python" in w.name()]) >= 2, workers
    finally:
        started.stop()


def publish(serving: Path, source: int, version: int, broken: bool = False) -> None:
    """A version pushed as the VersionedPusher does: assembled under a staging name, then
    renamed into place."""
    staging = serving / f"{STAGING_PREFIX}{version}-test"
    shutil.copytree(serving / str(source), staging)
    if broken:
        (staging / "saved_model.pb").write_bytes(b"not a SavedModel")
    staging.rename(serving / str(version))


class Client(threading.Thread):
    """Single-row predicts in a loop until stopped, counting answers and failures."""

    def __init__(self, server: Server, rows: list[dict]):
        super().__init__(daemon=True)
        self.server, self.rows = server, rows
        self.answered, self.failures = 0, []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                status, answer = self.server.predict(
                    {"instances": [self.rows[self.answered % len(self.rows)]]})
                if status != 200:
                    self.failures.append((status, answer))
            except OSError as error:
                self.failures.append(repr(error))
            self.answered += 1


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def test_hot_swap_under_load(pushed, rows, tmp_path):
    workspace = tmp_path / "workspace"
    serving = workspace / "serving" / "taxi"
    shutil.copytree(pushed.serving, serving)
    started = Server(pushed.config, workspace, tmp_path / "swap.log").ready()
    clients = [Client(started, rows[i::4]) for i in range(4)]  # concurrent: shared calls

    def answered_more(count: int):
        before = sum(c.answered for c in clients)
        wait_for(lambda: sum(c.answered for c in clients) >= before + count, 30,
                 f"{count} more answers")
    try:
        for client in clients:
            client.start()
        answered_more(40)
        new = pushed.version + 1
        publish(serving, pushed.version, new)
        pushed_at = time.monotonic()
        wait_for(lambda: served_version(started) == new, 10, f"version {new} served")
        assert time.monotonic() - pushed_at < 10
        answered_more(40)
        assert all(c.is_alive() for c in clients)

        broken = new + 1
        publish(serving, new, broken, broken=True)
        wait_for(lambda: f"version {broken} failed to load" in started.log_text(), 15,
                 "the broken version reported")
        assert served_version(started) == new
        answered_more(40)
    finally:
        for client in clients:
            client.halt.set()
            client.join(timeout=60)
        started.stop()
    failures = [f for c in clients for f in c.failures]
    assert failures == [], failures[:3]
    assert f"still serving {new}" in started.log_text()
    # [serving] log_sample_rate 0.1 of well over 100 rows: the log closed at shutdown has some
    assert list((workspace / "request_logs" / "taxi").glob("requests-*.tfrecord.gz"))


def served_version(server: Server) -> int:
    status, answer = server.call("GET", "/v1/models/taxi")
    assert status == 200, answer
    return int(answer["model_version_status"][0]["version"])


def test_nothing_pushed_is_one_line_and_exit_2(tmp_path):
    done = run_cli("serve", "--workspace", str(tmp_path / "empty"), "--port", "1")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'empty' / 'serving' / 'taxi'}: no pushed version to serve "
        "(run the pipeline first)")
    assert not (tmp_path / "empty").exists()  # nothing created, no port bound
