"""Start and stop a throwaway PostgreSQL 15 cluster for the tests (like tests/azurite.py).

The server binaries (``initdb``, ``pg_ctl``, ``postgres``) come from the machine;
``initdb`` refuses to run as root, so under root the cluster is created and run as
the unprivileged ``nobody`` user (through ``setpriv``, no account needed). The
cluster listens on a free loopback port with trust authentication, lives in a
temporary folder and is stopped and deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "workbench"
_NOBODY = 65534


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_available() -> bool:
    """Whether the PostgreSQL server binaries are on this machine."""
    return all(shutil.which(tool) for tool in ("initdb", "pg_ctl", "postgres"))


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups", *command]


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster: its port and a DSN per database."""

    port: int
    folder: Path

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its DSN (each test gets its own workspace)."""
        import psycopg

        name = "wb_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


@contextmanager
def running_postgres(max_connections: int = 200, *, durable: bool = False) -> Iterator[Cluster]:
    """Run a PostgreSQL cluster for the duration of the block.

    Tests run it with fsync off (a throwaway cluster need not survive a power cut); a benchmark
    passes ``durable=True`` to measure commits as a real server makes them.
    """
    if not postgres_available():
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        os.chown(folder, _NOBODY, _NOBODY)
        os.chown(data, _NOBODY, _NOBODY)
    port = free_port()
    subprocess.run(_as_server_user(["initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                                    *([] if durable else ["--no-sync"])]),
                   check=True, capture_output=True, cwd=folder)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_server_user(["pg_ctl", "-D", str(data), "-o", options, "-l", str(data / "server.log"),
                                    "-w", "-t", "60", "start"]),
                   check=True, capture_output=True, cwd=folder)
    try:
        _wait_ready(port)
        yield Cluster(port, folder)
    finally:
        subprocess.run(_as_server_user(["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
