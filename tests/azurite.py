"""Start and stop a real Azurite blob emulator for the Azure tests.

Azurite (``azurite@3.35.0`` from npm) is installed by ``./dev test`` into the
ignored ``.tools/`` folder; a test run starts it on a free loopback port in a
temporary folder and stops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key (not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO = Path(__file__).resolve().parent.parent


def azurite_binary() -> str | None:
    """The azurite-blob executable, from the repo's .tools folder or the PATH."""
    local = REPO / ".tools" / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


@contextmanager
def running_azurite() -> Iterator[str]:
    """Run Azurite's blob service; yields its connection string."""
    binary = azurite_binary()
    if binary is None:
        raise RuntimeError("Azurite is not installed: run ./dev test (it installs azurite@3.35.0 into .tools/)")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="azurite-")
    process = subprocess.Popen(
        [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", folder,
         "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"Azurite did not start: {err}") from None
                time.sleep(0.1)
        yield connection_string(port)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        shutil.rmtree(folder, ignore_errors=True)
