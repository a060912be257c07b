"""`python -m pipeline serve` as a subprocess on 127.0.0.1 and a plain HTTP client for it,
for tests/serve_e2e_test.py and bench/serve.py."""

from __future__ import annotations

import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Optional

REPO = Path(__file__).resolve().parent.parent
SERVING_SAMPLE = REPO / "data" / "taxi_serving" / "requests.csv"
HOST = "127.0.0.1"
_PARSERS = {"DT_FLOAT": float, "DT_INT64": int, "DT_STRING": str}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """A started server; `ready()` waits (with a deadline) until it answers its status."""

    def __init__(self, config: Path, workspace: Path, log: Path, *extra: str, name="taxi"):
        self.port, self.name, self.log = free_port(), name, log
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_USE_LEGACY_KERAS": "1"}
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "serve", "--config", str(config),
                 "--workspace", str(workspace), "--host", HOST, "--port", str(self.port),
                 *extra], cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)

    def ready(self, deadline_seconds: float = 180) -> "Server":
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n"
                                     + self.log_text()[-3000:])
            try:
                if self.call("GET", f"/v1/models/{self.name}")[0] == 200:
                    return self
            except OSError:  # not listening yet
                time.sleep(0.2)
        raise AssertionError("serve did not answer in time:\n" + self.log_text()[-3000:])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def call(self, method: str, path: str, body: Optional[bytes | Iterable[bytes]] = None,
             headers: Optional[dict] = None) -> tuple[int, dict]:
        """(status, decoded JSON); an iterable body is sent chunked."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            chunked = body is not None and not isinstance(body, bytes)
            connection.request(method, path, body=body, headers=headers or {},
                               encode_chunked=chunked)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def predict(self, payload: dict, version: Optional[int] = None) -> tuple[int, dict]:
        where = f"/versions/{version}" if version is not None else ""
        return self.call("POST", f"/v1/models/{self.name}{where}:predict",
                         json.dumps(payload).encode())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sample_rows(metadata: dict, limit: int) -> list[dict]:
    """Rows of the bundled serving sample as JSON values of the signature's dtypes (an
    empty cell left out: a missing value)."""
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    types = {name: _PARSERS[spec["dtype"]] for name, spec in signature["inputs"].items()}
    with open(SERVING_SAMPLE, newline="", encoding="utf-8") as handle:
        rows = [row for _, row in zip(range(limit), csv.DictReader(handle))]
    return [{name: types[name](cell) for name, cell in row.items() if cell != ""}
            for row in rows]
