"""Throw-away PostgreSQL and MariaDB servers on 127.0.0.1 for tests that need ML Metadata
on a real database server.

CI machines have Debian's postgresql and mariadb-server packages (scripts/system_deps.sh
installs them) but no systemd and no running server, so each server is started here: a
fresh data directory in a temporary folder, a free port on loopback, one user without a
password, stopped and deleted at the end of the session. PostgreSQL refuses to run as
root, so as root it runs as the `postgres` user the package creates; MariaDB is told
`--user` explicitly.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

USER = "conveyor"
DATABASE = "mlmd"


@dataclass(frozen=True)
class DatabaseServer:
    backend: str  # the [metadata] backend this server is for
    host: str
    port: int
    user: str
    database: str

    def metadata_toml(self) -> str:
        return (f'[metadata]\nbackend = "{self.backend}"\nhost = "{self.host}"\n'
                f'port = {self.port}\nuser = "{self.user}"\ndatabase = "{self.database}"\n')


def postgres_bin_dir() -> Optional[Path]:
    """Debian keeps the server programs in /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresProcess:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        # Not under pytest's tmp folders: those are private to root and the server may run
        # as another user.
        self.root = Path(tempfile.mkdtemp(prefix="conveyor-pg-"))
        self.run_as = "postgres" if os.geteuid() == 0 else None
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    def _run(self, *args: str) -> None:
        result = subprocess.run(args, user=self.run_as, capture_output=True, text=True,
                                timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()[-2000:]}")

    def start(self) -> DatabaseServer:
        data = self.root / "data"
        self._run(str(self.bin_dir / "initdb"), "-D", str(data), "-U", USER,
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        log = open(self.root / "server.log", "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", str(self.root), "-c", "fsync=off"],
            user=self.run_as, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()}")
            ready = subprocess.run([str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1",
                                    "-p", str(self.port), "-U", USER], capture_output=True)
            if ready.returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("postgres did not accept connections within 60 s")
        self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", USER, DATABASE)
        return DatabaseServer("postgresql", "127.0.0.1", self.port, USER, DATABASE)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class MariadbProcess:
    """MariaDB with root (native password, empty) as MLMD's user: MLMD connects with
    mysql_native_password, which MariaDB's `normal` root authentication provides."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="conveyor-mariadb-"))
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    def start(self) -> DatabaseServer:
        data = self.root / "data"
        install = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", f"--user={self.user}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, timeout=180)
        if install.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {install.stderr[-2000:]}")
        log = open(self.root / "server.log", "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults",
             f"--datadir={data}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={self.root / 'mysqld.sock'}", f"--pid-file={self.root / 'mysqld.pid'}",
             f"--user={self.user}", "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.root / 'server.log').read_text()}")
            if "ready for connections" in (self.root / "server.log").read_text():
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("mariadbd did not accept connections within 60 s")
        # The database is left for ML Metadata to create, as it does on a fresh server.
        return DatabaseServer("mysql", "127.0.0.1", self.port, "root", DATABASE)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb_server():
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        pytest.fail("MariaDB is not installed: run scripts/system_deps.sh (make test does)")
    server = MariadbProcess()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: run scripts/system_deps.sh (make test does)")
    server = PostgresProcess(bin_dir)
    try:
        yield server.start()
    finally:
        server.stop()
