"""Writing documents (ideas, loglines, outlines, treatments, screenplays) with version history.

Every save makes a new version; nothing is overwritten, so any earlier draft
can be restored. A document belongs to its writer; boards quote from it
through script excerpts.
"""

from __future__ import annotations

import builtins
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from store import MetadataStore, Tx
from workbench.accounts import User
from workbench.errors import Forbidden, InvalidInput, NotFound
from workbench.text import clean_text
from workbench.writing import fountain
from workbench.writing.diff import ScriptDiff, compare_texts
from workbench.writing.fdx import fdx_to_fountain, fountain_to_fdx
from workbench.writing.fountain_import import MAX_FOUNTAIN_BYTES, check_fountain_size, read_fountain
from workbench.writing.screenplay_pdf import render_pdf

__all__ = ["Document", "DocumentVersion", "Documents", "KINDS", "MAX_BODY", "signed_in"]

KINDS = ("idea", "logline", "outline", "treatment", "screenplay", "note")
MAX_BODY = 2_000_000  # characters: a feature screenplay is ~200k


@dataclass(frozen=True)
class Document:
    """A piece of writing and where it came from."""

    id: str
    owner: str
    kind: str
    title: str
    body: str
    meta: dict[str, Any]
    offline: bool  # True when drafted by the offline backend: the UI labels it
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        return cls(row["id"], row["owner"], row["kind"], row["title"], row["body"], json.loads(row["meta"]),
                   bool(row["offline"]), row["version"], row["created_at"], row["updated_at"])


@dataclass(frozen=True)
class DocumentVersion:
    """One saved state of a document."""

    version: int
    title: str
    body: str
    prompt: str
    model: str
    credits: int
    note: str
    created_at: datetime


def _check(kind: str, title: Any, body: Any, prompt: Any = "") -> tuple[str, str, str]:
    """The cleaned (title, body, prompt) of a save: the one rule for user text (:func:`clean_text`)."""
    if kind not in KINDS:
        raise InvalidInput(f"Unknown kind of writing '{kind}'; choose one of {', '.join(KINDS)}.")
    title = clean_text(title, field="title", max_chars=200)
    if not title:
        raise InvalidInput("Give the document a title.")
    body = clean_text(body, field="document", max_chars=MAX_BODY, multiline=True)
    prompt = clean_text(prompt, field="prompt", max_chars=MAX_BODY, multiline=True)
    return title, body, prompt


def signed_in(user: User | None) -> None:
    """Refuse an anonymous caller: writing belongs to its writer (a share link opens a board only)."""
    if user is None:
        raise Forbidden("Sign in to write; your documents are yours alone.")


class Documents:
    """Storage of writing documents and their versions."""

    def __init__(self, db: MetadataStore) -> None:
        self._db = db

    def create(
        self, user: User, kind: str, title: str, body: str = "", *, meta: dict[str, Any] | None = None,
        offline: bool = False, prompt: str = "", model: str = "", credits: int = 0, note: str = "created",
    ) -> Document:
        """Save a new document (version 1).

        >>> doc = wb.writing.create(me, "screenplay", "Night Shift", "INT. DINER - NIGHT\\n\\nRain.")
        """
        signed_in(user)
        title, body, prompt = _check(kind, title, body, prompt)
        doc_id = "doc_" + uuid.uuid4().hex[:16]

        def work(cur: Tx) -> None:
            cur.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, 1, now(), now())",
                        [doc_id, user.id, kind, title, body, json.dumps(meta or {}), offline])
            cur.execute("INSERT INTO document_versions VALUES (?, 1, ?, ?, ?, ?, ?, ?, now())",
                        [doc_id, body, title, prompt, model, credits, note])

        self._db.write(work)
        return self.get(user, doc_id)

    def get(self, user: User | None, document_id: str) -> Document:
        """A document of the acting user."""
        row = self._db.query_one("SELECT * FROM documents WHERE id = ?", [document_id])
        if row is None or user is None or row["owner"] != user.id:
            raise NotFound(f"No document {document_id} among your writing.")
        return Document.from_row(row)

    def list(self, user: User, *, kind: str | None = None, limit: int = 200) -> list[Document]:
        """The user's documents, most recently changed first."""
        signed_in(user)
        sql, params = "SELECT * FROM documents WHERE owner = ?", [user.id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self._db.query(sql + " ORDER BY updated_at DESC, id LIMIT ?", [*params, limit])
        return [Document.from_row(r) for r in rows]

    def save(
        self, user: User, document_id: str, body: str, *, title: str | None = None, note: str = "edited",
        prompt: str = "", model: str = "", credits: int = 0, expected_version: int | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Document:
        """Save a new version of a document.

        ``expected_version`` guards against overwriting someone else's newer save
        (raises :class:`Conflict`).
        """
        from workbench.errors import Conflict

        doc = self.get(user, document_id)
        new_title, body, prompt = _check(doc.kind, title if title is not None else doc.title, body, prompt)

        def work(cur: Tx) -> None:
            current = cur.execute("SELECT version FROM documents WHERE id = ?", [doc.id]).fetchone()
            version = int(current[0]) if current else 0
            if expected_version is not None and version != expected_version:
                raise Conflict(f"This document was saved elsewhere (now version {version}); reload it first.")
            cur.execute("UPDATE documents SET body = ?, title = ?, version = ?, meta = ?, updated_at = now()"
                        " WHERE id = ?", [body, new_title, version + 1,
                                          json.dumps(meta if meta is not None else doc.meta), doc.id])
            cur.execute("INSERT INTO document_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                        [doc.id, version + 1, body, new_title, prompt, model, credits, note])

        self._db.write(work)
        return self.get(user, document_id)

    def versions(self, user: User, document_id: str) -> builtins.list[DocumentVersion]:
        """Every saved version, newest first."""
        self.get(user, document_id)
        rows = self._db.query(
            "SELECT version, title, body, prompt, model, credits, note, created_at FROM document_versions"
            " WHERE document_id = ? ORDER BY version DESC", [document_id])
        return [DocumentVersion(**r) for r in rows]

    def version(self, user: User, document_id: str, version: int) -> DocumentVersion:
        """One saved version of a document (``NotFound`` if it has no such version)."""
        self.get(user, document_id)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidInput(f"Give a version number (1, 2, ...), not {version!r}.")
        row = self._db.query_one(
            "SELECT version, title, body, prompt, model, credits, note, created_at FROM document_versions"
            " WHERE document_id = ? AND version = ?", [document_id, version])
        if row is None:
            raise NotFound(f"This document has no version {version}.")
        return DocumentVersion(**row)

    def compare(self, user: User, document_id: str, old_version: int, new_version: int) -> ScriptDiff:
        """What changed between two versions of a script, scene by scene and line by line.

        Scenes are matched by their heading and what they say, so a scene that
        moved is reported as moved ("Scene 2 (...) moved after scene 4 (...)"),
        not as removed and added; a renamed heading is "re-headed"; an edited
        line shows as that line only. Either order of versions works: the diff
        reads from ``old_version`` to ``new_version``.

        >>> diff = wb.writing.compare(me, script.id, 1, 2)
        >>> [c.description for c in diff.changes]
        """
        old = self.version(user, document_id, old_version)
        new = self.version(user, document_id, new_version)
        return compare_texts(document_id, old.version, old.body, new.version, new.body)

    def restore(self, user: User, document_id: str, version: int) -> Document:
        """Bring back an earlier version (as a new version, so nothing is lost)."""
        old = self.version(user, document_id, version)
        return self.save(user, document_id, old.body, title=old.title, note=f"restored version {version}")

    def rename(self, user: User, document_id: str, title: str) -> Document:
        """Give a document a new title."""
        doc = self.get(user, document_id)
        return self.save(user, document_id, doc.body, title=title, note="renamed")

    def delete(self, user: User, document_id: str) -> None:
        """Delete a document and its history."""
        doc = self.get(user, document_id)

        def work(cur: Tx) -> None:
            cur.execute("DELETE FROM document_versions WHERE document_id = ?", [doc.id])
            cur.execute("DELETE FROM documents WHERE id = ?", [doc.id])

        self._db.write(work)

    def excerpt(self, user: User, document_id: str, start: int, end: int) -> str:
        """The text between two character offsets (what a board's script excerpt quotes)."""
        doc = self.get(user, document_id)
        if not 0 <= start < end <= len(doc.body):
            raise InvalidInput(f"Choose a range inside the document (0 to {len(doc.body)}).")
        return doc.body[start:end]

    # -- Fountain ------------------------------------------------------------
    def import_fountain(self, user: User, source: str | Path | IO[str] | bytes, *, title: str | None = None) -> Document:
        """Bring in a ``.fountain`` file as a screenplay document.

        UTF-8, UTF-16 and UTF-32 files are read by their byte-order mark (or
        their shape), old Windows files as cp1252. An image, PDF or archive
        renamed ``.fountain``, binary data, a file past
        :data:`~workbench.writing.fountain_import.MAX_FOUNTAIN_BYTES` or a
        script past :data:`MAX_BODY` characters raises :class:`InvalidInput`
        and stores nothing.
        """
        default_title = "Imported screenplay"
        if isinstance(source, Path) or (isinstance(source, str) and source.endswith(".fountain") and "\n" not in source):
            path = Path(source)
            if not path.is_file():
                raise InvalidInput(f"{path} is not a file.")
            check_fountain_size(path.stat().st_size)  # before reading it all in
            data: bytes | str = path.read_bytes()
            default_title = path.stem
        elif isinstance(source, (bytes, str)):
            data = source
        else:
            data = source.read(MAX_FOUNTAIN_BYTES + 1)  # no more than the limit, even from an endless stream
        text = read_fountain(bytes(data) if isinstance(data, (bytearray, memoryview)) else data)
        if len(text) > MAX_BODY:
            raise InvalidInput(f"This screenplay is {len(text):,} characters; a document holds up to {MAX_BODY:,} "
                               "(about ten features). Split it into parts and import each.")
        play = fountain.parse(text)
        name = title or play.title_field("title") or default_title
        clean = " ".join(fountain.strip_notes(str(name)).replace("*", "").replace("_", " ").split())[:200]
        return self.create(user, "screenplay", clean or default_title, text, note="imported from Fountain")

    def export_fountain(self, user: User, document_id: str) -> str:
        """The screenplay as Fountain text (what was written, byte for byte)."""
        return self._screenplay(user, document_id).body

    def export_pdf(self, user: User, document_id: str, out: str | Path | IO[bytes]) -> None:
        """Write the screenplay as an industry-format PDF (Courier 12, standard margins)."""
        doc = self._screenplay(user, document_id)
        play = fountain.parse(doc.body)
        if not play.title_page:
            play.title_page = {"Title": doc.title}
        render_pdf(play, out)

    # -- Final Draft -------------------------------------------------------------
    def export_fdx(self, user: User, document_id: str) -> bytes:
        """A screenplay as a Final Draft ``.fdx`` file (every element type kept)."""
        doc = self._screenplay(user, document_id, "Final Draft")
        return fountain_to_fdx(doc.body, title=doc.title)

    def import_fdx(self, user: User, source: bytes | str | Path | IO[bytes], *, title: str | None = None) -> Document:
        """Bring in a Final Draft ``.fdx`` file as a Fountain screenplay document.

        A hostile file (entity expansion, external entities, very deep nesting)
        or anything that is not FDX raises :class:`InvalidInput` and stores nothing.
        """
        signed_in(user)
        return self.import_fountain(user, fdx_to_fountain(source), title=title)

    def _screenplay(self, user: User, document_id: str, to: str = "Fountain and PDF") -> Document:
        doc = self.get(user, document_id)
        if doc.kind != "screenplay":
            raise InvalidInput(f"'{doc.title}' is a {doc.kind}; only screenplays export to {to}.")
        return doc
