"""deploy/helm: the chart renders, validates against the Kubernetes schemas, and gives the app only settings it reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "deploy" / "helm" / "workbench"
KUBE_VERSION = "1.33.0"  # an AKS-supported minor; kubernetes-validate ships its schemas offline
PRODUCTION = yaml.safe_load((CHART / "values-production.yaml").read_text())


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


DSN = "host=studio-pg.postgres.database.azure.com port=5432 dbname=workbench user=workbench password=x sslmode=require"
# A PostgreSQL trial: the chart makes the Secret (with the connection string) and runs no workers.
POSTGRES = {"metadata": {"backend": "postgres"},
            "storage": {"blobUrl": "az://workbench/blobs", "vectorUrl": "az://workbench/vectors"},
            "secrets": {"create": True, "values": {"metadataDsn": DSN}}}
WORKERS = {**POSTGRES, "worker": {"enabled": True, "replicas": 2}, "web": {"replicas": 3}}

VALUE_SETS = {
    "default": {},
    "trial with ingress": {"ingress": {"enabled": True, "host": "workbench.example.com"},
                           "clerk": {"issuer": "https://studio.clerk.accounts.dev"},
                           "secrets": {"create": True, "values": {"clerkJwtKey": "-----BEGIN PUBLIC KEY-----"}}},
    "production": PRODUCTION,
    "postgres trial with workers": WORKERS,
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
    assert "CronJob" not in kinds and "PersistentVolumeClaim" not in kinds  # PostgreSQL and Azure Blob hold it all
    accounts = {a["metadata"]["name"]: a["metadata"].get("annotations", {}) for a in kinds["ServiceAccount"]}
    assert "azure.workload.identity/client-id" in accounts["wb-workbench"]
    assert "azure.workload.identity/client-id" not in accounts["wb-workbench-migrate"]  # it needs only PostgreSQL
    policies = {p["metadata"]["name"]: p["spec"] for p in kinds["NetworkPolicy"]}
    assert policies["wb-workbench"]["policyTypes"] == ["Ingress", "Egress"]
    assert _egress(policies["wb-workbench"])[5432] == ["10.10.4.0/28"]  # the server's subnet, not the world
    assert _egress(policies["wb-workbench-migrate"]) == {53: [], 5432: ["10.10.4.0/28"]}  # the hook: DNS, PostgreSQL
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


# -- the settings the chart gives the app ----------------------------------------------
# The app ignores a WORKBENCH_* variable it does not know (extra="ignore"), so a misspelt or retired
# name in the chart fails silently in the cluster; and it refuses a value it does not accept only
# when a pod starts. Both are checked here, on every rendering, against the app's own Settings.
NOT_SETTINGS = {
    "POD_IP": "the pod's address, substituted into WORKBENCH_SERVER__ALLOWED_HOSTS",
    "XDG_CACHE_HOME": "libraries' caches on the writable /tmp",
    "MPLCONFIGDIR": "matplotlib's cache on the writable /tmp",
}
SECRET_PLACEHOLDERS = {"WORKBENCH_STORAGE__METADATA_DSN": DSN}


def _egress(policy: dict[str, Any]) -> dict[int, list[str]]:
    """Ports a NetworkPolicy lets the pods reach, each with its address ranges (none: inside the cluster)."""
    out: dict[int, list[str]] = {}
    for rule in policy["egress"]:
        cidrs = [peer["ipBlock"]["cidr"] for peer in rule["to"] if "ipBlock" in peer]
        for port in rule["ports"]:
            out.setdefault(port["port"], [])
            out[port["port"]] += [c for c in cidrs if c not in out[port["port"]]]
    return out


def _containers(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for pod_name, spec in _pod_specs(docs):
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{pod_name}/{container['name']}", container


def _env(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, Any]:
    """What the container's process sees: its ConfigMaps' data, then its env (a literal, or the valueFrom)."""
    configmaps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, source  # a secretRef would hide names from this test
        env.update(configmaps[source["configMapRef"]["name"]])
    for item in container.get("env", []):
        env[item["name"]] = item["value"] if "value" in item else item["valueFrom"]
    return env


def _readme_settings() -> set[str]:
    """Every variable in the settings table of the root README's "Configuration" section."""
    section = (REPO / "README.md").read_text().split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for first_cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell)}


def _app_settings() -> set[str]:
    """The environment variables ``workbench.Settings`` reads: WORKBENCH_<FIELD>[__<SUBFIELD>], or an alias."""
    from pydantic import AliasChoices, BaseModel

    from workbench.settings import Settings

    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        if isinstance(field.validation_alias, AliasChoices):  # e.g. AZURE_STORAGE_CONNECTION_STRING
            names.update(c for c in field.validation_alias.choices if isinstance(c, str) and c.isupper())
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names.update(f"WORKBENCH_{name}__{sub}".upper() for sub in field.annotation.model_fields)
        else:
            names.add(f"WORKBENCH_{name}".upper())
    return names


def test_both_lists_of_settings_are_read_whole() -> None:
    app, readme = _app_settings(), _readme_settings()
    assert len(app) > 50 and len(app & readme) > 50, (len(app), len(readme))  # the parse found the table
    assert readme - app == set(), readme - app  # the README documents no setting the app lacks
    assert "WORKBENCH_STORAGE__METADATA_DSN" in app and "WORKBENCH_STORAGE__METADATA_URL" not in app


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_variable_the_chart_sets_is_a_setting_the_app_reads(name: str) -> None:
    docs = _render(VALUE_SETS[name])
    known = _app_settings() & _readme_settings()
    seen: set[str] = set()
    for where, container in _containers(docs):
        names = set(_env(docs, container)) - set(NOT_SETTINGS)
        assert names <= known, f"{where} sets {sorted(names - known)}, which the app does not read"
        seen |= names
    assert {"WORKBENCH_STORAGE__METADATA_BACKEND", "WORKBENCH_AUTH__CLERK_JWT_KEY"} <= seen  # the check looked
    for secret in (d for d in docs if d["kind"] == "Secret"):
        assert set(secret["stringData"]) <= known, secret["stringData"].keys()


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_container_gets_settings_the_app_accepts(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.settings import Settings

    docs = _render(VALUE_SETS[name])
    expected = "duckdb" if VALUE_SETS[name].get("metadata", {}).get("backend", "embedded") == "embedded" else "postgres"
    for where, container in _containers(docs):
        env = _env(docs, container)
        with monkeypatch.context() as scoped:
            for key, value in env.items():
                if isinstance(value, dict) and "secretKeyRef" in value:  # what an operator's Secret holds
                    value = SECRET_PLACEHOLDERS.get(value["secretKeyRef"]["key"], "a-secret-value")
                elif isinstance(value, dict):
                    value = "10.244.0.7"  # the fieldRef: the pod's IP
                scoped.setenv(key, value.replace("$(POD_IP)", "10.244.0.7"))
            settings = Settings()  # raises on a value the app refuses ("embedded", a DSN missing, ...)
        assert settings.storage.metadata_backend == expected, where
        assert settings.auth.mode == "clerk" and settings.server.host == "0.0.0.0", where
        assert "10.244.0.7" in settings.server.allowed_hosts, where


def test_the_embedded_backend_is_the_apps_duckdb_file() -> None:
    docs = _render({})
    kinds = _kinds(docs)
    [config] = kinds["ConfigMap"]
    assert config["data"]["WORKBENCH_STORAGE__METADATA_BACKEND"] == "duckdb"
    [web] = kinds["Deployment"]
    pod = web["spec"]["template"]["spec"]
    for container in pod["initContainers"] + pod["containers"]:
        env = _env(docs, container)
        # One process migrates the file it owns, at start; nothing of PostgreSQL is asked for.
        assert "WORKBENCH_STORAGE__MIGRATE_AT_START" not in env and "WORKBENCH_STORAGE__METADATA_DSN" not in env
        assert "WORKBENCH_SERVER__EMBED_IN_WEB" not in env  # the web pod embeds its own uploads
    [policy] = kinds["NetworkPolicy"]
    assert 5432 not in _egress(policy["spec"])


def test_postgres_reads_the_dsn_from_the_secret_and_migrates_in_a_hook_first() -> None:
    docs = _render(POSTGRES)
    kinds = _kinds(docs)
    [config] = kinds["ConfigMap"]
    assert config["data"]["WORKBENCH_STORAGE__METADATA_BACKEND"] == "postgres"
    [web] = kinds["Deployment"]
    pod = web["spec"]["template"]["spec"]
    assert "initContainers" not in pod and web["spec"]["strategy"]["type"] == "RollingUpdate"
    env = _env(docs, pod["containers"][0])
    assert env["WORKBENCH_STORAGE__MIGRATE_AT_START"] == "false"  # the hook migrated; an old schema is refused
    assert env["WORKBENCH_STORAGE__METADATA_DSN"] == {"secretKeyRef": {
        "name": "wb-workbench-secrets", "key": "WORKBENCH_STORAGE__METADATA_DSN", "optional": False}}
    assert "WORKBENCH_SERVER__EMBED_IN_WEB" not in env  # no workers: the web pods embed
    [job] = kinds["Job"]
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"] and "envFrom" not in migrate  # the ConfigMap does not exist yet
    job_env = _env(docs, migrate)
    assert {k: v for k, v in job_env.items() if isinstance(v, str)} == {
        **config["data"], "WORKBENCH_SERVER__ALLOWED_HOSTS": env["WORKBENCH_SERVER__ALLOWED_HOSTS"]}
    assert job_env["WORKBENCH_STORAGE__METADATA_DSN"] == env["WORKBENCH_STORAGE__METADATA_DSN"]
    [secret] = kinds["Secret"]
    assert secret["stringData"]["WORKBENCH_STORAGE__METADATA_DSN"] == DSN
    # A pre-install hook runs before the release's own resources exist: everything the Job uses is a
    # hook of lower weight (its ServiceAccount, the trial Secret, its NetworkPolicy), or it would hang.
    hooks = {f"{d['kind']}/{d['metadata']['name']}": (d["metadata"]["annotations"]["helm.sh/hook"],
                                                       int(d["metadata"]["annotations"]["helm.sh/hook-weight"]))
             for d in docs if "helm.sh/hook" in d["metadata"].get("annotations", {})}
    assert hooks == {"ServiceAccount/wb-workbench-migrate": ("pre-install,pre-upgrade", -10),
                     "Secret/wb-workbench-secrets": ("pre-install,pre-upgrade", -10),
                     "NetworkPolicy/wb-workbench-migrate": ("pre-install,pre-upgrade", -5),
                     "Job/wb-workbench-migrate": ("pre-install,pre-upgrade", 0)}
    job_pod = job["spec"]["template"]["spec"]
    assert f"ServiceAccount/{job_pod['serviceAccountName']}" in hooks
    assert {f"Secret/{v['secretKeyRef']['name']}" for v in job_env.values() if isinstance(v, dict) and "secretKeyRef" in v} \
        == {"Secret/wb-workbench-secrets"}
    assert all("persistentVolumeClaim" not in v for v in job_pod["volumes"])
    policies = {p["metadata"]["name"]: p["spec"] for p in kinds["NetworkPolicy"]}
    assert _egress(policies["wb-workbench"]) == {53: [], 443: ["0.0.0.0/0"], 5432: ["0.0.0.0/0"]}


def test_workers_embed_and_the_web_pods_stop_embedding() -> None:
    docs = _render(WORKERS)
    deployments = {d["metadata"]["name"]: d["spec"] for d in _kinds(docs)["Deployment"]}
    [web] = deployments["wb-workbench-web"]["template"]["spec"]["containers"]
    [worker] = deployments["wb-workbench-worker"]["template"]["spec"]["containers"]
    assert web["args"] == ["serve"] and worker["args"] == ["worker"]
    assert _env(docs, web)["WORKBENCH_SERVER__EMBED_IN_WEB"] == "false"
    worker_env = _env(docs, worker)
    assert worker_env["WORKBENCH_STORAGE__MIGRATE_AT_START"] == "false"
    assert worker_env["WORKBENCH_LIBRARY__JOB_LEASE_SECONDS"] == "60"
    assert worker_env["WORKBENCH_STORAGE__METADATA_DSN"]["secretKeyRef"]["optional"] is False
    assert deployments["wb-workbench-web"]["replicas"] == 3 and deployments["wb-workbench-worker"]["replicas"] == 2


@pytest.mark.parametrize("values, message", [
    ({**POSTGRES, "backup": {"enabled": True}}, "`workbench backup` refuses a workbench whose metadata lives in "
                                                "PostgreSQL"),
    ({**POSTGRES, "backup": {"enabled": True}}, "pg_dump, and the pictures and vectors with azcopy"),
    ({**POSTGRES, "secrets": {"create": True, "values": {"clerkJwtKey": "pem"}}},
     "needs the PostgreSQL connection string in the Secret under the key WORKBENCH_STORAGE__METADATA_DSN"),
    ({**POSTGRES, "secrets": {}}, "set secrets.existingSecret to a Secret holding it"),
    ({"secrets": {"create": True, "values": {"postgresUrl": DSN}}}, "secrets.values.postgresUrl is not a key"),
])
def test_the_chart_refuses_a_postgres_install_the_app_would_refuse(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm_python.HelmError, match=re.escape(message)):
        _render(values)


def test_the_secret_key_names_are_the_apps() -> None:
    # The env var name is also the Secret's key: another name would reach the app as nothing.
    with pytest.raises(helm_python.HelmError, match="metadataDsn"):
        _render({**POSTGRES, "secrets": {**POSTGRES["secrets"], "keys": {"metadataDsn": "WORKBENCH_STORAGE__METADATA_URL"}}})
    with pytest.raises(helm_python.HelmError, match="postgresUrl"):
        _render({"secrets": {"keys": {"postgresUrl": "WORKBENCH_STORAGE__METADATA_URL"}}})


# -- the image's commands, run from a virtualenv built like the image ------------------
