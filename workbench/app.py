"""The ``Workbench`` facade: one object per domain, built from the settings.

A notebook and the web app open it the same way::

    import workbench
    wb = workbench.open()                 # embedded default, or the environment's settings
    me = wb.accounts.local_user()
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from store import BlobStore, Engine, MetadataStore, VectorStore, azure_storage_options
from store.bus import event_bus
from workbench.accounts import Accounts
from workbench.boards import Boards
from workbench.library.catalog import Library
from workbench.library.model import IngestResult
from workbench.library.pipeline import Pipeline, ReconcileReport
from workbench.limits import RateLimits
from workbench.magic import MagicBoards
from workbench.samples import load_samples
from workbench.search import Search
from workbench.settings import Settings
from workbench.storyboards import Storyboards
from workbench.suggestions import Suggestions
from workbench.writing.studio import Writing

__all__ = ["Workbench", "open_workbench", "build_blob_store", "build_vector_store", "build_metadata_store",
           "metadata_engine"]

log = logging.getLogger(__name__)


def _azure_fsspec_options(settings: Settings) -> dict[str, str]:
    creds = settings.azure_credentials()
    if "connection_string" in creds:
        return {"connection_string": creds["connection_string"]}
    return {k: v for k, v in creds.items() if k in ("account_name", "account_key")}


def _is_azure(url: str) -> bool:
    return url.startswith(("az://", "abfs://", "abfss://"))


def metadata_engine(settings: Settings) -> Engine:
    """Which backend holds the metadata, from ``settings.storage`` (the embedded DuckDB file by default)."""
    storage = settings.storage
    dsn = storage.metadata_dsn.get_secret_value() if storage.metadata_dsn else ""
    return Engine(backend=storage.metadata_backend, path=storage.metadata_path, dsn=dsn,
                  data_path=storage.metadata_data_path)


def build_metadata_store(settings: Settings, *, read_only: bool = False, migrate: bool | None = None,
                         refuse_old_schema: bool = True) -> MetadataStore:
    """The metadata store the settings name; ``migrate`` overrides ``migrate_at_start``.

    ``refuse_old_schema=False`` opens a database with pending migrations without applying
    them (``workbench migrate`` and ``doctor`` look at it first).
    """
    return MetadataStore(engine=metadata_engine(settings), read_only=read_only,
                         checkpoint_seconds=settings.storage.checkpoint_seconds or None,
                         migrate_at_start=settings.storage.migrate_at_start if migrate is None else migrate,
                         refuse_old_schema=refuse_old_schema)


def build_blob_store(settings: Settings) -> BlobStore:
    """The blob store named by ``settings.storage.blob_url``."""
    url = settings.storage.blob_url
    return BlobStore(url, _azure_fsspec_options(settings) if _is_azure(url) else None)


def build_vector_store(settings: Settings) -> VectorStore:
    """The vector store named by ``settings.storage.vector_url``."""
    url = settings.storage.vector_url
    if _is_azure(url):
        return VectorStore(
            url,
            storage_options=azure_storage_options(url, settings.azure_credentials()),
            fsspec_options=_azure_fsspec_options(settings),
            index_threshold=settings.storage.vector_index_threshold,
            read_consistency_seconds=settings.storage.vector_read_consistency_seconds,
        )
    Path(url).mkdir(parents=True, exist_ok=True)
    return VectorStore(url, index_threshold=settings.storage.vector_index_threshold,
                       read_consistency_seconds=settings.storage.vector_read_consistency_seconds)


class Workbench:
    """Every domain of the product, sharing one set of stores.

    Attributes: ``accounts``, ``library``, ``search``, ``writing``, ``boards``,
    ``suggestions``, ``magic`` (each documented on its class).
    """

    def __init__(self, settings: Settings | None = None, *, read_only: bool = False) -> None:
        self.settings = settings or Settings()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.db = build_metadata_store(self.settings, read_only=read_only)
        # Reservations made before this moment belong to a process that died during an AI call
        # (read from the database so it is on the same clock as the ledger's timestamps).
        self._opened_at: datetime = self.db.scalar("SELECT now()::TIMESTAMP")
        self.blobs = build_blob_store(self.settings)
        self.vectors = build_vector_store(self.settings)
        self._models_lock = threading.Lock()
        self._embedder: Any = None
        self._text: Any = None
        self._images: Any = None
        # Set once the embedder has answered a first text and image query (see warm_up).
        self._search_ready = threading.Event()
        self._warming: threading.Thread | None = None
        # Per-person rate limits (AI, uploads, share links), keyed on the user the service layer is given.
        self.limits = RateLimits(self.settings.limits)
        self.accounts = Accounts(
            self.db, self.settings.credits,
            local_email=self.settings.auth.local_user_email, local_plan=self.settings.auth.local_user_plan,
            limits=self.limits,
        )
        self.library = Library(self.db, self.blobs, self.vectors, self.settings.library, limits=self.limits)
        self.pipeline = Pipeline(self.db, self.blobs, self.vectors, self.library, self._get_embedder,
                                 batch_size=self.settings.embedder.batch_size,
                                 lease_seconds=self.settings.library.job_lease_seconds)
        self.writing = Writing(self.db, self.accounts, self._get_text_backend)
        # Board events: in-process on the DuckDB file, PostgreSQL LISTEN/NOTIFY when replicas share the metadata.
        self.bus = event_bus(self.db.engine)
        self.boards = Boards(self.db, self.library, self.writing, accounts=self.accounts, limits=self.limits,
                             bus=self.bus)
        self.search = Search(self.library, self.pipeline, self.vectors, self.settings.library, db=self.db,
                             boards=self.boards)
        self.suggestions = Suggestions(self.accounts, self.boards, self.search, self.library, self._get_text_backend)
        self.magic = MagicBoards(self.accounts, self.boards, self.library, self.search,
                                 self._get_text_backend, self._get_image_backend)
        self.storyboards = Storyboards(self.db, self.accounts, self.boards, self.writing, self.library, self.search, self._get_image_backend)

    # -- lazily built AI backends (never loaded by code that does not use them) --
    def _get_embedder(self) -> Any:
        with self._models_lock:
            if self._embedder is None:
                from workbench.embed import build_embedder

                self._embedder = build_embedder(self.settings.embedder)
            return self._embedder

    def _get_text_backend(self) -> Any:
        with self._models_lock:
            if self._text is None:
                from workbench.ai import build_text_backend

                self._text = build_text_backend(self.settings)
            return self._text

    def _get_image_backend(self) -> Any:
        with self._models_lock:
            if self._images is None:
                from workbench.ai import build_image_backend

                self._images = build_image_backend(self.settings)
            return self._images

    @property
    def embedder(self) -> Any:
        """The active embedder (loaded on first use)."""
        return self._get_embedder()

    # -- warm start ------------------------------------------------------------
    def warm_up(self) -> threading.Thread:
        """Load the embedder on a background thread, so the first search answers at once.

        The web app calls this at start-up; it returns immediately, and calling it
        again does nothing new. The model stays loaded for the life of the process
        (nothing here ever unloads it: a reload is what makes a first search slow).
        :attr:`search_ready` says when it is done.

        >>> wb.warm_up(); wb.wait_for_search(timeout=60)
        True
        """
        with self._models_lock:
            if self._warming is None:
                self._warming = threading.Thread(target=self._warm, name="workbench-warm-up", daemon=True)
                self._warming.start()
            return self._warming

    def _warm(self) -> None:
        try:
            from PIL import Image

            embedder = self._get_embedder()
            query = embedder.embed_texts(["a still from a film"])[0]
            embedder.embed_images([Image.new("RGB", (64, 64), (128, 128, 128))])
            table = self.pipeline.table
            if self.vectors.count(table):  # opens the table and reads its index once
                self.vectors.search(table, query, limit=1, columns=["id"])
        except Exception:  # a search will raise the same error where the user can see it
            log.exception("warming up the search failed")
        finally:
            self._search_ready.set()

    @property
    def search_ready(self) -> bool:
        """Whether a search would answer now, without first loading the model (see :meth:`warm_up`)."""
        return self._search_ready.is_set()

    def wait_for_search(self, timeout: float | None = None) -> bool:
        """Start warming up if nobody has, then wait until search is ready; False if ``timeout`` ran out."""
        self.warm_up()
        return self._search_ready.wait(timeout)

    def load_samples(self, *, wait: bool = False) -> IngestResult:
        """Add the public-domain sample photos as public images (a second call adds nothing)."""
        return load_samples(self.accounts, self.library, wait=wait)

    # -- lifecycle -----------------------------------------------------------
    def reconcile(self) -> ReconcileReport:
        """Finish or undo half-done work left by a crash (run at start-up and on demand)."""
        report = self.pipeline.reconcile()
        # Alone on the database, every reservation older than this process is a dead one's. With
        # other processes writing, only one open for longer than any AI call takes.
        before = self._opened_at
        if self.db.shared:
            now: datetime = self.db.scalar("SELECT now()::TIMESTAMP")
            before = now - timedelta(seconds=self.settings.credits.abandoned_after_seconds)
        report.reservations_refunded = self.accounts.refund_abandoned(before=before)
        return report

    def start_worker(self) -> None:
        """Start embedding uploads in the background (the web app calls this)."""
        self.pipeline.start()

    def close(self) -> None:
        """Stop the worker (and let a running warm-up finish), then close the database."""
        self.pipeline.stop()
        if self._warming is not None:
            # A warm-up still inside torch or LanceDB when the process exits aborts it.
            self._warming.join(timeout=120)
        self.bus.close()  # before the database: the bus's thread reads events through it
        self.db.close()

    def __enter__(self) -> Workbench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workbench(settings: Settings | None = None, **overrides: Any) -> Workbench:
    """Open a workbench: the embedded default, the environment's settings, or explicit ones.

    >>> wb = open_workbench(home="/tmp/scratch")        # an explicit argument wins
    """
    if overrides:
        settings = Settings(**overrides) if settings is None else settings.model_copy(update=overrides)
    return Workbench(settings)
