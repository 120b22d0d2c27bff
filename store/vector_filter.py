"""Which rows of a vector table a search, count or write touches, as a typed value.

Callers above ``store/`` say *what* they want (this person's rows, or rows
anyone may see; these tags; this date range; not these ids) and each vector
backend renders it in its own dialect, quoting every value itself. So no
module outside ``store/`` writes a filter string, and a hostile tag or id is
only ever matched literally.

>>> mine = VectorFilter(owners={"u1"})
>>> noir_since_march = mine & VectorFilter(tags_all=["noir"], since=datetime(2026, 3, 1))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime

__all__ = ["VectorFilter"]

# Fields holding a set of strings: None means "no restriction", an empty set matches nothing.
_SET_FIELDS = ("ids", "owners", "visibility")
# Fields whose strings narrow the rows further; empty means "no restriction".
_EXCLUSION_FIELDS = ("exclude_ids", "not_owners")


def _strings(name: str, values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):  # owners="ana" means one owner, not three letters
        values = [values]
    items = frozenset(values)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"VectorFilter.{name} holds strings, not {type(item).__name__}.")
    return items


@dataclass(frozen=True)
class VectorFilter:
    """Rows matching every field that is set (an AND); the default matches every row.

    - ``ids``: only these rows (an empty set matches none); ``exclude_ids``: never these.
    - ``owners``: rows owned by one of these; ``not_owners``: rows owned by none of these.
    - ``visibility``: rows whose visibility is one of these (``private``, ``team``, ``public``).
    - ``owner_or_visible``: ``(owner, visibilities)``: the owner's rows *or* rows with one of
      those visibilities, the "everything this person may see" scope.
    - ``tags_all``: rows carrying every one of these tags (the ``tags`` column holds
      ``|tag|tag|``), each matched literally: ``%`` or ``_`` in a tag is not a wildcard.
    - ``since`` / ``until``: ``created_at`` on or after / on or before, to the second.
    - ``all_of``: further filters that must hold too (what ``a & b`` builds).

    Any iterable of strings is accepted for the set fields (a single string is one value).
    """

    ids: Iterable[str] | None = None
    exclude_ids: Iterable[str] = frozenset()
    owners: Iterable[str] | None = None
    not_owners: Iterable[str] = frozenset()
    visibility: Iterable[str] | None = None
    owner_or_visible: tuple[str, Iterable[str]] | None = None
    tags_all: Iterable[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    all_of: tuple[VectorFilter, ...] = field(default=())

    def __post_init__(self) -> None:
        # Normalized to frozensets/tuples so a filter is hashable, comparable and cannot change.
        for name in _SET_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _strings(name, value))
        for name in _EXCLUSION_FIELDS:
            object.__setattr__(self, name, _strings(name, getattr(self, name)))
        tags = self.tags_all
        object.__setattr__(self, "tags_all", tuple(sorted(_strings("tags_all", tags))))
        if self.owner_or_visible is not None:
            owner, visibilities = self.owner_or_visible
            if not isinstance(owner, str):
                raise TypeError(f"VectorFilter.owner_or_visible needs an owner id, not {type(owner).__name__}.")
            object.__setattr__(self, "owner_or_visible", (owner, _strings("owner_or_visible", visibilities)))
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and not isinstance(moment, datetime):
                raise TypeError(f"VectorFilter.{name} must be a datetime, not {type(moment).__name__}.")
        for part in self.all_of:
            if not isinstance(part, VectorFilter):
                raise TypeError(f"VectorFilter.all_of holds VectorFilters, not {type(part).__name__}.")
        object.__setattr__(self, "all_of", tuple(self.all_of))

    @property
    def matches_everything(self) -> bool:
        """Whether this filter leaves every row in (nothing set, nothing nested)."""
        return all(getattr(self, f.name) == f.default for f in fields(self) if f.name != "all_of") and all(
            part.matches_everything for part in self.all_of
        )

    def __and__(self, other: VectorFilter) -> VectorFilter:
        """Rows matching both filters."""
        if not isinstance(other, VectorFilter):
            return NotImplemented
        if other.matches_everything:
            return self
        if self.matches_everything:
            return other
        return VectorFilter(all_of=(self, other))
