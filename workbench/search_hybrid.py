"""Running a :class:`SearchQuery`: one query vector, the filter pushed into the vector store, calibrated scores.

Words and example stills become one vector for the index: the weighted sum of
the unit word vector and the unit mean of the examples, normalised again. That is
one vector-store query with the filter pushed down, and it finds the candidates.

Words-only and picture-only queries score each candidate by its one cosine through
that kind's curve, so the score falls with the rank and paging is a slice. A query
with both *fuses* the two calibrated scores instead, ``w * words + (1 - w) * picture``,
over the candidates' stored vectors: the blended cosine went through the picture
curve's strict "same shot" midpoint and gave every still without a near copy 0.00,
while the fused score says how much of the words and how much of the picture a still
matches (0.5 at w = 0.5: it answers one of the two). The candidates are re-ranked by
that score within the window, the same window for every page up to the first 1,000.

Each page asks the store for ``max(offset + page_size + 1, COUNT_WINDOW + 1)`` rows:
enough for the page, to know whether another follows, and to count (and date-sort)
the results above the threshold among the first 1,000.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from store import VectorStore
from store.vectors import VectorFilter
from workbench.accounts import User
from workbench.errors import InvalidInput
from workbench.library.catalog import Library, tag_filter
from workbench.search_calibration import Calibration, calibration_for, rank_score
from workbench.search_query import COUNT_WINDOW, SearchPage, SearchQuery
from workbench.text import clean_text

__all__ = ["run_query", "query_vector", "QueryVectors"]

Embedder = Any
BoardImages = Callable[[User, str], set[str]]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class QueryVectors:
    """What a query searches with: the index vector, and for a fused hybrid its two parts and curves."""

    def __init__(self, vector: np.ndarray, curve: Calibration | None,
                 parts: tuple[float, np.ndarray, np.ndarray, Calibration, Calibration] | None = None) -> None:
        self.vector, self.curve, self.parts = vector, curve, parts

    @property
    def calibrated(self) -> bool:
        """Whether the scores come from fitted curves (else from the rank)."""
        return self.curve is not None or self.parts is not None

    def fused(self, stored: np.ndarray) -> float:
        """A candidate's hybrid score: ``w * words + (1 - w) * picture``, each through its own curve."""
        assert self.parts is not None
        w, words, picture, text_curve, image_curve = self.parts
        unit = _unit(np.asarray(stored, dtype=np.float32))
        return w * text_curve.score(float(unit @ words)) + (1 - w) * image_curve.score(float(unit @ picture))


def query_vector(query: SearchQuery, words: np.ndarray | None, pictures: list[np.ndarray],
                 embedder: Embedder) -> QueryVectors:
    """The one vector a query searches with, and how its candidates are scored."""
    model = str(embedder.model_id)
    text_curve, image_curve = calibration_for(model, "text"), calibration_for(model, "image")
    picture = _unit(np.mean([_unit(p) for p in pictures], axis=0)) if pictures else None
    if query.kind == "text" or picture is None:
        assert words is not None
        return QueryVectors(_unit(words), text_curve)
    if query.kind == "image" or words is None:
        return QueryVectors(picture, image_curve)
    w, words = query.text_weight, _unit(words)
    blend = w * words + (1 - w) * picture
    norm = float(np.linalg.norm(blend))
    if not norm:  # the words and the pictures point exactly apart: let the pictures decide
        return QueryVectors(picture, image_curve)
    parts = (w, words, picture, text_curve, image_curve) if text_curve and image_curve else None
    return QueryVectors(blend / norm, None, parts)


def _where(library: Library, user: User, query: SearchQuery, board_images: BoardImages | None) -> VectorFilter:
    # The store renders and quotes the filter: a tag like "50%" or "o'brien" matches only itself.
    where = library.vector_where(user, query.scope) & VectorFilter(
        tags_all=[tag_filter(tag) for tag in query.tags], since=query.since, until=query.until,
        exclude_ids=set(query.examples),
    )
    if query.board_id:
        if board_images is None:
            raise InvalidInput("Searching inside a board is not available here (boards are not set up).")
        # Still the person's scope too: a board they may view never opens another person's private still.
        where = where & VectorFilter(ids=board_images(user, query.board_id))
    return where


def run_query(
    user: User, query: SearchQuery, *, library: Library, vectors: VectorStore, table: str, embedder: Embedder,
    example_vectors: Callable[[User, tuple[str, ...]], list[np.ndarray]], board_images: BoardImages | None,
    hit: Callable[[Any, float, float], Any],
) -> SearchPage:
    """One page of a query's results (see :meth:`workbench.search.Search.run`)."""
    text = clean_text(query.text, field="search", max_chars=1000, truncate=True)
    if not text and not query.examples:
        raise InvalidInput("Type a few words or add an example still to search.")
    if query.since and query.until and query.since > query.until:
        raise InvalidInput("The start date is after the end date; swap them or clear one.")
    pictures = example_vectors(user, query.examples) if query.examples else []
    words = np.asarray(embedder.embed_texts([text])[0], dtype=np.float32) if text else None
    plan = query_vector(query, words, pictures, embedder)
    where = _where(library, user, query, board_images)
    model = str(embedder.model_id)
    if not vectors.count(table):
        return SearchPage(query, [], 0, False, None, plan.calibrated, model)
    fetch = max(query.offset + query.page_size + 1, COUNT_WINDOW + 1)
    columns = ["id", "created_at", *(["vector"] if plan.parts else [])]
    rows = vectors.search(table, plan.vector, where=where, limit=fetch, columns=columns)
    scored = _scored(rows, plan, query.min_score)
    counted = scored[:COUNT_WINDOW]
    total, capped = len(counted), len(scored) > COUNT_WINDOW
    if query.sort != "relevance":
        # Dates order the results above the threshold (the first COUNT_WINDOW of them); ties by relevance.
        newest = query.sort == "newest"
        counted.sort(key=lambda s: (_stamp(s[2].get("created_at")), -s[0] if newest else s[0]), reverse=newest)
        chosen = counted[query.offset: query.offset + query.page_size]
        more = query.offset + query.page_size < len(counted)
    else:
        chosen = scored[query.offset: query.offset + query.page_size]
        more = len(scored) > query.offset + query.page_size
    images = library.get_many([row["id"] for _, _, row in chosen])
    hits = []
    for score, cosine, row in chosen:
        image = images.get(row["id"])
        if image is None or not library.can_see(user, image):  # the row is the truth, not the vector
            continue
        hits.append(hit(image, score, cosine))
    return SearchPage(query, hits, total, capped, query.page + 1 if more else None, plan.calibrated, model)


def _scored(rows: list[dict[str, Any]], plan: QueryVectors, min_score: float) -> list[tuple[float, float, dict]]:
    """(score, cosine, row) of the candidates at or above ``min_score``, best first."""
    if plan.parts is not None:
        fused = [(plan.fused(row["vector"]), 1.0 - float(row["_distance"]), row) for row in rows]
        fused.sort(key=lambda s: -s[0])  # stable: equal scores keep the index's order
        return [s for s in fused if s[0] >= min_score]
    scored = []
    for rank, row in enumerate(rows):
        cosine = 1.0 - float(row["_distance"])
        score = plan.curve.score(cosine) if plan.curve is not None else rank_score(rank)
        if score < min_score:
            break  # the scores only fall from here: the rest is below the threshold too
        scored.append((score, cosine, row))
    return scored


def _stamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0
