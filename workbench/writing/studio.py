"""Writing with AI: ideas, loglines, outlines, treatments, screenplay pages, scene work.

Each action costs credits from the price list: they are reserved before the
AI call and refunded if it fails or is cancelled. Every result is saved as a
document with its prompt, model and credits, so it can be found, edited and
rolled back later. Drafts from the offline backend are marked ``offline``.

>>> ideas = wb.writing.idea(me, "a lighthouse keeper hears tomorrow's news", genre="thriller")
>>> outline = wb.writing.outline(me, ideas[0].id, structure="save-the-cat")
>>> script = wb.writing.screenplay(me, outline.id)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from store import MetadataStore
from workbench.accounts import Accounts, User
from workbench.ai.tasks import IdeaCards, Loglines, Outline, Rewrite, ScreenplayPages, Treatment, task_prompt
from workbench.errors import InvalidInput, ProviderError
from workbench.writing.documents import Document, Documents, signed_in

__all__ = ["Writing", "SYSTEM_PROMPT", "REWRITE_MODES"]

SYSTEM_PROMPT = (
    "You are a story development partner for filmmakers. Write vivid, specific, filmable material. "
    "Screenplay text uses Fountain markup. When asked for JSON, answer with JSON only."
)
REWRITE_MODES = ("tighten", "punch-up", "darker", "lighter", "formal", "casual")
STRUCTURES = ("three-act", "save-the-cat")
# The idea's fields an outline keeps, so its treatment and pages stay about the same people and stakes.
CARRIED = ("protagonist", "want", "stakes", "genre", "tone")


class _NothingChanged(Exception):
    """Raised inside a reservation when the AI gave back the writer's own text: refunds it.

    Not a :class:`WorkbenchError`: it never leaves this module (the caller gets
    the document back unchanged, with no new version).
    """


def _same_text(a: str, b: str) -> bool:
    # Whitespace and line wrapping are not a rewrite.
    return " ".join(a.split()) == " ".join(b.split())


@contextmanager
def _closed_after(chunks: Iterator[str]) -> Iterator[Iterator[str]]:
    """Close a backend's stream when the block ends (a generator holding an HTTP response has close())."""
    try:
        yield chunks
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()


def _cast(source: Document) -> dict[str, str]:
    """The lead, genre and tone a document carries forward into the drafts made from it."""
    return {k: str(source.meta[k]) for k in CARRIED if source.meta.get(k)}


def _idea_body(card: Any) -> str:
    return (f"{card.logline}\n\nProtagonist: {card.protagonist}\nWant: {card.want}\nNeed: {card.need}\n"
            f"Conflict: {card.conflict}\nSetting: {card.setting}\nTwist: {card.twist}")


class Writing(Documents):
    """Ideas, outlines and screenplays, drafted with AI. Reached as ``wb.writing``."""

    def __init__(self, db: MetadataStore, accounts: Accounts, backend: Callable[[], Any]) -> None:
        super().__init__(db)
        self._accounts = accounts
        self._backend = backend

    @property
    def backend(self) -> Any:
        return self._backend()

    def _structured(self, user: User, action: str, prompt: str, schema: type, *, seed: int | None,
                    idempotency_key: str | None, cancel: threading.Event | None = None, unchanged: str | None = None,
                    ) -> tuple[Any, int, Any]:
        """One structured AI call under a reservation; raises :class:`_NothingChanged` (refunded) when
        the answer's ``text`` is ``unchanged``, the writer's own text given back."""
        signed_in(user)  # before any credits are looked up
        backend = self.backend
        with self._accounts.spend(user, action, idempotency_key=idempotency_key) as reservation:
            result = backend.structured(SYSTEM_PROMPT, prompt, schema, seed=seed, cancel=cancel)
            if unchanged is not None and _same_text(str(getattr(result, "text", "")), unchanged):
                raise _NothingChanged
            return result, reservation.amount, backend

    # -- story development ---------------------------------------------------
    def idea(
        self, user: User, premise: str = "", *, genre: str = "", tone: str = "", keywords: Iterable[str] = (),
        count: int = 3, reference: str = "", seed: int | None = None, idempotency_key: str | None = None,
    ) -> list[Document]:
        """Story idea cards from a premise, genre, tone and keywords; each saved as an ``idea``.

        ``reference`` is extra context, e.g. the text of a board (see ``wb.boards``).
        """
        keys = [k.strip() for k in keywords if k and k.strip()]
        if not (premise.strip() or genre.strip() or keys):
            raise InvalidInput("Give a premise, a genre or a few keywords to start from.")
        if not 1 <= count <= 10:
            raise InvalidInput("Ask for between 1 and 10 ideas.")
        body = "\n".join(p for p in (premise.strip(), reference.strip()) if p)
        prompt = task_prompt("idea", body, genre=genre, tone=tone, keywords=keys, count=count)
        cards, spent, backend = self._structured(user, "idea", prompt, IdeaCards, seed=seed,
                                                 idempotency_key=idempotency_key)
        docs = []
        for i, card in enumerate(cards.ideas[:count]):
            docs.append(self.create(
                user, "idea", card.title or f"Idea {i + 1}", _idea_body(card), meta=card.model_dump(),
                offline=backend.offline, prompt=prompt, model=backend.model_id, credits=spent if i == 0 else 0,
                note="generated",
            ))
        return docs

    def logline(self, user: User, source: str, *, count: int = 3, seed: int | None = None,
                idempotency_key: str | None = None) -> Document:
        """Loglines for an idea (a document id) or a premise; saved as one ``logline`` document."""
        fields = self._source_fields(user, source)
        prompt = task_prompt("logline", fields.pop("body", ""), count=count, **fields)
        lines, spent, backend = self._structured(user, "logline", prompt, Loglines, seed=seed,
                                                 idempotency_key=idempotency_key)
        title = f"Loglines: {fields.get('title') or source[:60]}"
        # The idea it came from, so the idea's card can show its loglines.
        meta = {"source": source, "loglines": list(lines.loglines)} if source.startswith("doc_") else {}
        return self.create(user, "logline", title, "\n\n".join(lines.loglines), meta=meta, offline=backend.offline,
                           prompt=prompt, model=backend.model_id, credits=spent, note="generated")

    def outline(self, user: User, source: str, *, structure: str = "three-act", seed: int | None = None,
                idempotency_key: str | None = None) -> Document:
        """A beat-sheet outline (three-act or Save the Cat's 15 beats) for an idea id or a premise."""
        if structure not in STRUCTURES:
            raise InvalidInput(f"Structure must be one of {', '.join(STRUCTURES)}.")
        fields = self._source_fields(user, source)
        prompt = task_prompt("outline", fields.pop("body", ""), structure=structure, **fields)
        outline, spent, backend = self._structured(user, "outline", prompt, Outline, seed=seed,
                                                   idempotency_key=idempotency_key)
        body = "\n".join(f"{b.name} (act {b.act}, p. {b.page}): {b.summary}" for b in outline.beats)
        # Who the story is about travels with the outline, so the pages drafted from it cast the same lead.
        meta = {**outline.model_dump(), **{k: fields[k] for k in CARRIED if fields.get(k)}}
        return self.create(user, "outline", outline.title or "Outline", body, meta=meta,
                           offline=backend.offline, prompt=prompt, model=backend.model_id, credits=spent,
                           note="generated")

    def treatment(self, user: User, outline_id: str, *, seed: int | None = None,
                  idempotency_key: str | None = None) -> Document:
        """A scene-by-scene treatment from an outline document."""
        outline = self.get(user, outline_id)
        prompt = task_prompt("treatment", outline.body, title=outline.title, **_cast(outline))
        treatment, spent, backend = self._structured(user, "treatment", prompt, Treatment, seed=seed,
                                                     idempotency_key=idempotency_key)
        body = "\n\n".join(f"{s.number}. {s.heading}\n{s.summary}" for s in treatment.scenes)
        return self.create(user, "treatment", treatment.title or outline.title, body,
                           meta={**treatment.model_dump(), **_cast(outline), "source": outline.id},
                           offline=backend.offline, prompt=prompt,
                           model=backend.model_id, credits=spent, note="generated")

    def screenplay(self, user: User, source_id: str, *, author: str = "", seed: int | None = None,
                   idempotency_key: str | None = None) -> Document:
        """Screenplay pages in Fountain from an outline or treatment document."""
        source = self.get(user, source_id)
        prompt = task_prompt("screenplay", source.body, title=source.title, author=author or user.display_name,
                             **_cast(source))
        pages, spent, backend = self._structured(user, "screenplay", prompt, ScreenplayPages, seed=seed,
                                                 idempotency_key=idempotency_key)
        return self.create(user, "screenplay", pages.title or source.title, pages.fountain,
                           offline=backend.offline, prompt=prompt, model=backend.model_id, credits=spent,
                           note="generated")

    # -- scene work ----------------------------------------------------------
    def continue_scene(self, user: User, document_id: str, *, direction: str = "", seed: int | None = None,
                       idempotency_key: str | None = None) -> Document:
        """Append AI-written lines to the end of a screenplay (a new version)."""
        for _ in self.stream_continue(user, document_id, direction=direction, seed=seed,
                                      idempotency_key=idempotency_key):
            pass
        return self.get(user, document_id)

    def stream_continue(
        self, user: User, document_id: str, *, direction: str = "", seed: int | None = None,
        cancel: threading.Event | None = None, idempotency_key: str | None = None,
    ) -> Iterator[str]:
        """Like :meth:`continue_scene`, yielding text as it is written (for the editor).

        The new version is saved when the stream ends. Stopped with ``cancel``,
        the lines written so far are kept (a new version, so it can be rolled
        back) and the action is charged; stopped before a word arrived, or
        failed, it saves nothing and refunds the credits.
        """
        doc = self.get(user, document_id)
        if not doc.body.strip():
            raise InvalidInput("Write the start of the scene first; the AI continues from it.")
        scene = doc.body[-6000:]
        prompt = task_prompt("continue", scene, direction=direction)

        def finish(addition: str, model: str, credits: int, stopped: bool) -> None:
            note = "continued scene (stopped early)" if stopped else "continued scene"
            self.save(user, doc.id, doc.body.rstrip("\n") + "\n\n" + addition.lstrip("\n").rstrip() + "\n",
                      note=note, prompt=prompt, model=model, credits=credits)

        yield from self._stream_draft(user, "continue_scene", prompt, finish, seed=seed, cancel=cancel,
                                      idempotency_key=idempotency_key, keep_partial=True)

    def rewrite_selection(self, user: User, document_id: str, start: int, end: int, *, mode: str = "tighten",
                          seed: int | None = None, idempotency_key: str | None = None) -> Document:
        """Rewrite the text between two offsets (tighten, punch-up, darker...); a new version.

        When the AI gives the selection back unchanged, nothing is saved and
        the credit is refunded: the document comes back at the same version.
        """
        if mode not in REWRITE_MODES:
            raise InvalidInput(f"Rewrite mode must be one of {', '.join(REWRITE_MODES)}.")
        doc = self.get(user, document_id)
        selection = self.excerpt(user, document_id, start, end)
        prompt = task_prompt("rewrite", selection, mode=mode)
        try:
            result, spent, backend = self._structured(user, "rewrite", prompt, Rewrite, seed=seed,
                                                      idempotency_key=idempotency_key, unchanged=selection)
        except _NothingChanged:
            return doc
        body = doc.body[:start] + result.text + doc.body[end:]
        return self.save(user, doc.id, body, note=f"rewrote selection ({mode})", prompt=prompt,
                         model=backend.model_id, credits=spent)

    def stream_rewrite(
        self, user: User, document_id: str, start: int, end: int, *, mode: str = "tighten",
        seed: int | None = None, cancel: threading.Event | None = None, idempotency_key: str | None = None,
    ) -> Iterator[str]:
        """Like :meth:`rewrite_selection`, yielding the new passage as it is written (for the editor).

        The new version is saved when the stream ends. A stopped, failed or
        unchanged rewrite (the AI gave the selection back as it was) saves
        nothing and refunds the credits: half a rewritten passage is no use.
        """
        if mode not in REWRITE_MODES:
            raise InvalidInput(f"Rewrite mode must be one of {', '.join(REWRITE_MODES)}.")
        doc = self.get(user, document_id)
        selection = self.excerpt(user, document_id, start, end)
        prompt = task_prompt("rewrite", selection, mode=mode, answer="the rewritten passage only, no commentary")

        def finish(passage: str, model: str, credits: int, stopped: bool) -> None:
            if _same_text(passage, selection):
                raise _NothingChanged  # inside the reservation: refunded
            self.save(user, doc.id, doc.body[:start] + passage.strip() + doc.body[end:],
                      note=f"rewrote selection ({mode})", prompt=prompt, model=model, credits=credits)

        try:
            yield from self._stream_draft(user, "rewrite", prompt, finish, seed=seed, cancel=cancel,
                                          idempotency_key=idempotency_key, keep_partial=False)
        except _NothingChanged:
            return

    def _stream_draft(
        self, user: User, action: str, prompt: str, finish: Callable[[str, str, int, bool], None], *,
        seed: int | None, cancel: threading.Event | None, idempotency_key: str | None, keep_partial: bool,
    ) -> Iterator[str]:
        """Stream a draft under a credit reservation; ``finish`` saves it once the stream is over.

        A failed or empty stream raises :class:`ProviderError` inside the
        reservation, so nothing is saved and the credits are refunded. A
        stream stopped with ``cancel`` does the same unless ``keep_partial``:
        then what was written is handed to ``finish`` (with ``stopped`` True)
        and paid for, since the writer chose to keep it.
        """
        signed_in(user)
        backend = self.backend
        with self._accounts.spend(user, action, idempotency_key=idempotency_key) as reservation:
            parts: list[str] = []
            # closing(): leaving the loop at Stop closes the provider's stream (its HTTP response) at once.
            with _closed_after(backend.stream(SYSTEM_PROMPT, prompt, seed=seed, cancel=cancel)) as chunks:
                for chunk in chunks:
                    parts.append(chunk)
                    yield chunk
                    if cancel is not None and cancel.is_set():
                        break  # a backend may hand over one more chunk after Stop; the writer never sees it
            stopped = cancel is not None and cancel.is_set()
            text = "".join(parts)
            if stopped and not (keep_partial and text.strip()):
                raise ProviderError("Stopped before the AI finished; nothing was saved and no credits were spent.")
            if not text.strip():
                raise ProviderError("The AI returned nothing; nothing was saved and no credits were spent.")
            finish(text, backend.model_id, reservation.amount, stopped)

    # -- helpers -------------------------------------------------------------
    def _source_fields(self, user: User, source: str) -> dict[str, Any]:
        """Prompt fields from an idea document id, or from a free premise."""
        if source.startswith("doc_"):
            doc = self.get(user, source)
            meta = {k: v for k, v in doc.meta.items() if isinstance(v, str) and v}
            return {"title": doc.title, **meta, "body": doc.body if not meta else ""}
        if not source.strip():
            raise InvalidInput("Give an idea (its id) or a premise to work from.")
        return {"premise": source.strip()}
