"""deploy/: the Dockerfile lints clean, the Helm chart renders and validates, the image's commands run."""

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
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


# -- the chart ---------------------------------------------------------------------
def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = helm_python.Chart.load(CHART).render(values=values, name="wb", namespace="studio")
    docs = []
    for text in rendered.values():
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def _kinds(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], []).append(doc)
    return out


def _pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield doc["metadata"]["name"], doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


VALUE_SETS = {
    "default": {},
    "trial with ingress": {"ingress": {"enabled": True, "host": "workbench.example.com"},
                           "clerk": {"issuer": "https://studio.clerk.accounts.dev"},
                           "secrets": {"create": True, "values": {"clerkJwtKey": "-----BEGIN PUBLIC KEY-----"}}},
    "production": PRODUCTION,
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_manifest_validates_against_the_kubernetes_schemas(name: str) -> None:
    docs = _render(VALUE_SETS[name])
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        assert doc["metadata"]["namespace"] == "studio", doc["metadata"]["name"]  # never "default" by accident


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_pod_is_locked_down(name: str) -> None:
    specs = list(_pod_specs(_render(VALUE_SETS[name])))
    assert specs
    for pod_name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, pod_name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, pod_name
        assert spec["automountServiceAccountToken"] is False
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in spec["volumes"]), pod_name
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, pod_name
            assert sc["capabilities"] == {"drop": ["ALL"]} and sc["privileged"] is False, pod_name
            assert container["resources"]["limits"] and container["resources"]["requests"], pod_name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_embedded_default_is_one_web_pod_that_migrates_first() -> None:
    kinds = _kinds(_render({}))
    [web] = kinds["Deployment"]
    assert web["spec"]["replicas"] == 1 and web["spec"]["strategy"]["type"] == "Recreate"
    pod = web["spec"]["template"]["spec"]
    assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
    [container] = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"name": "Host", "value": "localhost"} in container["readinessProbe"]["httpGet"]["httpHeaders"]
    assert "HorizontalPodAutoscaler" not in kinds and "PodDisruptionBudget" not in kinds
    assert "Job" not in kinds and "CronJob" not in kinds
    [claim] = kinds["PersistentVolumeClaim"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    [config] = kinds["ConfigMap"]
    assert config["data"]["WORKBENCH_AUTH__MODE"] == "clerk"  # never the local mode on 0.0.0.0
    [service] = kinds["Service"]
    assert service["spec"]["sessionAffinity"] == "ClientIP"


@pytest.mark.parametrize("values, message", [
    ({"web": {"replicas": 2}}, "web.replicas must be 1"),
    ({"web": {"autoscaling": {"enabled": True}}}, "web.autoscaling.enabled needs a multi-writer"),
    ({"worker": {"enabled": True}}, "worker.enabled needs a multi-writer"),
    ({"backup": {"enabled": True}}, "backup.enabled"),
    ({"metadata": {"backend": "postgres"}}, "must be az:// URLs"),
    ({"ingress": {"enabled": True}}, "ingress.host is required"),
])
def test_the_chart_refuses_what_the_embedded_file_cannot_do(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm_python.HelmError, match=re.escape(message)):
        _render(values)


def test_an_image_digest_pins_every_workload() -> None:
    digest = "sha256:" + "0f" * 32
    for _, spec in _pod_specs(_render({**PRODUCTION, "image": {**PRODUCTION["image"], "digest": digest}})):
        for container in spec["containers"] + spec.get("initContainers", []):
            assert container["image"] == f"workbenchacr.azurecr.io/filmmaker-workbench:0.1.0@{digest}"
    with pytest.raises(helm_python.HelmError, match="digest"):
        _render({"image": {"repository": "x", "digest": "latest"}})


def test_values_outside_the_schema_are_refused() -> None:
    with pytest.raises(helm_python.HelmError, match="backend"):
        _render({"metadata": {"backend": "sqlite"}})
    with pytest.raises(helm_python.HelmError):
        _render({"securityContext": {"allowPrivilegeEscalation": True, "readOnlyRootFilesystem": True}})


def test_production_scales_web_and_workers_behind_a_sticky_tls_ingress() -> None:
    kinds = _kinds(_render(PRODUCTION))
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in kinds["HorizontalPodAutoscaler"]}
    assert hpas.keys() == {"wb-workbench-web", "wb-workbench-worker"}
    assert hpas["wb-workbench-web"]["minReplicas"] == 2
    assert {p["metadata"]["name"] for p in kinds["PodDisruptionBudget"]} == {"wb-workbench-web", "wb-workbench-worker"}
    deployments = {d["metadata"]["name"]: d for d in kinds["Deployment"]}
    assert "replicas" not in deployments["wb-workbench-web"]["spec"]  # the HPA owns it
    assert deployments["wb-workbench-worker"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker"]
    [job] = kinds["Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    [ingress] = kinds["Ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert ingress["spec"]["tls"][0]["hosts"] == ["workbench.example.com"]
    [cron] = kinds["CronJob"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    backup_pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert "az://workbench-backups/studio/" in backup_pod["containers"][0]["args"][0]  # straight to Azure Blob
    assert all(v["name"] != "backups" for v in backup_pod["volumes"])
    assert all(c["metadata"]["name"] != "wb-workbench-backups" for c in kinds.get("PersistentVolumeClaim", []))
    [account] = kinds["ServiceAccount"]
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
    [policy] = kinds["NetworkPolicy"]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    env = deployments["wb-workbench-web"]["spec"]["template"]["spec"]["containers"][0]["env"]
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env if "secretKeyRef" in e.get(
        "valueFrom", {})}
    assert secret_refs["WORKBENCH_AUTH__CLERK_JWT_KEY"] == "workbench-secrets"
    assert not kinds.get("Secret")  # production keys come from an existing Secret, never from values


def test_helm_lint_finds_nothing_but_the_icon() -> None:
    for values in ({}, PRODUCTION):
        report = helm_python.lint(CHART, values=values, strict=True, kube_version=f"v{KUBE_VERSION}")
        assert report["errors"] == []
        assert [m["error"] for m in report["messages"]] == ["icon is recommended"]  # no logo for the chart yet


# -- the image's commands, run from a virtualenv built like the image ------------------
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
