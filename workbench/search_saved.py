"""Saved searches: a named :class:`SearchQuery` with its threshold, to run again. Each person sees only their own.

Search domain table: ``saved_searches`` (migration 12). The query is kept as JSON, so
a field added to :class:`SearchQuery` later does not need a migration.

>>> saved = wb.search.save(me, "Night exteriors", SearchQuery(text="a street at night", min_score=0.6))
>>> [s.name for s in wb.search.saved(me)]
['Night exteriors']
>>> wb.search.run(me, saved.query)
"""

from __future__ import annotations

import uuid

from store import MetadataStore, Tx
from workbench.accounts import User
from workbench.errors import Forbidden, InvalidInput, NotFound
from workbench.search_query import SavedSearch, SearchQuery
from workbench.text import clean_text

__all__ = ["SavedSearches", "MAX_SAVED"]

MAX_SAVED = 200


def _signed_in(user: User | None) -> User:
    if user is None or not getattr(user, "id", None):
        raise Forbidden("Sign in to save searches.")
    return user


def _row(row: dict) -> SavedSearch:
    return SavedSearch(row["id"], row["owner"], row["name"], SearchQuery.from_json(row["query"]),
                       row["created_at"], row["updated_at"])


class SavedSearches:
    """The saved searches of each person (reached through ``wb.search.save`` / ``saved`` / ``delete_saved``)."""

    def __init__(self, db: MetadataStore) -> None:
        self._db = db

    def save(self, user: User, name: str, query: SearchQuery) -> SavedSearch:
        """Keep ``query`` under ``name``; saving again under the same name replaces it (the id stays)."""
        me = _signed_in(user)
        name = clean_text(name, field="search name", max_chars=80, truncate=True)
        if not name:
            raise InvalidInput("Give the search a name, e.g. “Night exteriors”.")
        if not isinstance(query, SearchQuery):
            raise InvalidInput("Save a SearchQuery (words, examples, filters and threshold).")
        if not query.text.strip() and not query.examples:
            raise InvalidInput("This search has no words and no example stills yet: add one, then save it.")
        data = query.to_json()

        def work(cur: Tx) -> str:
            found = cur.execute("SELECT id FROM saved_searches WHERE owner = ? AND name = ?", [me.id, name]).fetchone()
            if found:
                cur.execute("UPDATE saved_searches SET query = ?, updated_at = now() WHERE id = ?", [data, found[0]])
                return str(found[0])
            count = cur.scalar("SELECT count(*) FROM saved_searches WHERE owner = ?", [me.id])
            if count >= MAX_SAVED:
                raise InvalidInput(f"You have {MAX_SAVED} saved searches, the limit: delete a few you no longer use.")
            new_id = "ss_" + uuid.uuid4().hex[:16]
            cur.execute("INSERT INTO saved_searches (id, owner, name, query, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, now(), now())", [new_id, me.id, name, data])
            return new_id

        return self.get(me, self._db.write(work))

    def list(self, user: User) -> list[SavedSearch]:
        """The person's saved searches, by name."""
        me = _signed_in(user)
        rows = self._db.query("SELECT * FROM saved_searches WHERE owner = ? ORDER BY lower(name), id", [me.id])
        return [_row(r) for r in rows]

    def get(self, user: User, saved_id: str) -> SavedSearch:
        """One of the person's saved searches (another person's is :class:`NotFound`, as if it did not exist)."""
        me = _signed_in(user)
        row = self._db.query_one("SELECT * FROM saved_searches WHERE id = ? AND owner = ?", [str(saved_id), me.id])
        if row is None:
            raise NotFound("No such saved search among yours; it may have been deleted.")
        return _row(row)

    def delete(self, user: User, saved_id: str) -> None:
        """Forget one of the person's saved searches."""
        me = self.get(user, saved_id).owner
        self._db.write(lambda cur: cur.execute("DELETE FROM saved_searches WHERE id = ? AND owner = ?",
                                               [str(saved_id), me]))

