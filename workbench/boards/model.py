"""The plain objects of a board and the rules every value on a board must follow.

A board is a free canvas: each item has a position (``x``, ``y``, top-left, in
canvas pixels), a size (``w``, ``h``), a stacking order ``z`` (higher is in
front), an optional colour and caption. Item kinds:

- ``image``: a picture from the library (by reference, never copied);
- ``note``: free text;
- ``script``: an excerpt of a writing document, copied when added, with the
  document id and character range it came from;
- ``heading``: a short title over a group of items;
- ``link``: a web address (http or https) with an optional title.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import InvalidInput
from workbench.library.model import LibraryImage
from workbench.text import clean_text

__all__ = [
    "Board", "BoardItem", "BoardView", "BoardEvent", "BoardMember", "ShareLink", "ItemMove",
    "ITEM_KINDS", "ROLES", "MAX_ITEMS", "GRACE_DAYS", "PLACEHOLDER",
]

#: The first line of a storyboard frame that has no still yet (Magic Boards, wb.storyboards): a note
#: card holding its beat, which "Replace still" turns into a picture card in the same place.
PLACEHOLDER = "No still matched this beat yet."

ITEM_KINDS = ("image", "note", "script", "heading", "link")
# Roles a member or a link can hold; the owner is above them all. ``comment``: view, and comment.
ROLES = ("view", "comment", "edit")
ROLE_RANK = {"view": 1, "comment": 2, "edit": 3, "owner": 4}
MAX_ITEMS = 2000
GRACE_DAYS = 30
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_NOTE = 20_000
MAX_HEADING = 500
MAX_CAPTION = 2000
MAX_URL = 2048
MAX_COORD = 1_000_000.0
MAX_SIZE = 20_000.0
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def utcnow() -> datetime:
    """Now, as the naive UTC timestamp every board table stores."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Board:
    """A board as one person sees it: ``role`` is theirs (owner, edit or view)."""

    id: str
    owner: str
    title: str
    description: str
    status: str                       # active | archived | deleted
    revision: int                     # goes up by one with every change
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    role: str = "owner"
    item_count: int = 0
    cover_image_id: str | None = None  # the front-most image, for board lists

    @classmethod
    def from_row(cls, row: dict[str, Any], role: str, item_count: int = 0, cover: str | None = None) -> Board:
        return cls(
            id=row["id"], owner=row["owner"], title=row["title"], description=row["description"],
            status=row["status"], revision=int(row["revision"]), created_at=row["created_at"],
            updated_at=row["updated_at"], deleted_at=row["deleted_at"], role=role, item_count=item_count,
            cover_image_id=cover,
        )


@dataclass(frozen=True)
class BoardItem:
    """One thing placed on a board's canvas."""

    id: str
    board_id: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    z: int
    text: str = ""
    caption: str = ""
    color: str = ""
    url: str = ""
    image_id: str | None = None
    document_id: str | None = None
    range_start: int | None = None
    range_end: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BoardItem:
        return cls(**{name: row[name] for name in ITEM_COLUMNS + ("created_at", "updated_at")})

    @property
    def placeholder(self) -> bool:
        """Whether this is a storyboard frame still waiting for its picture (see :data:`PLACEHOLDER`)."""
        return self.kind == "note" and self.text.startswith(PLACEHOLDER)

    def columns(self) -> dict[str, Any]:
        """The stored values, without timestamps (what an event carries to redo or undo it)."""
        return {name: getattr(self, name) for name in ITEM_COLUMNS}


ITEM_COLUMNS = tuple(name for name in BoardItem.__dataclass_fields__ if name not in ("created_at", "updated_at"))


@dataclass(frozen=True)
class BoardView:
    """Everything needed to draw a board: the board, its items in z order, the viewer's role,
    and the library images its image items show (missing when an image was deleted)."""

    board: Board
    items: list[BoardItem]
    role: str
    images: dict[str, LibraryImage] = field(default_factory=dict)
    #: Whether this viewer may write comments (members whatever their role, comment and edit links).
    can_comment: bool = False

    @property
    def can_edit(self) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK["edit"]


@dataclass(frozen=True)
class ItemMove:
    """Where one item of a multi-select drag ends up (``w``/``h`` None keeps the size).

    ``x``/``y`` None keeps the place: a resize sends only the size, so a move someone else made while
    the corner was being dragged stays where they put it.
    """

    id: str
    x: float | None
    y: float | None
    w: float | None = None
    h: float | None = None


@dataclass(frozen=True)
class BoardEvent:
    """One change to a board: the activity history, the undo stack and the real-time feed."""

    id: str
    board_id: str
    seq: int
    actor: str          # a user id, or "link:<link id>" for an anonymous share-link holder
    kind: str
    payload: dict[str, Any]
    undone: bool
    created_at: datetime


@dataclass(frozen=True)
class BoardMember:
    """Someone a board is shared with by name."""

    board_id: str
    user_id: str
    role: str
    created_at: datetime
    email: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class ShareLink:
    """A share link; its token is shown once, at creation, and only its hash is stored."""

    id: str
    board_id: str
    role: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True while the link still opens the board."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ShareLink:
        return cls(
            id=row["id"], board_id=row["board_id"], role=row["role"], label=row["label"],
            created_by=row["created_by"], created_at=row["created_at"], expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
        )


# -- validation -------------------------------------------------------------------
def plain_text(value: Any, *, limit: int, what: str, multiline: bool = True) -> str:
    """Board text under the one rule for user text (:func:`workbench.text.clean_text`)."""
    return clean_text(value, field=what, max_chars=limit, multiline=multiline)


def clean_title(title: Any) -> str:
    """A board title: 1 to 200 characters on one line."""
    text = plain_text(title, limit=MAX_TITLE, what="board title", multiline=False).strip()
    if not text:
        raise InvalidInput("A board needs a title (1 to 200 characters).")
    return text


def clean_color(color: Any) -> str:
    """A colour as ``#rrggbb`` (lower case), or '' for none."""
    if color in ("", None):
        return ""
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise InvalidInput(f"'{color}' is not a colour; use the #rrggbb form, e.g. #ff8800.")
    return color.lower()


def clean_url(url: Any) -> str:
    """A web link: http or https with a host (javascript:, data: and the like are refused)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("A link needs a web address, e.g. https://example.com/reference.")
    url = url.strip()
    if len(url) > MAX_URL or any(unicodedata.category(c)[0] == "C" or c.isspace() for c in url):
        raise InvalidInput("That web address is too long or contains spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"Only http:// and https:// links can go on a board, not '{url[:60]}'.")
    return url


def check_point(x: Any, y: Any) -> tuple[float, float]:
    """A canvas position: finite numbers within a million pixels of the origin."""
    try:
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        raise InvalidInput("An item's position must be two numbers (x, y).") from None
    if not (math.isfinite(fx) and math.isfinite(fy)) or max(abs(fx), abs(fy)) > MAX_COORD:
        raise InvalidInput(f"Position ({x}, {y}) is off the canvas; use finite numbers within ±{MAX_COORD:,.0f}.")
    return fx, fy


def check_size(w: Any, h: Any) -> tuple[float, float]:
    """An item size: positive, finite, at most 20 000 pixels a side."""
    try:
        fw, fh = float(w), float(h)
    except (TypeError, ValueError):
        raise InvalidInput("An item's size must be two numbers (width, height).") from None
    if not (math.isfinite(fw) and math.isfinite(fh)) or fw <= 0 or fh <= 0 or max(fw, fh) > MAX_SIZE:
        raise InvalidInput(f"Size {w} x {h} is not usable; width and height must be between 0 and {MAX_SIZE:,.0f}.")
    return fw, fh


def check_role(role: Any) -> str:
    """A role a member or link can hold."""
    if role not in ROLES:
        raise InvalidInput(f"The role must be 'view', 'comment' or 'edit', not '{role}'.")
    return str(role)
