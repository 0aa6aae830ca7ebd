"""Fixtures for the Python client compatibility suite.

The session starts one KalamDB server (``$KALAMDB_BIN``, default ``<repo>/bin/kalamdb``)
on a fresh data directory with ``--flight-addr 127.0.0.1:0``; the real port is read
from the ``flight=grpc+tcp://...`` line the server logs once it listens.  The server
log is kept next to the data dir (pytest's basetemp) and its tail is printed if the
server does not come up.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import adbc_driver_flightsql.dbapi as flightsql
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ROOT_PASSWORD = "rootpass1"
STARTUP_TIMEOUT = 30.0
_LISTEN_RE = re.compile(r"flight=(grpc\+tcp://[0-9A-Za-z.\-\[\]:]+)")


@dataclass
class Server:
    uri: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "<no log>"


def _server_binary() -> Path:
    b = Path(os.environ.get("KALAMDB_BIN", REPO / "bin" / "kalamdb"))
    if not b.exists():
        pytest.exit(f"server binary {b} not found: run `make build` or set KALAMDB_BIN", 1)
    return b


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    base = tmp_path_factory.mktemp("kalamdb")
    data_dir = base / "data"
    data_dir.mkdir()
    log_path = base / "server.log"
    env = dict(os.environ, KALAMDB_ROOT_PASSWORD=ROOT_PASSWORD)
    logf = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            str(_server_binary()),
            "--data-dir", str(data_dir),
            "--flight-addr", "127.0.0.1:0",
            "--http-addr", "127.0.0.1:0",
        ],
        stdout=logf,
        stderr=subprocess.STDOUT,
        env=env,
    )
    srv = None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while time.monotonic() < deadline:
            m = _LISTEN_RE.search(log_path.read_text(errors="replace"))
            if m:
                srv = Server(m.group(1), data_dir, log_path, proc)
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if srv is None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
            raise RuntimeError(
                f"kalamdb did not report a flight address (exit={proc.poll()}); log:\n{tail}"
            )
        yield srv
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logf.close()
    # A clean shutdown is part of the contract: SIGTERM must exit 0.
    assert proc.returncode == 0, f"server exited {proc.returncode} on SIGTERM:\n{srv.log_tail()}"


@pytest.fixture(scope="session")
def uri(server: Server) -> str:
    return server.uri


def connect(uri: str, username: str = "root", password: str = ROOT_PASSWORD, **kwargs):
    """Open an ADBC Flight SQL DB-API connection (autocommit on unless told otherwise)."""
    kwargs.setdefault("autocommit", True)
    return flightsql.connect(uri, db_kwargs={"username": username, "password": password}, **kwargs)


@pytest.fixture
def conn(uri):
    """A DB-API connection as root, autocommit (each statement commits on its own)."""
    c = connect(uri)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def ns(conn) -> str:
    """A fresh namespace for this test (tests never share tables)."""
    name = "ns_" + uuid.uuid4().hex[:10]
    with conn.cursor() as cur:
        cur.execute(f"CREATE NAMESPACE {name}")
    return name


@pytest.fixture
def table_t(conn, ns) -> str:
    """``<ns>.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)`` with rows 1..3, SHARED."""
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")
        cur.execute(f"INSERT INTO {ns}.t VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'c', 3.5)")
    return f"{ns}.t"


def query_all(conn, sql: str, parameters=None) -> list[tuple]:
    """Run ``sql`` on a fresh cursor and return ``fetchall()``."""
    with conn.cursor() as cur:
        cur.execute(sql, parameters)
        return cur.fetchall()


def scalar(conn, sql: str, parameters=None):
    rows = query_all(conn, sql, parameters)
    assert len(rows) == 1 and len(rows[0]) == 1, f"expected one value from {sql!r}, got {rows!r}"
    return rows[0][0]
