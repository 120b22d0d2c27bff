"""Sharing a board: share links (view, comment or edit; optional expiry; revocable) and named members.

Only the owner hands out or takes back access, so an editor cannot make
themselves (or anyone) more than the owner chose. A link's raw token is shown
once, when it is made; the database keeps only its SHA-256, and revoking a link
stops it at once because every board call checks the link inside its own
transaction.

    >>> link, token = wb.boards.create_link(me, board.id, "view", expires_in=timedelta(days=7))
    >>> url = f"{settings.server.public_url}/board?token={token}"
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from store import Tx
from workbench.accounts import User
from workbench.boards.access import Access, link_role, token_hash
from workbench.boards.core import BoardsBase, Change
from workbench.boards.model import MAX_HEADING, BoardMember, ShareLink, check_role
from workbench.boards.presence import forget_presence
from workbench.errors import InvalidInput, NotFound
from workbench.text import clean_text

__all__ = ["BoardSharing"]


class BoardSharing(BoardsBase):
    """Share links and members of :class:`~workbench.boards.Boards`."""

    # -- links ---------------------------------------------------------------------------
    def create_link(
        self, user: User, board_id: str, role: str, *, expires_in: timedelta | None = None, label: str = "",
    ) -> tuple[ShareLink, str]:
        """Make a share link; returns the link and its token (shown this once; keep it).

        Anyone holding the token gets ``role`` on the board until the link expires or the
        owner revokes it: 'view' (look only), 'comment' (look and comment, signing with a
        display name) or 'edit'.
        """
        role = check_role(role)
        label = clean_text(label, field="link label", max_chars=MAX_HEADING, multiline=False)
        if expires_in is not None and (not isinstance(expires_in, timedelta) or expires_in <= timedelta(0)):
            raise InvalidInput("A link's lifetime must be a positive duration, e.g. timedelta(days=7).")
        token = secrets.token_urlsafe(32)  # 256 random bits
        link_id = "sl_" + uuid.uuid4().hex[:16]

        def build(cur: Tx, access: Access, now: datetime) -> Change[ShareLink]:
            if self._limits is not None:  # after the owner check: a stranger is refused, not slowed down
                self._limits.check(user.id, "share_link")
            expires_at = now + expires_in if expires_in is not None else None
            cur.execute(
                "INSERT INTO share_links VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                [link_id, board_id, token_hash(token), role, user.id, label, expires_at, now],
            )
            link = ShareLink(link_id, board_id, role, label, user.id, now, expires_at, None)
            return Change(link, "share", {"action": "link_created", "link_id": link_id, "role": role,
                                          "label": label})

        link = self._change(user, board_id, None, need="owner", action="share it", build=build)
        return link, token

    def links(self, user: User, board_id: str) -> list[ShareLink]:
        """The board's share links, newest first, revoked and expired ones included (owner only)."""
        self._access(user, board_id, None, need="owner", action="see its share links")
        rows = self._db.query("SELECT * FROM share_links WHERE board_id = ? ORDER BY created_at DESC, id",
                              [board_id])
        return [ShareLink.from_row(r) for r in rows]

    def revoke_link(self, user: User, board_id: str, link_id: str) -> ShareLink:
        """Stop a share link working, immediately (revoking twice is fine)."""

        def build(cur: Tx, access: Access, now: datetime) -> Change[str]:
            row = cur.execute("SELECT revoked_at FROM share_links WHERE id = ? AND board_id = ?",
                              [link_id, board_id]).fetchone()
            if row is None:
                raise NotFound(f"This board has no share link {link_id}.")
            first = row[0] is None
            if first:
                cur.execute("UPDATE share_links SET revoked_at = ? WHERE id = ?", [now, link_id])
                forget_presence(cur, board_id, link_id=link_id)
            return Change(link_id, "share", {"action": "link_revoked", "link_id": link_id}, record=first)

        self._change(user, board_id, None, need="owner", action="revoke its links", build=build)
        row = self._db.query_one("SELECT * FROM share_links WHERE id = ?", [link_id])
        assert row is not None
        return ShareLink.from_row(row)

    def resolve_token(self, token: str) -> tuple[str, str]:
        """(board id, role) a share-link token opens now; NotFound when revoked, expired or unknown."""
        if not isinstance(token, str) or not token or len(token) > 200:
            raise NotFound("This share link is not valid.")
        row = self._db.query_one(
            "SELECT l.board_id, b.status FROM share_links l JOIN boards b ON b.id = l.board_id WHERE token_hash = ?",
            [token_hash(token)],
        )
        found = link_role(lambda sql, params: self._db.query(sql, list(params)), row["board_id"], token) if row else None
        if row is None or found is None or row["status"] == "deleted":
            raise NotFound("This share link no longer opens a board (it was revoked or has expired); "
                           "ask the board's owner for a new one.")
        return str(row["board_id"]), found[0]

    # -- members -------------------------------------------------------------------------
    def _person(self, person: User | str) -> User | str:
        """A User (when the accounts domain can tell) or a bare user id."""
        if isinstance(person, User):
            return person
        if not isinstance(person, str) or not person.strip():
            raise InvalidInput("Share with a person's email or user id.")
        person = person.strip()
        if self._accounts is None:
            if "@" in person:
                raise InvalidInput("Sharing by email is not available here; use the person's user id.")
            return person
        found = self._accounts.find_by_email(person) if "@" in person else None
        if "@" in person and found is None:
            raise InvalidInput(f"No one with the email {person} uses the workbench yet; invite them first.")
        if found is not None:
            return found
        try:
            return self._accounts.get_user(person)
        except NotFound:
            raise InvalidInput(f"No user with id {person}.") from None

    def share_with(self, user: User, board_id: str, person: User | str, role: str) -> BoardMember:
        """Give a named person ('view', 'comment' or 'edit') access to a board, or change their role.

        Every named member may comment, whatever their role.

        >>> wb.boards.share_with(me, board.id, "ben@example.com", "edit")
        """
        role = check_role(role)
        self._access(user, board_id, None, need="owner", action="share it")  # before saying who exists
        who = self._person(person)
        member_id = who.id if isinstance(who, User) else who

        def build(cur: Tx, access: Access, now: datetime) -> Change[BoardMember]:
            if member_id == access.board["owner"]:
                raise InvalidInput("The owner already has every right on their board.")
            row = cur.execute("SELECT role, created_at FROM board_members WHERE board_id = ? AND user_id = ?",
                              [board_id, member_id]).fetchone()
            if row is None:
                cur.execute("INSERT INTO board_members VALUES (?, ?, ?, ?)", [board_id, member_id, role, now])
            elif row[0] != role:
                cur.execute("UPDATE board_members SET role = ? WHERE board_id = ? AND user_id = ?",
                            [role, board_id, member_id])
            member = BoardMember(board_id, member_id, role, row[1] if row else now,
                                 *((who.email, who.display_name) if isinstance(who, User) else ("", "")))
            return Change(member, "share", {"action": "member_set", "user_id": member_id, "role": role},
                          record=row is None or row[0] != role)

        return self._change(user, board_id, None, need="owner", action="share it", build=build)

    def unshare(self, user: User, board_id: str, person: User | str) -> None:
        """Take a member's access away (the owner), or leave a board shared with you (the member)."""
        self._access(user, board_id, None)
        who = self._person(person)
        member_id = who.id if isinstance(who, User) else who
        leaving = member_id == user.id
        need = "view" if leaving else "owner"

        def build(cur: Tx, access: Access, now: datetime) -> Change[None]:
            gone = cur.scalar("DELETE FROM board_members WHERE board_id = ? AND user_id = ?", [board_id, member_id])
            if gone:
                forget_presence(cur, board_id, user_id=member_id)
            return Change(None, "share", {"action": "member_removed", "user_id": member_id}, record=bool(gone))

        self._change(user, board_id, None, need=need, action="change who it is shared with", build=build)

    def members(self, user: User | None, board_id: str, *, token: str | None = None) -> list[BoardMember]:
        """The people a board is shared with by name (anyone who can view the board may look)."""
        self._access(user, board_id, token)
        rows = self._db.query("SELECT * FROM board_members WHERE board_id = ? ORDER BY created_at, user_id",
                              [board_id])
        members = []
        for row in rows:
            email = name = ""
            if self._accounts is not None:
                try:
                    person = self._accounts.get_user(row["user_id"])
                    email, name = person.email, person.display_name
                except NotFound:
                    pass
            members.append(BoardMember(board_id, row["user_id"], row["role"], row["created_at"], email, name))
        return members

