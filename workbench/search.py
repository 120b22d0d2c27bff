"""Finding images: by words, by an example picture, or both.

Every search is prefiltered inside LanceDB to what the acting user may see
(their own images plus team and public ones), so another user's private
image is never scored, let alone returned.

>>> hits = wb.search.by_text(me, "a cat on a windowsill", limit=12)
>>> hits[0].image.filename, round(hits[0].score, 2)

One query type steers it all (words + example stills + filters + threshold + sort + page),
with scores calibrated per model so one threshold means the same for every query:

>>> page = wb.search.run(me, SearchQuery(text="a cat", examples=(still.id,), text_weight=0.7, min_score=0.5))
>>> page.total, [round(h.score, 2) for h in page.hits], page.next_page
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from store import MetadataStore, VectorStore
from store.vectors import VectorFilter
from workbench.accounts import User
from workbench.errors import InvalidInput
from workbench.library.catalog import Library, tag_filter
from workbench.library.intake import prepare_image, search_still
from workbench.library.model import LibraryImage
from workbench.library.pipeline import Pipeline
from workbench.search_hybrid import run_query
from workbench.search_query import SavedSearch, SearchPage, SearchQuery
from workbench.search_saved import SavedSearches
from workbench.text import clean_text

__all__ = ["Search", "SearchHit", "SearchQuery", "SearchPage", "SavedSearch", "thumbnail_url", "original_url"]

ImageQuery = str | Path | bytes | IO[bytes] | Image.Image


def thumbnail_url(image_id: str) -> str:
    """Where the web app serves an image's thumbnail (access checked per request)."""
    return f"/media/thumb/{image_id}"


def original_url(image_id: str) -> str:
    """Where the web app serves an image's original."""
    return f"/media/original/{image_id}"


@dataclass(frozen=True)
class SearchHit:
    """One search result: the image, how close it is, and its thumbnail URL.

    From :meth:`Search.run`, ``score`` is calibrated (0..1, comparable across queries) and
    ``raw_score`` is the cosine; the older methods give the cosine as ``score`` and no ``raw_score``.
    """

    image: LibraryImage
    score: float
    thumbnail_url: str
    raw_score: float | None = None


class Search:
    """Similarity search over the library. Reached as ``wb.search``."""

    def __init__(self, library: Library, pipeline: Pipeline, vectors: VectorStore, library_limits: Any,
                 *, db: MetadataStore | None = None, boards: Any = None) -> None:
        self._library = library
        self._pipeline = pipeline
        self._vectors = vectors
        self._limits = library_limits
        # Saved searches need the metadata store; search inside a board needs the boards domain
        # (the Workbench builds both before search). Without them those two features say so.
        self._saved: SavedSearches | None = SavedSearches(db) if db is not None else None
        self._boards: Any = boards

    # -- the steerable query ---------------------------------------------------
    def run(self, user: User, query: SearchQuery) -> SearchPage:
        """One page of results for words and/or example stills, filters, a threshold and a sort.

        Scores are calibrated per embedder model (``workbench/search_calibration.py``): 0.5 means
        as likely relevant as not, for any query. ``page.next_page`` asks for the next page.

        >>> page = wb.search.run(me, SearchQuery(text="a horse", min_score=0.5, sort="newest"))
        """
        if not isinstance(query, SearchQuery):
            raise InvalidInput("Pass a SearchQuery, e.g. SearchQuery(text='a cat').")
        boards = self._boards
        board_images = None if boards is None else (
            lambda who, board_id: {i.image_id for i in boards.get(who, board_id).items if i.image_id})
        return run_query(
            user, query, library=self._library, vectors=self._vectors, table=self._pipeline.table,
            embedder=self._pipeline.embedder, example_vectors=self._example_vectors, board_images=board_images,
            hit=lambda image, score, cosine: SearchHit(image, score, thumbnail_url(image.id), cosine),
        )

    def _example_vectors(self, user: User, image_ids: tuple[str, ...]) -> list[np.ndarray]:
        images = [self._library.get(user, i) for i in image_ids]  # NotFound for a still they may not see
        stored = self.stored_vectors([i.id for i in images])
        return [stored[i.id] if i.id in stored else self._embed_picture(self._library.thumbnail(user, i.id))
                for i in images]

    # -- saved searches ----------------------------------------------------------
    @property
    def _saved_searches(self) -> SavedSearches:
        if self._saved is None:
            raise InvalidInput("Saved searches are not available here (no metadata store was connected).")
        return self._saved

    def save(self, user: User, name: str, query: SearchQuery) -> SavedSearch:
        """Keep a search, threshold included, under a name (the same name again replaces it)."""
        return self._saved_searches.save(user, name, query)

    def saved(self, user: User) -> list[SavedSearch]:
        """The person's own saved searches, by name."""
        return self._saved_searches.list(user)

    def get_saved(self, user: User, saved_id: str) -> SavedSearch:
        """One of the person's saved searches; run it with ``wb.search.run(me, saved.query)``."""
        return self._saved_searches.get(user, saved_id)

    def delete_saved(self, user: User, saved_id: str) -> None:
        """Forget one of the person's saved searches."""
        self._saved_searches.delete(user, saved_id)

    # -- queries -------------------------------------------------------------
    def by_text(self, user: User, text: str, *, limit: int = 24, **filters: Any) -> list[SearchHit]:
        """Images that match a description ("rain on a neon street")."""
        text = clean_text(text, field="search", max_chars=1000, truncate=True)
        if not text:
            raise InvalidInput("Type a few words to search for.")
        vector = self._pipeline.embedder.embed_texts([text[:1000]])[0]
        return self.by_vector(user, vector, limit=limit, **filters)

    def by_image(self, user: User, picture: ImageQuery, *, limit: int = 24, **filters: Any) -> list[SearchHit]:
        """Images that look like an example picture (not added to the library)."""
        return self.by_vector(user, self._embed_picture(picture), limit=limit, **filters)

    def similar_to(self, user: User, image_id: str, *, limit: int = 24, **filters: Any) -> list[SearchHit]:
        """Images that look like one already in the library ("find similar"), excluding itself."""
        image = self._library.get(user, image_id)
        vector = self._stored_vector(image.id)
        if vector is None:
            vector = self._embed_picture(self._library.thumbnail(user, image.id))
        exclude = {image.id, *filters.pop("exclude", ())}
        return self.by_vector(user, vector, limit=limit, exclude=exclude, **filters)

    def combined(
        self, user: User, text: str, picture: ImageQuery | None = None, *, image_id: str | None = None,
        text_weight: float = 0.5, limit: int = 24, **filters: Any,
    ) -> list[SearchHit]:
        """Images close to both a description and an example ("like this, but at night").

        ``text_weight`` (0..1) says how much the words count against the picture.
        """
        if not 0.0 <= text_weight <= 1.0:
            raise InvalidInput("The text weight must be between 0 and 1.")
        if picture is None and image_id is None:
            return self.by_text(user, text, limit=limit, **filters)
        if image_id is not None:
            stored = self._stored_vector(self._library.get(user, image_id).id)
            visual = stored if stored is not None else self._embed_picture(self._library.thumbnail(user, image_id))
            filters["exclude"] = {image_id, *filters.get("exclude", ())}
        else:
            visual = self._embed_picture(picture)  # type: ignore[arg-type]
        text = clean_text(text, field="search", max_chars=1000, truncate=True)
        words = self._pipeline.embedder.embed_texts([text])[0] if text else np.zeros_like(visual)
        blend = text_weight * words + (1 - text_weight) * visual
        norm = float(np.linalg.norm(blend))
        return self.by_vector(user, blend / norm if norm else visual, limit=limit, **filters)

    def by_vector(
        self,
        user: User,
        vector: Sequence[float] | np.ndarray,
        *,
        limit: int = 24,
        scope: str = "all",
        tags: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        exclude: Iterable[str] = (),
    ) -> list[SearchHit]:
        """The nearest visible images to a vector, with filters on scope, tags and dates."""
        if not 1 <= limit <= 500:
            raise InvalidInput("Ask for between 1 and 500 results.")
        if isinstance(tags, str):
            tags = [tags]
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and not isinstance(moment, datetime):
                raise InvalidInput(f"'{name}' must be a date and time, e.g. datetime(2026, 11, 1).")
        if isinstance(exclude, str):  # exclude="img1" means one image, not its letters
            exclude = [exclude]
        skip = frozenset(exclude)
        if not all(isinstance(i, str) for i in skip):
            raise InvalidInput("'exclude' takes image ids (text).")
        # The store renders and quotes the filter: a tag like "50%" or "o'brien" matches only itself.
        where = self._library.vector_where(user, scope) & VectorFilter(
            tags_all=[tag_filter(tag) for tag in tags], since=since, until=until, exclude_ids=skip,
        )
        table = self._pipeline.table
        if not self._vectors.count(table):
            return []
        raw = self._vectors.search(table, vector, where=where, limit=limit, columns=["id"])
        images = self._library.get_many([r["id"] for r in raw])
        hits = []
        for row in raw:
            image = images.get(row["id"])
            if image is None or not self._library.can_see(user, image):  # the row is the truth, not the vector
                continue
            hits.append(SearchHit(image, 1.0 - float(row["_distance"]), thumbnail_url(image.id)))
        return hits[:limit]

    # -- vectors -------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        """The active embedder (what turns words and pictures into query vectors)."""
        return self._pipeline.embedder

    def stored_vectors(self, image_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these images under the active model (missing ones are left out).

        No access check: callers pass ids the acting user may see.
        """
        if not image_ids:
            return {}
        rows = self._vectors.get(self._pipeline.table, list(dict.fromkeys(image_ids)), columns=["id", "vector"])
        return {r["id"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}

    def vectors(self, user: User, image_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of images the user may see, shape ``(n, dimension)``, in the given order.

        Raises :class:`NotFound` for an image the user may not see; an image not
        yet embedded gets a row of zeros.
        """
        for image_id in image_ids:
            self._library.get(user, image_id)
        stored = self.stored_vectors(image_ids)
        dimension = self.embedder.dimension
        return np.stack([stored.get(i, np.zeros(dimension, dtype=np.float32)) for i in image_ids]) \
            if image_ids else np.zeros((0, dimension), dtype=np.float32)

    def _stored_vector(self, image_id: str) -> np.ndarray | None:
        return self.stored_vectors([image_id]).get(image_id)

    def _embed_picture(self, picture: ImageQuery) -> np.ndarray:
        # The example picture is the user's bytes: it goes through the same checks as an
        # upload (prepare_image), so a hostile file gives InvalidInput and nothing else.
        if isinstance(picture, Image.Image):
            still = search_still(picture, self._limits.thumbnail_px)
        else:
            if isinstance(picture, (str, Path)):
                path = Path(picture).expanduser()
                if not path.is_file():
                    raise InvalidInput(f"{path} is not a file.")
                if path.stat().st_size > self._limits.max_bytes:  # never read a huge file only to refuse it
                    raise InvalidInput(f"{path.name} is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is "
                                       f"{self._limits.max_bytes / 1024 / 1024:.1f} MB.")
                data, name = path.read_bytes(), path.name
            elif isinstance(picture, (bytes, bytearray)):
                data, name = bytes(picture), "query image"
            elif hasattr(picture, "read"):
                data, name = picture.read(self._limits.max_bytes + 1), "query image"
            else:
                raise InvalidInput("An example picture must be a path, bytes, an open file or a Pillow image.")
            if not isinstance(data, bytes):
                raise InvalidInput("An example picture must be opened in binary mode ('rb').")
            prepared = prepare_image(data, name, max_bytes=self._limits.max_bytes,
                                     max_pixels=self._limits.max_pixels, thumbnail_px=self._limits.thumbnail_px)
            still = Image.open(io.BytesIO(prepared.thumbnail)).convert("RGB")
        return np.asarray(self._pipeline.embedder.embed_images([still])[0], dtype=np.float32)
