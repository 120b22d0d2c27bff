"""The image library: upload, browse, tag, share and delete images.

An upload is stored in a crash-safe order (see :mod:`workbench.library.pipeline`):

1. the row (status ``pending``, blob keys known) and an ``embed`` job, in one transaction;
2. the original and the thumbnail in the blob store;
3. the row becomes ``stored``, and the upload returns;
4. a background worker embeds the image, writes the vector and marks it ``ready``.

A crash anywhere leaves something :meth:`Library.reconcile` can finish or remove.
"""

from __future__ import annotations

import builtins
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any

from store import BlobStore, MetadataStore, Tx, VectorStore, sha256_hex
from store.vectors import VectorFilter
from workbench.accounts import User
from workbench.errors import Conflict, Forbidden, InvalidInput, NotFound
from workbench.library.blob_refs import BlobBusy, hold, wait_for_deletion
from workbench.library.editing import Editing, clean_caption, clean_tags, tag_filter
from workbench.library.intake import clean_original, open_clean_original, prepare_image
from workbench.library.model import VISIBILITIES, IngestResult, LibraryImage
from workbench.limits import RateLimits
from workbench.settings import LibrarySettings

__all__ = ["Library", "StepHook", "IMAGE_SUFFIXES", "tag_filter"]

StepHook = Callable[[str, str], None]  # (step name, image id): progress for the UI, crash points for tests
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff"}
class _BeingDeleted(Exception):
    def __init__(self, image_id: str) -> None:
        super().__init__(image_id)
        self.image_id = image_id


class Library(Editing):
    """Everyone's images. Reached as ``wb.library``: ingest and browse here, edits in :class:`Editing`."""

    def __init__(self, db: MetadataStore, blobs: BlobStore, vectors: VectorStore, settings: LibrarySettings,
                 *, limits: RateLimits | None = None) -> None:
        self._db = db
        self._limits = limits
        self._blobs = blobs
        self._vectors = vectors
        self._settings = settings
        # Blobs are shared by content: the lock keeps "write a row that uses a
        # blob, then put the blob" and "check nobody uses a blob, then delete
        # it" from interleaving inside this process (the single writer).
        self.blob_lock = threading.RLock()
        self.pipeline: Any = None  # set by the Workbench: runs embed jobs for wait=True

    # -- ingest --------------------------------------------------------------
    def ingest(
        self,
        user: User,
        source: str | Path | bytes | IO[bytes],
        *,
        filename: str | None = None,
        tags: Iterable[str] = (),
        caption: str = "",
        visibility: str = "private",
        origin: str = "upload",
        wait: bool = False,
        on_step: StepHook | None = None,
    ) -> LibraryImage:
        """Add one image from a path, bytes or a file object; returns it (``processing`` until embedded).

        The same picture uploaded twice by the same person is stored once: the
        existing image is returned. ``wait=True`` (handy in notebooks) returns
        only once the image is searchable.

        >>> img = wb.library.ingest(me, "stills/alley.jpg", tags=["noir", "night"], wait=True)
        """
        return self.ingest_new(user, source, filename=filename, tags=tags, caption=caption, visibility=visibility,
                               origin=origin, wait=wait, on_step=on_step)[0]

    def ingest_new(
        self,
        user: User,
        source: str | Path | bytes | IO[bytes],
        *,
        filename: str | None = None,
        tags: Iterable[str] = (),
        caption: str = "",
        visibility: str = "private",
        origin: str = "upload",
        wait: bool = False,
        on_step: StepHook | None = None,
    ) -> tuple[LibraryImage, bool]:
        """Like :meth:`ingest`, also saying whether the image is new (False: already in the library)."""
        _signed_in(user)
        if origin == "upload" and self._limits is not None:
            self._limits.check(user.id, "upload")  # folder ingests, imports and samples are not uploads
        data, name = self._read_source(source, filename)
        if visibility not in VISIBILITIES:
            raise InvalidInput(f"Visibility must be one of {', '.join(VISIBILITIES)}.")
        # Every word the user gave is checked before the picture is: a refusal stores nothing.
        tag_list, caption = clean_tags(tags), clean_caption(caption)
        prepared = prepare_image(
            data, name, max_bytes=self._settings.max_bytes, max_pixels=self._settings.max_pixels,
            thumbnail_px=self._settings.thumbnail_px,
        )
        image_id = "img_" + uuid.uuid4().hex[:16]
        blob_key = sha256_hex(prepared.original)
        thumb_key = sha256_hex(prepared.thumbnail)

        def record(cur: Tx) -> str | None:
            # One image per owner and picture, decided inside the transaction: the same file
            # uploaded twice at once (two tabs, two replicas) gets the first one's image. If the
            # other insert commits between this read and ours, the unique key refuses ours and
            # the store runs this again, which then finds it.
            found = cur.one("SELECT id, status FROM images WHERE owner = ? AND sha256 = ?", [user.id, prepared.sha256])
            if found and found["status"] == "deleting":
                raise _BeingDeleted(str(found["id"]))
            if found:
                return str(found["id"])
            # The files' references, in this transaction: a delete of the same files elsewhere
            # and this upload take turns (BlobBusy: one is under way; wait for it, then store anew).
            hold(cur, [blob_key, thumb_key])
            cur.execute(
                "INSERT INTO images (id, owner, sha256, filename, mime, bytes, width, height, blob_key, thumb_key,"
                " colors, caption, visibility, source, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', now(), now())",
                [image_id, user.id, prepared.sha256, prepared.filename, prepared.mime, len(prepared.original),
                 prepared.width, prepared.height, blob_key, thumb_key, json.dumps(prepared.colors),
                 caption, visibility, origin],
            )
            for tag in tag_list:
                cur.execute("INSERT INTO image_tags VALUES (?, ?)", [image_id, tag])
            cur.execute(
                "INSERT INTO outbox (id, kind, subject, payload, status, attempts, last_error, available_at,"
                " created_at, updated_at) VALUES (?, 'embed', ?, '{}', 'pending', 0, '', now(), now(), now())",
                ["job_" + uuid.uuid4().hex[:16], image_id],
            )
            return None

        with self.blob_lock:
            existing = self._record(record)
            if existing is not None:
                if tag_list:
                    self.add_tags(user, existing, tag_list)
                return self.get(user, existing), False
            _step(on_step, "row_written", image_id)
            self._blobs.put(prepared.original)
            self._blobs.put(prepared.thumbnail)
            _step(on_step, "blob_written", image_id)
        self._db.execute("UPDATE images SET status = 'stored', updated_at = now() WHERE id = ?", [image_id])
        if wait and self.pipeline is not None:
            self.pipeline.run_jobs(subject=image_id, on_step=on_step)
        elif self.pipeline is not None:
            self.pipeline.notify()
        return self.get(user, image_id), True

    def _record(self, record: Callable[[Tx], str | None]) -> str | None:
        """Run an upload's recording transaction, waiting out a delete of the same picture or files."""
        patience = self._settings.job_lease_seconds
        for _ in range(20):
            try:
                return self._db.write(record)
            except _BeingDeleted as gone:
                # The same person's earlier copy is being deleted (here or on another replica): finish
                # that delete (each step repeats safely), then this upload is a new image.
                if self.pipeline is None:
                    raise Conflict("This picture is being removed from your library; upload it again in a moment.") \
                        from None
                self.pipeline.purge(gone.image_id)
            except BlobBusy as busy:
                wait_for_deletion(self._db, self._blobs, busy.key, patience=patience)
        raise Conflict("This picture kept being deleted while it was uploaded; try again.")

    def ingest_many(
        self,
        user: User,
        files: Iterable[tuple[str, bytes | IO[bytes] | Path]],
        *,
        tags: Iterable[str] = (),
        visibility: str = "private",
        progress: Callable[[int, int, str], None] | None = None,
        wait: bool = False,
        origin: str = "upload",
    ) -> IngestResult:
        """Add several images; one bad file does not stop the others.

        ``progress(done, total, filename)`` is called after each file (the UI's
        progress bar; notebooks get a tqdm bar from :meth:`ingest_folder`).
        """
        batch = list(files)
        result = IngestResult()
        # wait=True embeds in batches on a second thread while the files are stored, instead
        # of one image at a time after each (see Pipeline.embedding_alongside).
        waiting = self.pipeline.embedding_alongside() if wait and self.pipeline is not None else nullcontext(set())
        with waiting as ids:
            for done, (name, source) in enumerate(batch, start=1):
                try:
                    image, new = self.ingest_new(user, source, filename=name, tags=tags, visibility=visibility,
                                                 origin=origin)
                    (result.added if new else result.duplicates).append(image)
                    ids.add(image.id)
                except InvalidInput as error:
                    result.errors[name] = str(error)
                if progress:
                    progress(done, len(batch), name)
        if wait:  # as they are now: ready (or failed, with the reason in the caption)
            now = self.get_many([i.id for i in result.added + result.duplicates])
            result.added = [now.get(i.id, i) for i in result.added]
            result.duplicates = [now.get(i.id, i) for i in result.duplicates]
        return result

    def ingest_folder(
        self, user: User, folder: str | Path, *, tags: Iterable[str] = (), wait: bool = True,
        progress_bar: bool = True,
    ) -> IngestResult:
        """Add every image under a folder (recursively), with a tqdm progress bar.

        >>> result = wb.library.ingest_folder(me, "~/location-scout")
        >>> len(result.added), result.errors
        """
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise InvalidInput(f"{root} is not a folder.")
        paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        bar = None
        if progress_bar:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(paths), desc="Adding images", unit="img")

        def tick(done: int, total: int, name: str) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(name[-30:])

        try:
            return self.ingest_many(user, [(str(p.relative_to(root)), p) for p in paths], tags=tags,
                                    progress=tick, wait=wait, origin="folder")
        finally:
            if bar is not None:
                bar.close()

    def _read_source(self, source: str | Path | bytes | IO[bytes], filename: str | None) -> tuple[bytes, str]:
        limit = self._settings.max_bytes
        if isinstance(source, (bytes, bytearray)):
            return bytes(source), filename or "upload"
        if isinstance(source, (str, Path)):
            path = Path(source).expanduser()
            if not path.is_file():
                raise InvalidInput(f"{path} is not a file.")
            if path.stat().st_size > limit:
                raise InvalidInput(
                    f"{path.name} is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.1f} MB."
                )
            return path.read_bytes(), filename or path.name
        if hasattr(source, "read"):
            data = source.read(limit + 1)  # never read more than the cap (+1 to detect "too big")
            # A temporary file's name is its descriptor (an int) or None: only a str names the picture.
            name = getattr(source, "name", None)
            return data, filename or (name if isinstance(name, str) and name else "upload")
        raise InvalidInput("An image must be given as a path, bytes or an open file.")

    # -- reading -------------------------------------------------------------
    def get(self, user: User, image_id: str) -> LibraryImage:
        """One image the user may see (their own, or team/public)."""
        image = self._load(image_id)
        if image is None or not self.can_see(user, image):
            raise NotFound(f"No image {image_id} in your library.")
        return image

    def get_many(self, ids: list[str]) -> dict[str, LibraryImage]:
        """Images by id, without access checks (callers check)."""
        if not ids:
            return {}
        rows = self._db.query("SELECT * FROM images WHERE list_contains(?, id)", [ids])
        tags = self._tags_for([r["id"] for r in rows])
        return {r["id"]: LibraryImage.from_row(r, tags.get(r["id"], [])) for r in rows}

    def _load(self, image_id: str) -> LibraryImage | None:
        return self.get_many([image_id]).get(image_id)

    @staticmethod
    def can_see(user: User | None, image: LibraryImage) -> bool:
        """Whether a user may see an image (an anonymous viewer sees only public ones)."""
        if image.status == "deleting":
            return False
        if image.visibility == "public":
            return True
        return user is not None and (image.owner == user.id or image.visibility == "team")

    def _tags_for(self, ids: list[str]) -> dict[str, list[str]]:
        tags: dict[str, list[str]] = {}
        if ids:
            for row in self._db.query("SELECT image_id, tag FROM image_tags WHERE list_contains(?, image_id)", [ids]):
                tags.setdefault(row["image_id"], []).append(row["tag"])
        return tags

    def list(
        self, user: User, *, scope: str = "mine", tag: str | None = None, offset: int = 0, limit: int = 60
    ) -> list[LibraryImage]:
        """A page of images, newest first. ``scope``: ``mine``, ``shared`` (team/public) or ``all``."""
        where, params = self.visibility_sql(user, scope)
        if tag:
            where += " AND id IN (SELECT image_id FROM image_tags WHERE tag = ?)"
            params.append(tag_filter(tag))
        rows = self._db.query(
            f"SELECT * FROM images WHERE {where} AND status <> 'deleting'"
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        tags = self._tags_for([r["id"] for r in rows])
        return [LibraryImage.from_row(r, tags.get(r["id"], [])) for r in rows]

    def count(self, user: User, *, scope: str = "mine") -> int:
        """How many images the scope holds."""
        where, params = self.visibility_sql(user, scope)
        return int(self._db.scalar(f"SELECT count(*) FROM images WHERE {where} AND status <> 'deleting'", params))

    @staticmethod
    def visibility_sql(user: User, scope: str) -> tuple[str, builtins.list[Any]]:
        """The SQL condition for a browsing scope."""
        _signed_in(user)
        if scope == "mine":
            return "owner = ?", [user.id]
        if scope == "shared":
            return "owner <> ? AND visibility IN ('team', 'public')", [user.id]
        if scope == "all":
            return "(owner = ? OR visibility IN ('team', 'public'))", [user.id]
        raise InvalidInput("Scope must be 'mine', 'shared' or 'all'.")

    @staticmethod
    def vector_where(user: User, scope: str = "all") -> VectorFilter:
        """The vector prefilter for the same scopes as :meth:`visibility_sql` (never another user's private image).

        >>> Library.vector_where(me, "mine") == VectorFilter(owners={me.id})
        True
        """
        _signed_in(user)
        shared = ("team", "public")
        if scope == "mine":
            return VectorFilter(owners={user.id})
        if scope == "shared":
            return VectorFilter(not_owners={user.id}, visibility=shared)
        if scope == "all":
            return VectorFilter(owner_or_visible=(user.id, shared))
        raise InvalidInput("Scope must be 'mine', 'shared' or 'all'.")

    def thumbnail(self, user: User | None, image_id: str) -> bytes:
        """The thumbnail bytes (WebP) of an image the user may see."""
        image = self._load(image_id)
        if image is None or not self.can_see(user, image):
            raise NotFound(f"No image {image_id}.")
        return self._blobs.get(image.thumb_key)

    def original(self, user: User | None, image_id: str) -> bytes:
        """The original of an image the user may see, without any location (see :meth:`clean_original`)."""
        image = self._load(image_id)
        if image is None or not self.can_see(user, image):
            raise NotFound(f"No image {image_id}.")
        return self.clean_original(image)

    def clean_original(self, image: LibraryImage) -> bytes:
        """An original as it may be handed out: no GPS, XMP or IPTC; access is checked by the caller.

        Intake already stores originals this way; libraries stored before the XMP
        and IPTC rule may still hold a location, so whatever hands an original out
        (downloads, board ZIPs) goes through here, never through the raw blob.
        """
        return clean_original(self._blobs.get(image.blob_key), image.filename)

    @contextmanager
    def clean_original_stream(self, image: LibraryImage) -> Iterator[tuple[int, Callable[[IO[bytes]], int]]]:
        """Like :meth:`clean_original` for exports: yields (size, write), where ``write(out)``
        streams the cleaned original 1 MB at a time; access is checked by the caller."""
        with self._blobs.open(image.blob_key) as stream:
            yield open_clean_original(stream, image.filename)

    def open_original(self, image: LibraryImage) -> IO[bytes]:
        """A stream of the stored original as it is in storage (integrity checks, not for handing out)."""
        return self._blobs.open(image.blob_key)

    def files_present(self, image: LibraryImage) -> bool:
        """Whether the original and the thumbnail are both in the blob store (exports check first)."""
        return self._blobs.exists(image.blob_key) and self._blobs.exists(image.thumb_key)

    def open_thumbnail(self, image: LibraryImage) -> IO[bytes]:
        """A stream of a thumbnail (boards, exports); access is checked by the caller."""
        return self._blobs.open(image.thumb_key)


def _signed_in(user: User | None) -> None:
    # Browsing, searching and uploading are a library's owner's; an anonymous share-link
    # holder sees only the pictures of the board the link opens (Boards.board_image).
    if user is None:
        raise Forbidden("Sign in to browse, search or add to a library.")


def _step(hook: StepHook | None, name: str, image_id: str) -> None:
    if hook is not None:
        hook(name, image_id)

