"""checkov scans the rendered chart and the Dockerfile offline: no finding left unexplained.

checkov runs from a virtualenv of its own, built from ``deploy/checkov.lock``: it pins
``packaging<24``, which the project's lock cannot hold, so it cannot live in ``.venv``.
The virtualenv is kept in the temp folder keyed by that lock (the first build takes
~1.5 min from PyPI; later runs reuse it). Offline checkov gives no severities, so every
failed check counts: each must be fixed or skipped in the chart and listed in the chart
README's "Security scan" table.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python
import pytest

from tests.test_deploy import DOCKERFILE, REPO
from tests.test_helm_chart import CHART, VALUE_SETS

LOCK = REPO / "deploy" / "checkov.lock"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def checkov() -> Path:
    key = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    venv = Path(os.environ.get("TMPDIR", "/tmp")) / f"workbench-checkov-{key}"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        # --no-deps: the lock is the whole closure, pinned; nothing else is resolved.
        installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "-r", str(LOCK)],
                                   capture_output=True, text=True, timeout=900)
        assert installed.returncode == 0, f"checkov could not be installed from {LOCK}:\n{installed.stderr[-3000:]}"
        (venv / ".complete").touch()
    return venv / "bin" / "checkov"


def _write_manifests(values: dict[str, Any], folder: Path) -> None:
    rendered = helm_python.Chart.load(CHART).render(values=values, name="wb", namespace="studio")
    folder.mkdir(parents=True)
    for name, text in rendered.items():
        if text.strip():
            (folder / name.replace("/", "_")).write_text(text)


def _readme_skips() -> set[str]:
    section = (CHART / "README.md").read_text().split("## Security scan", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(CKV_[A-Z0-9_]+)`", section, re.M))


@pytest.fixture(scope="module")
def scan(checkov: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One checkov run over every value set's manifests and the Dockerfile, by framework."""
    root = tmp_path_factory.mktemp("manifests")
    sets = {**VALUE_SETS, "production pinned by digest": {**VALUE_SETS["production"], "image": {
        **VALUE_SETS["production"].get("image", {}), "repository": "studio.azurecr.io/workbench", "digest": DIGEST}}}
    for index, values in enumerate(sets.values()):
        _write_manifests(values, root / f"set{index}")
    (root / "image").mkdir()
    shutil.copy(DOCKERFILE, root / "image" / "Dockerfile")  # checkov reads -d alone when given -d and -f
    # A clean environment: no API key, no proxy, nothing that would make checkov phone home.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "LOG_LEVEL": "WARNING"}
    result = subprocess.run([str(checkov), "-d", str(root), "--framework", "kubernetes",
                             "dockerfile", "--skip-download", "--output", "json", "--compact"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=root)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1: findings, reported below
    reports = json.loads(result.stdout)
    return {report["check_type"]: report for report in (reports if isinstance(reports, list) else [reports])}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_checkov_finds_nothing_unexplained_in_the_chart_and_the_dockerfile(scan) -> None:
    assert scan.keys() == {"kubernetes", "dockerfile"}
    for report in scan.values():
        assert report["summary"]["parsing_errors"] == 0
        failed = [(c["check_id"], c["check_name"], c["resource"]) for c in report["results"]["failed_checks"]]
        assert failed == [], failed
    skipped = {c["check_id"] for report in scan.values() for c in report["results"]["skipped_checks"]}
    assert skipped == _readme_skips()  # every skip explained in the chart README, and no stale row there
    for report in scan.values():
        for check in report["results"]["skipped_checks"]:
            assert len(check["check_result"]["suppress_comment"]) > 20, check  # a reason, not "No comment"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_pinning_the_image_by_digest_passes_the_digest_checks_without_a_skip(scan) -> None:
    kubernetes = scan["kubernetes"]["results"]
    pinned = [c for c in kubernetes["passed_checks"] if c["check_id"] in ("CKV_K8S_43", "CKV_K8S_15")]
    assert pinned, "no workload was pinned by digest"
    assert {c["check_id"] for c in pinned} == {"CKV_K8S_43", "CKV_K8S_15"}
    pinned_set = f"/set{len(VALUE_SETS)}/"  # the scan fixture adds it after VALUE_SETS
    assert all(pinned_set in c["file_abs_path"] for c in pinned)  # only the set that sets image.digest
