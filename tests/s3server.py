"""A throw-away S3 server on 127.0.0.1 (moto's standalone server, a separate process) for
tests whose artifacts must live in a bucket, reached only over the S3 protocol.

TensorFlow reaches it through tensorflow-io's S3 filesystem (S3_ENDPOINT and the AWS_*
variables), Beam through its S3 IO (boto3, `--s3_endpoint_url`). Any process that used
tensorflow-io's S3 filesystem aborts at interpreter exit ("pure virtual method called"),
after its work is done, so bucket I/O never runs inside pytest's own process: the tests
run it in a child (`run_python`), which ends with os._exit once its result is printed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pytest

from tests.conftest import REPO

REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def env(self) -> dict:
        """The environment a process needs to reach this server as s3://."""
        return {**os.environ, "S3_ENDPOINT": self.endpoint, "S3_USE_HTTPS": "0",
                "S3_VERIFY_SSL": "0", "AWS_ACCESS_KEY_ID": "conveyor",
                "AWS_SECRET_ACCESS_KEY": "conveyor", "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION, "TF_USE_LEGACY_KERAS": "1"}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="conveyor", aws_secret_access_key="conveyor")

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(server: S3Server, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the S3 server exited with {process.returncode}")
        try:
            server.client().list_buckets()
            return
        except Exception:  # noqa: BLE001 - not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def s3_process():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def s3(s3_process) -> S3Server:
    """A fresh, empty bucket on the session's server."""
    endpoint, process = s3_process
    server = S3Server(endpoint, f"conveyor-{uuid.uuid4().hex[:12]}")
    _wait_until_up(server, process)
    server.client().create_bucket(Bucket=server.bucket)
    return server


def run_python(server: S3Server, code: str, timeout: int = 600):
    """Runs `code` in a child with the bucket's environment; returns what it assigned to
    `result` (JSON). The child ends with os._exit after printing it, past the abort."""
    # tensorflow-io registers s3:// with TensorFlow on import (TFX's launcher imports it
    # through tensorflow_transform; a bare child has to).
    script = (f"import tensorflow_io\n{code}\nimport json, os, sys\n"
              f"sys.stdout.write('RESULT ' + json.dumps(result))\nsys.stdout.flush()\nos._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=server.env(),
                          capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])
