"""Settings, the doctor, the serve command and the public surface."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import workbench
from workbench.doctor import format_checks, run_checks
from workbench.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def test_embedded_default_lives_under_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.home == tmp_path / "workbench-data"
    assert settings.storage.metadata_path == str(tmp_path / "workbench-data" / "workbench.duckdb")
    assert settings.storage.blob_url == (tmp_path / "workbench-data" / "blobs").as_uri()
    assert settings.ai.text_provider == "offline" and settings.embedder.name == "offline"
    assert settings.server.host == "127.0.0.1" and settings.auth.mode == "local"


def test_environment_and_explicit_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("WORKBENCH_AI__TEXT_PROVIDER", "openai")
    monkeypatch.setenv("WORKBENCH_STORAGE__BLOB_URL", "az://films/blobs")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=a;AccountKey=b")
    settings = Settings()
    assert settings.home == tmp_path / "env-home"
    assert settings.ai.text_provider == "openai"
    assert settings.storage.blob_url == "az://films/blobs"
    assert settings.azure_credentials() == {"connection_string": "AccountName=a;AccountKey=b"}
    assert "AccountKey" not in repr(settings)  # secrets stay secret in logs
    explicit = Settings(home=tmp_path / "arg-home")
    assert explicit.home == tmp_path / "arg-home"


def test_every_setting_is_documented() -> None:
    readme = (REPO / "README.md").read_text()
    for section_name, section in Settings.model_fields.items():
        annotation = section.annotation
        if hasattr(annotation, "model_fields"):
            for field_name, field in annotation.model_fields.items():
                assert field.description, f"{section_name}.{field_name} has no description"
                env = f"WORKBENCH_{section_name.upper()}__{field_name.upper()}"
                assert env in readme, f"{env} is not documented in the README"
        else:
            assert section.description, f"{section_name} has no description"


def test_public_api_is_explicit_and_complete() -> None:
    exported = set(workbench.__all__)
    for name in exported:
        assert hasattr(workbench, name), name
    for name in ("open", "Workbench", "Settings", "User", "LibraryImage", "SearchHit", "NotFound", "Forbidden",
                 "InvalidInput", "InsufficientCredits", "PremiumRequired", "ProviderError"):
        assert name in exported


def test_doctor_on_the_embedded_default(tmp_path: Path) -> None:
    checks = run_checks(Settings(home=tmp_path))
    table = format_checks(checks)
    assert all(c.ok for c in checks), table
    assert {c.part for c in checks} == {"metadata", "board events", "blobs", "vectors", "text AI", "embedder", "auth"}
    assert "UNREACHABLE" not in table


@pytest.mark.azure
def test_doctor_with_azurite(tmp_path: Path, azurite: str, az_container: str,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    monkeypatch.setenv("WORKBENCH_STORAGE__BLOB_URL", f"az://{az_container}/blobs")
    monkeypatch.setenv("WORKBENCH_STORAGE__VECTOR_URL", f"az://{az_container}/vectors")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    checks = run_checks(Settings())
    assert all(c.ok for c in checks), format_checks(checks)
    by_part = {c.part: c for c in checks}
    assert by_part["blobs"].backend == "az" and by_part["vectors"].location.startswith("az://")


def test_doctor_reports_an_unreachable_backend(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, ai={"text_provider": "openai", "base_url": "http://127.0.0.1:9/v1"},
                        embedder={"name": "clip", "clip_checkpoint": str(tmp_path / "missing.pt")})
    checks = {c.part: c for c in run_checks(settings)}
    assert not checks["text AI"].ok and not checks["embedder"].ok
    assert checks["metadata"].ok


@pytest.mark.azure
def test_library_on_azurite_end_to_end(tmp_path: Path, azurite: str, az_container: str) -> None:
    from tests.helpers import open_wb, sample_bytes

    wb = open_wb(tmp_path, storage={"blob_url": f"az://{az_container}/blobs",
                                    "vector_url": f"az://{az_container}/vectors"},
                 azure_connection_string=azurite)
    try:
        me = wb.accounts.local_user()
        cat = wb.library.ingest(me, sample_bytes("chelsea.png"), filename="cat.png", wait=True)
        assert wb.blobs.protocol == "az" and wb.blobs.exists(cat.blob_key)
        assert wb.search.by_image(me, sample_bytes("chelsea.png"), limit=1)[0].image.id == cat.id
        wb.library.delete(me, cat.id)
        assert list(wb.blobs.keys()) == []
    finally:
        wb.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_http_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path), "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.read() == b"ok"
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "the server did not answer within 90 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        proc.terminate()
        # Shutdown lets a running embedder warm-up finish (Workbench.close waits up to 120 s for it).
        proc.wait(timeout=150)
