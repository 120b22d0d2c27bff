"""Who may do what on a board: the owner, named members, and share-link holders.

Roles rank ``owner > edit > comment > view``. A person's role on a board is the highest
of: being its owner, being a member, and holding a valid share link for it.
Someone with no role gets :class:`NotFound`, exactly as if the board did not
exist, so board ids cannot be probed; someone who may look but not do the thing
asked gets :class:`Forbidden` with a message saying who can.

Share-link tokens are 256-bit random strings; only their SHA-256 is stored, so
a copy of the database does not hand out access.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from store import Tx
from workbench.accounts import User
from workbench.boards.model import ROLE_RANK, utcnow
from workbench.errors import Conflict, Forbidden, NotFound

__all__ = ["Access", "Reader", "resolve", "token_hash", "cursor_reader"]

Reader = Callable[[str, Sequence[Any]], list[dict[str, Any]]]


def cursor_reader(cur: Tx) -> Reader:
    """Reads inside a write transaction, so a check and the change it guards see the same state."""

    def read(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        result = cur.execute(sql, list(params))
        columns = [d[0] for d in result.description or []]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    return read


def token_hash(token: str) -> str:
    """The stored form of a share-link token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Access:
    """A resolved role of one person (or link holder) on one board."""

    board: dict[str, Any]
    role: str
    user: User | None
    link_id: str | None
    #: The role the person holds themselves (owner or member), whatever a link adds; None: the link only.
    person_role: str | None = None

    @property
    def board_id(self) -> str:
        return str(self.board["id"])

    @property
    def actor(self) -> str:
        """Who the history names: the user, or the link for an anonymous link holder."""
        if self.user is not None:
            return self.user.id
        return f"link:{self.link_id}"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def may_comment(self) -> bool:
        """Comment and edit link holders, and every named member (a view member too), may comment."""
        return self.person_role is not None or ROLE_RANK[self.role] >= ROLE_RANK["comment"]

    def receives(self, kind: str) -> bool:
        """Whether this viewer may see a board event of ``kind`` (history, catch-up, the live stream).

        Sharing events (who holds which link, who was added) are the owner's business;
        everything else, comments included, goes to everyone who may view the board.
        """
        return kind != "share" or self.is_owner

    def require(self, need: str, action: str) -> None:
        """Raise unless this role may do ``action`` (``need`` is 'view', 'edit' or 'owner')."""
        if ROLE_RANK[self.role] < ROLE_RANK[need]:
            if need == "owner":
                raise Forbidden(f"Only the board's owner can {action}.")
            raise Forbidden(
                f"You can view this board but not {action}; ask its owner for edit access."
            )
        if need == "edit" and self.board["status"] == "archived":
            raise Conflict("This board is archived; its owner can unarchive it to make changes.")


def link_role(read: Reader, board_id: str, token: str) -> tuple[str, str] | None:
    """(role, link id) of a token that opens this board now, or None."""
    rows = read("SELECT id, board_id, role, expires_at, revoked_at FROM share_links WHERE token_hash = ?",
                [token_hash(token)])
    if not rows:
        return None
    link = rows[0]
    if link["board_id"] != board_id or link["revoked_at"] is not None:
        return None
    if link["expires_at"] is not None and link["expires_at"] <= utcnow():
        return None
    return str(link["role"]), str(link["id"])


def resolve(
    read: Reader, user: User | None, board_id: str, token: str | None = None, *, allow_deleted: bool = False
) -> Access:
    """The role of ``user`` (and/or the holder of ``token``) on a board, or NotFound."""
    rows = read("SELECT * FROM boards WHERE id = ?", [board_id]) if isinstance(board_id, str) else []
    board = rows[0] if rows else None
    if board is None:
        raise NotFound(f"No board {board_id}.")
    roles: list[str] = []
    if user is not None:
        if board["owner"] == user.id:
            roles.append("owner")
        else:
            member = read("SELECT role FROM board_members WHERE board_id = ? AND user_id = ?", [board_id, user.id])
            if member:
                roles.append(member[0]["role"])
    person_role = roles[0] if roles else None
    link_id = None
    link = link_role(read, board_id, token) if token else None
    if link is not None:
        roles.append(link[0])
        link_id = link[1]
    if not roles:
        if token:
            raise NotFound("This share link no longer opens a board (it was revoked or has expired); "
                           "ask the board's owner for a new one.")
        raise NotFound(f"No board {board_id}.")
    role = max(roles, key=ROLE_RANK.__getitem__)
    if board["status"] == "deleted":
        if role != "owner":
            raise NotFound(f"No board {board_id}.")
        if not allow_deleted:
            raise NotFound(f"The board '{board['title']}' is in the trash; restore it first.")
    return Access(board=board, role=role, user=user, link_id=link_id, person_role=person_role)
