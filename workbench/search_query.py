"""One search a person can steer: words, example stills, filters, a threshold, a sort and a page.

>>> q = SearchQuery(text="rain on a neon street", examples=("img_1",), text_weight=0.7,
...                 tags=("night",), min_score=0.5, sort="newest", page=1, page_size=24)
>>> page = wb.search.run(me, q)
>>> [(h.image.filename, round(h.score, 2)) for h in page.hits], page.total, page.next_page
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from workbench.errors import InvalidInput

__all__ = ["SearchQuery", "SearchPage", "SavedSearch", "SORTS", "SCOPES", "MAX_PAGE_SIZE", "COUNT_WINDOW",
           "MAX_RESULTS"]

SORTS = ("relevance", "newest", "oldest")
SCOPES = ("all", "mine", "shared")
MAX_PAGE_SIZE = 200
MAX_EXAMPLES = 12
# How many results above the threshold are counted (and sorted by date): the first 1,000 by
# relevance. Past that, "sort by date" orders those 1,000 and the count reads "1,000+".
COUNT_WINDOW = 1000
# Paging by relevance goes this deep; a person refines the words long before.
MAX_RESULTS = 10_000


def _strings(name: str, values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,) if values else ()
    items = tuple(values or ())
    if not all(isinstance(v, str) for v in items):
        raise InvalidInput(f"'{name}' takes text values.")
    return tuple(dict.fromkeys(v.strip() for v in items if v.strip()))


def _moment(name: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"'{name}' must be a date and time, e.g. datetime(2026, 11, 1).")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for and how to show it. Every field has a default, so ``SearchQuery(text="a cat")`` works.

    - ``text``: the words; ``examples``: ids of library stills the results should look like (one or several).
    - ``text_weight`` (0..1): with both words and examples, how much the words count (1 = only words).
    - ``tags``, ``since``, ``until``, ``scope`` (``all``, ``mine``, ``shared``): filters, as in the library.
    - ``board_id``: only stills on this board (that you may see).
    - ``min_score`` (0..1): hide results whose calibrated score is lower (0.5: as likely relevant as not).
    - ``sort``: ``relevance``, ``newest`` or ``oldest`` (the dates order the results above the threshold).
    - ``page`` (from 1) and ``page_size`` (1..200).
    """

    text: str = ""
    examples: tuple[str, ...] = ()
    text_weight: float = 0.5
    tags: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    scope: str = "all"
    board_id: str | None = None
    min_score: float = 0.0
    sort: str = "relevance"
    page: int = 1
    page_size: int = 24

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidInput("The search words must be text.")
        object.__setattr__(self, "examples", _strings("examples", self.examples))
        object.__setattr__(self, "tags", _strings("tags", self.tags))
        object.__setattr__(self, "since", _moment("since", self.since))
        object.__setattr__(self, "until", _moment("until", self.until))
        if len(self.examples) > MAX_EXAMPLES:
            raise InvalidInput(f"Use at most {MAX_EXAMPLES} example stills; remove a few and search again.")
        for name in ("text_weight", "min_score"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise InvalidInput(f"'{name}' must be a number between 0 and 1.")
            object.__setattr__(self, name, float(value))
        if self.sort not in SORTS:
            raise InvalidInput("Sort by 'relevance', 'newest' or 'oldest'.")
        if self.scope not in SCOPES:
            raise InvalidInput("Scope must be 'mine', 'shared' or 'all'.")
        if self.board_id is not None and (not isinstance(self.board_id, str) or not self.board_id.strip()):
            raise InvalidInput("'board_id' must be a board's id, or None to search everywhere.")
        for name, low, high in (("page", 1, MAX_RESULTS), ("page_size", 1, MAX_PAGE_SIZE)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInput(f"'{name}' must be a whole number from {low} to {high}.")
        if self.offset + self.page_size > MAX_RESULTS:
            raise InvalidInput(f"Search pages go {MAX_RESULTS:,} results deep; add words or raise the threshold.")

    @property
    def offset(self) -> int:
        """How many results come before this page."""
        return (self.page - 1) * self.page_size

    @property
    def kind(self) -> str:
        """``text``, ``image`` or ``hybrid``: what the query vector is made of."""
        words, pictures = bool(self.text.strip()), bool(self.examples)
        if words and pictures and 0.0 < self.text_weight < 1.0:
            return "hybrid"
        if pictures and (not words or self.text_weight == 0.0):
            return "image"
        return "text"

    def with_page(self, page: int) -> SearchQuery:
        """The same search on another page."""
        return replace(self, page=page)

    def to_json(self) -> str:
        """The query as JSON (what a saved search stores); the page is not kept."""
        data = asdict(replace(self, page=1))
        for name in ("since", "until"):
            data[name] = data[name].isoformat() if data[name] else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SearchQuery:
        """A query back from :meth:`to_json` (unknown keys, from a later version, are ignored)."""
        data = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class SearchPage:
    """One page of results.

    ``hits`` carry the calibrated ``score`` (0..1) and the ``raw_score`` (cosine). ``total`` counts
    the results above the threshold among the first :data:`COUNT_WINDOW` (``total_capped`` says
    there are more); ``next_page`` is None on the last page. ``calibrated`` is False when the
    embedder has no fitted curve and the scores come from the rank instead.
    """

    query: SearchQuery
    hits: list[Any]
    total: int
    total_capped: bool
    next_page: int | None
    calibrated: bool
    model_id: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def has_more(self) -> bool:
        """Whether another page follows."""
        return self.next_page is not None


@dataclass(frozen=True)
class SavedSearch:
    """A search someone named and kept, with its threshold, to run again later."""

    id: str
    owner: str
    name: str
    query: SearchQuery
    created_at: datetime
    updated_at: datetime
