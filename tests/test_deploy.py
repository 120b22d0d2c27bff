"""deploy/: the Dockerfile lints clean and the image's commands run (the chart: tests/test_helm_chart.py)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "deploy" / "helm" / "workbench"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
KUBE_VERSION = "1.33.0"  # an AKS-supported minor; kubernetes-validate ships its schemas offline
PRODUCTION = yaml.safe_load((CHART / "values-production.yaml").read_text())


def test_the_dockerfile_has_no_hadolint_finding() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0


def test_the_dockerfile_runs_as_non_root_with_a_healthcheck_and_two_commands() -> None:
    text = DOCKERFILE.read_text()
    runtime = text.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert 'ENTRYPOINT ["workbench"]' in runtime and 'CMD ["serve"]' in runtime
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert "-c requirements.lock" in text and "ARG OPEN_CLIP_CHECKPOINT" in text
    assert not re.search(r"(?i)(secret|password|api_key|connection_string)\s*=", text)


def _build_stage_runs() -> list[str]:
    build = DOCKERFILE.read_text().split("AS build", 1)[1].split("AS runtime", 1)[0]
    joined = re.sub(r"\\\n", " ", build)
    return [line[4:].strip() for line in joined.splitlines() if line.startswith("RUN ")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clerk_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage's RUN lines, run with /opt/venv and /src pointing at temporary folders.

    Trade-off, stated: the image installs torch from PyTorch's CPU index, which this machine
    cannot reach; here TORCH_INDEX_URL is the lock's own CUDA build from the local index (the
    GPU build argument), so the same commands run and only the torch wheel differs. A fresh
    install of the lock is ~2 min and ~7 GB, so the virtualenv is kept in the temp folder keyed
    by the Dockerfile, lock and pyproject; on a later run only the project is installed again
    (the source changes every commit, its dependencies rarely).
    """
    key = hashlib.sha256(b"".join(p.read_bytes() for p in (DOCKERFILE, REPO / "requirements.lock",
                                                            REPO / "pyproject.toml"))).hexdigest()[:16]
    cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"workbench-image-venv-{key}"
    src = tmp_path_factory.mktemp("src")
    for name in ("requirements.lock", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("workbench", "store", "server"):
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "TORCH_INDEX_URL": os.environ.get("WORKBENCH_TEST_TORCH_INDEX", "https://pypi.org/simple"),
           "OPEN_CLIP_CHECKPOINT": "", "HF_HOME": str(cache / "hf"), "PATH": f"{cache}/bin:{os.environ['PATH']}"}
    if not (cache / ".complete").exists():
        shutil.rmtree(cache, ignore_errors=True)
        for command in _build_stage_runs():
            command = command.replace("/opt/venv", str(cache)).replace("/src", str(src)).replace("/opt/hf",
                                                                                                  str(cache / "hf"))
            subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=src, env=env, check=True, timeout=900,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        (cache / ".complete").touch()
    else:
        subprocess.run([str(cache / "bin" / "pip"), "install", "-q", "--no-deps", "--force-reinstall", str(src)],
                       env=env, check=True, timeout=300, stderr=subprocess.PIPE)
    return cache


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_image_commands_run_from_a_virtualenv_built_like_the_image(image_venv: Path, tmp_path: Path) -> None:
    workbench = str(image_venv / "bin" / "workbench")
    port = _free_port()
    # The image's environment (deploy/Dockerfile, runtime stage) plus what the chart adds, on loopback.
    env = {"PATH": f"{image_venv}/bin:/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(image_venv / "hf"), "WORKBENCH_HOME": str(tmp_path / "data"),
           "WORKBENCH_SERVER__HOST": "127.0.0.1", "WORKBENCH_SERVER__PORT": str(port),
           "WORKBENCH_LOG_FORMAT": "json", "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false",
           "WORKBENCH_AUTH__MODE": "clerk", "WORKBENCH_AUTH__CLERK_JWT_KEY": _clerk_pem(),
           "WORKBENCH_AUTH__CLERK_ISSUER": "https://studio.clerk.accounts.dev",
           "WORKBENCH_AUTH__CLERK_AUTHORIZED_PARTIES": f'["http://127.0.0.1:{port}"]',
           "WORKBENCH_AUTH__CLERK_SECRET_KEY": "sk_test_not_a_real_key",  # never called: tokens verify offline
           "WORKBENCH_AUTH__CLERK_SIGN_IN_URL": "https://accounts.example.com/sign-in"}
    migrated = subprocess.run([workbench, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0 and "schema version" in migrated.stdout, migrated.stderr
    worker = subprocess.run([workbench, "worker", "--seconds", "1"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert worker.returncode == 0 and "worker stopped" in worker.stdout, worker.stderr
    server = subprocess.Popen([workbench, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and server.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{port}"})
                status = connection.getresponse().status
                connection.close()
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, server.stderr.read() if server.poll() is not None else "no answer"
    finally:
        server.terminate()
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0 and "every change is saved" in out, err[-2000:]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and {"time", "level", "logger", "message"} <= set(lines[0])
