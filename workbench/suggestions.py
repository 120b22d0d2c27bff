"""AI suggestions for a board: related images and story prompts.

Related images are library images the person may see, close to the board's
pictures and words, never ones already on it, and spread out (maximal
marginal relevance) so the list is not five crops of the same shot. Story
prompts are written by the text backend from everything on the board.

Asking by hand is open to everyone: related images are free, story prompts
cost their price. *Automatic* suggestions (refreshed as the board changes)
are a premium feature and cost ``auto_suggestions`` credits per refresh.
Results are cached per board revision, and every board change drops the
cache through :meth:`Boards.subscribe`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.accounts import Accounts, User
from workbench.ai.tasks import StoryPrompts, task_prompt
from workbench.boards import BoardEvent, Boards, BoardView
from workbench.errors import Forbidden
from workbench.library.catalog import Library
from workbench.search import Search, SearchHit
from workbench.writing.studio import SYSTEM_PROMPT

__all__ = ["Suggestions", "BoardSuggestions"]

_DIVERSITY = 0.35  # 0 = pure relevance, 1 = pure novelty


@dataclass(frozen=True)
class BoardSuggestions:
    """What the side panel shows for a board."""

    board_id: str
    revision: int
    images: list[SearchHit]
    prompts: list[str]


def board_text(view: BoardView) -> str:
    """Everything written on a board, one item per line (what prompts and text queries read)."""
    lines = [view.board.title, view.board.description]
    for item in view.items:
        if item.kind in ("note", "heading", "script"):
            lines.append(item.text)
        if item.caption:
            lines.append(item.caption)
        if item.kind == "image" and item.image_id in view.images:
            image = view.images[item.image_id]
            lines.append(", ".join([*image.tags[:5], *image.labels[:3]]))
    return "\n".join(" ".join(line.split()) for line in lines if line and line.strip())


def _signed_in(user: User | None) -> None:
    # Related images come from the asker's library and prompts from their credits:
    # an anonymous link holder has neither.
    if user is None:
        raise Forbidden("Sign in to get suggestions for a board; a share link alone opens the board only.")


class Suggestions:
    """Related images and story prompts for boards. Reached as ``wb.suggestions``."""

    def __init__(self, accounts: Accounts, boards: Boards, search: Search, library: Library,
                 text_backend: Callable[[], Any]) -> None:
        self._accounts = accounts
        self._boards = boards
        self._search = search
        self._library = library
        self._text = text_backend
        self._cache: dict[tuple[str, str, int, int], list[SearchHit]] = {}
        self._lock = threading.Lock()
        boards.subscribe(self._forget)

    def _forget(self, event: BoardEvent) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[1] == event.board_id]:
                del self._cache[key]

    # -- related images ------------------------------------------------------
    def related_images(self, user: User, board_id: str, *, limit: int = 12, token: str | None = None,
                       automatic: bool = False) -> list[SearchHit]:
        """Library images that fit the board, diverse, excluding what is already on it.

        ``automatic=True`` is the premium auto-refresh: it costs credits.
        """
        _signed_in(user)
        view = self._boards.get(user, board_id, token=token)
        key = (user.id, board_id, view.board.revision, limit)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and not automatic:
            return cached
        if automatic:
            self._accounts.require_premium(user, "auto_suggestions")
            with self._accounts.spend(user, "auto_suggestions"):
                hits = self._related(user, view, limit)
        else:
            hits = self._related(user, view, limit)
        with self._lock:
            self._cache[key] = hits
        return hits

    def _related(self, user: User, view: BoardView, limit: int) -> list[SearchHit]:
        on_board = {i.image_id for i in view.items if i.image_id}
        query = self._board_vector(view)
        if query is None:
            return []
        candidates = self._search.by_vector(user, query, limit=min(500, limit * 4), exclude=on_board)
        return self._diversify(candidates, limit)

    def _board_vector(self, view: BoardView) -> np.ndarray | None:
        embedder = self._search.embedder
        parts = []
        image_ids = [i.image_id for i in view.items if i.image_id]
        stored = self._search.stored_vectors(image_ids)
        if stored:
            parts.append(np.mean(np.stack(list(stored.values())), axis=0))
        text = board_text(view)
        if text.strip():
            parts.append(embedder.embed_texts([text[:2000]])[0] * (0.5 if stored else 1.0))
        if not parts:
            return None
        vector = np.sum(parts, axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else None

    def _diversify(self, hits: list[SearchHit], limit: int) -> list[SearchHit]:
        """Maximal marginal relevance: each pick is relevant and unlike the picks before it."""
        if len(hits) <= 1:
            return hits[:limit]
        vectors = self._search.stored_vectors([h.image.id for h in hits])
        chosen: list[SearchHit] = []
        pool = [h for h in hits if h.image.id in vectors]
        while pool and len(chosen) < limit:
            def worth(hit: SearchHit) -> float:
                if not chosen:
                    return hit.score
                closest = max(float(np.dot(vectors[hit.image.id], vectors[c.image.id])) for c in chosen)
                return (1 - _DIVERSITY) * hit.score - _DIVERSITY * closest

            best = max(pool, key=worth)
            chosen.append(best)
            pool.remove(best)
        return chosen

    # -- story prompts -------------------------------------------------------
    def story_prompts(self, user: User, board_id: str, *, count: int = 5, token: str | None = None,
                      automatic: bool = False, seed: int | None = None,
                      idempotency_key: str | None = None) -> list[str]:
        """Story prompts drawn from the board's contents (costs credits)."""
        _signed_in(user)
        view = self._boards.get(user, board_id, token=token)
        action = "auto_suggestions" if automatic else "story_prompts"
        if automatic:
            self._accounts.require_premium(user, "auto_suggestions")
        prompt = task_prompt("prompts", board_text(view), board=view.board.title, count=max(1, min(count, 10)))
        backend = self._text()
        with self._accounts.spend(user, action, idempotency_key=idempotency_key):
            result = backend.structured(SYSTEM_PROMPT, prompt, StoryPrompts, seed=seed)
        return [p.strip() for p in result.prompts if p.strip()][:count]

    def for_board(self, user: User, board_id: str, *, limit: int = 12, token: str | None = None) -> BoardSuggestions:
        """The premium automatic refresh: related images and prompts in one go (costs credits)."""
        _signed_in(user)
        view = self._boards.get(user, board_id, token=token)
        images = self.related_images(user, board_id, limit=limit, token=token, automatic=True)
        prompts = self.story_prompts(user, board_id, token=token, automatic=True)
        return BoardSuggestions(board_id, view.board.revision, images, prompts)
