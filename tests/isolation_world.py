"""The world the isolation suite attacks: filmmaker A's things, and the people who try to reach them.

A (premium) owns a library (private, team and public images), a shared board
with every kind of item, an unshared board, a Magic Board, share links (view
and edit), a screenplay with several versions, an idea drafted with AI (so her
ledger has reservations and commits) and a ZIP export of her board. B (premium,
so the premium gate never hides an isolation failure) has a library of her
own; C (free) owns nothing and shares nothing. Link holders act anonymously
(``user=None``) or as B, holding A's view or edit token.

Every private thing of A carries a marker (an id, or ``A-SECRET-...`` text):
:meth:`World.leaked` finds any of them in whatever a call returned, so a
filtered result is checked for *all* of A's private things, not one field.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import png_bytes
from workbench import User, Workbench

__all__ = ["Actor", "World", "build_world", "ROLE_RANK"]

ROLE_RANK = {None: 0, "view": 1, "edit": 2, "owner": 3}
PITCH = ("A projectionist finds a reel nobody remembers shooting. "
         "The film shows her own street at night. "
         "She follows the camera's path through the rain.")


@dataclass(frozen=True)
class Actor:
    """Someone trying a path: a signed-in user or an anonymous link holder, maybe holding a token.

    ``board_role`` is what they hold on A's shared board (None: nothing).
    """

    name: str
    user: User | None
    token: str | None
    board_role: str | None

    @property
    def is_owner(self) -> bool:
        return self.board_role == "owner"

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    def may(self, need: str) -> bool:
        """Whether this actor's role on A's shared board reaches ``need`` ('view', 'edit', 'owner')."""
        return ROLE_RANK[self.board_role] >= ROLE_RANK[need]


@dataclass
class World:
    """A's things (ids), the actors, and the secrets no filtered answer may contain."""

    wb: Workbench
    a: User
    b: User
    c: User
    actors: dict[str, Actor]
    private_on_board: str          # A's private image, placed on the shared board
    private_hidden: str            # A's private image on no board at all
    team_image: str
    public_image: str
    b_image: str                   # B's own private image (B's searches are not empty)
    board: str                     # A's board, opened by the view and edit links
    hidden_board: str              # A's board nobody else has any role on
    magic_board: str
    view_link: str
    edit_link: str
    document: str                  # A's screenplay, several versions
    idea: str                      # A's AI-drafted idea
    zip_export: bytes              # a board of A's with nothing private on it, exported as ZIP
    secret_text: str               # text only A's private things contain
    hidden_tag: str                # a tag only A's hidden private image carries
    b_document: str = ""           # B's own screenplay
    hidden_item: str = ""          # the item on A's unshared board
    hidden_bytes: bytes = b""      # the picture of A's hidden private image
    hidden_vector: Any = None      # its stored vector
    trashed_board: str = ""        # A's board in the trash
    secrets: set[str] = field(default_factory=set)
    board_visible: set[str] = field(default_factory=set)  # secrets anyone who may view the board sees

    def fingerprint(self) -> tuple[Any, ...]:
        """A digest of every row of A's (and of her boards): a refused call must leave it unchanged.

        One read of the real tables, so the suite can afford it after every refusal.
        """
        rows = self.wb.db.query(_FINGERPRINT, [self.a.id] * len(_FINGERPRINT_TABLES))
        return tuple(sorted((r["name"], r["digest"]) for r in rows))

    def leaked(self, result: Any, *, allowed: Iterable[str] = ()) -> list[str]:
        """The secrets of A found anywhere in ``result`` (minus ``allowed``), sorted."""
        text = _text_of(result)
        return sorted(s for s in self.secrets - set(allowed) if s in text)

    # -- disposable things for allowed destructive calls ---------------------------------
    def fresh_board(self, title: str = "Scratch") -> str:
        """A new board of A's, for calls that would spoil the shared one (archive, delete...)."""
        return self.wb.boards.create(self.a, title).id

    def fresh_note(self) -> str:
        """A new note of A's on the shared board, for an edit an actor may be allowed to make."""
        return self.wb.boards.add_note(self.a, self.board, "scratch note").id

    def fresh_image(self, user: User) -> str:
        """A new private image of ``user`` (for deletes and edits that are allowed)."""
        return self.wb.library.ingest(user, png_bytes((90, 90, 90), seed=int(uuid.uuid4().int % 10_000)),
                                      filename="scratch.png").id

    def fresh_document(self, user: User) -> str:
        """A new screenplay of ``user``."""
        return self.wb.writing.create(user, "screenplay", "Scratch", "INT. ROOM - DAY\n\nA chair.").id


_MINE = "SELECT id FROM boards WHERE owner = ?"
_FINGERPRINT_TABLES = {
    "users": "id = ?",
    "credit_ledger": "user_id = ?",
    "images": "owner = ?",
    "image_tags": "image_id IN (SELECT id FROM images WHERE owner = ?)",
    "documents": "owner = ?",
    "document_versions": "document_id IN (SELECT id FROM documents WHERE owner = ?)",
    "boards": "owner = ?",
    "board_items": f"board_id IN ({_MINE})",
    "board_members": f"board_id IN ({_MINE})",
    "share_links": f"board_id IN ({_MINE})",
    "board_events": f"board_id IN ({_MINE})",
    "storyboards": f"board_id IN ({_MINE})",
    "storyboard_scenes": f"board_id IN ({_MINE})",
    "storyboard_frames": f"board_id IN ({_MINE})",
}
# One UNION ALL of plain aggregates: DuckDB plans it in about a millisecond a table, where
# the same aggregates as scalar subqueries of one SELECT take ten times as long.
_FINGERPRINT = " UNION ALL ".join(
    f"SELECT '{table}' AS name, count(*)::VARCHAR || ':' || coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR AS digest"
    f" FROM {table} t WHERE {where}" for table, where in _FINGERPRINT_TABLES.items())


def _text_of(value: Any, depth: int = 0) -> str:
    """Every string, id and repr reachable in a result (dataclasses, dicts, lists, bytes)."""
    if depth > 8:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(_text_of(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return " ".join(_text_of(k, depth + 1) + " " + _text_of(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(_text_of(v, depth + 1) for v in value)
    return repr(value)


def build_world(wb: Workbench) -> World:
    """Make A's world, B's small library and the actors (once per module: about two seconds)."""
    tag = uuid.uuid4().hex[:8]
    secret = f"A-SECRET-{tag}"
    a = wb.accounts.create_user(f"a-{tag}@example.com", display_name="Ana", plan="premium",
                                external_id=f"clerk_a_{tag}")
    b = wb.accounts.create_user(f"b-{tag}@example.com", display_name="Ben", plan="premium",
                                external_id=f"clerk_b_{tag}")
    c = wb.accounts.create_user(f"c-{tag}@example.com", display_name="Cara", plan="free")
    lib = wb.library
    on_board = lib.ingest(a, png_bytes((200, 30, 30), seed=1), filename="on-board.png", tags=["noir"],
                          caption=f"A-BOARD-{tag} on the board", wait=True)
    hidden_bytes = png_bytes((30, 200, 30), seed=2)
    hidden = lib.ingest(a, hidden_bytes, filename="hidden.png",
                        tags=["noir", f"hidden-{tag}"], caption=f"{secret} hidden", wait=True)
    team = lib.ingest(a, png_bytes((30, 30, 200), seed=3), filename="team.png", tags=["noir"],
                      visibility="team", wait=True)
    public = lib.ingest(a, png_bytes((200, 200, 30), seed=4), filename="public.png", tags=["noir"],
                        visibility="public", wait=True)
    b_image = lib.ingest(b, png_bytes((200, 30, 200), seed=5), filename="bens.png", tags=["noir"], wait=True)

    doc = wb.writing.create(a, "screenplay", "Night Reel", f"INT. BOOTH - NIGHT\n\n{secret} in the script.")
    wb.writing.save(a, doc.id, doc.body + "\n\nShe threads the reel.")
    idea = wb.writing.idea(a, "a projectionist and a forgotten reel", seed=1)[0]

    boards = wb.boards
    board = boards.create(a, "Night reel", "Stills for the booth")
    boards.add_image(a, board.id, on_board.id, caption="the booth")
    boards.add_images(a, board.id, [team.id, public.id])
    boards.add_note(a, board.id, "rain on the glass")
    boards.add_heading(a, board.id, "Act one")
    boards.add_link(a, board.id, "https://example.com/reference", title="reference")
    boards.add_script_excerpt(a, board.id, doc.id, 0, 18)
    hidden_board = boards.create(a, f"{secret} board", "nobody else's")
    hidden_item = boards.add_image(a, hidden_board.id, hidden.id)
    view_link, view_token = boards.create_link(a, board.id, "view", label="for the crew")
    edit_link, edit_token = boards.create_link(a, board.id, "edit", label="for the editor")
    trashed = boards.create(a, f"{secret} trashed")
    boards.delete(a, trashed.id)
    magic = wb.magic.create(a, PITCH, seed=1)
    for_export = boards.create(a, "Reel for the festival")
    boards.add_image(a, for_export.id, public.id, caption="the marquee")
    boards.add_note(a, for_export.id, "opening night")
    out = io.BytesIO()
    boards.export_zip(a, for_export.id, out)
    b_doc = wb.writing.create(b, "screenplay", "Ben's pages", "EXT. ROOF - DAWN\n\nBen waits.")
    for person in (a, b, c):  # enough credits that no refusal is about money
        wb.accounts.grant(person, 500, note="isolation suite")

    actors = {actor.name: actor for actor in (
        Actor("owner", a, None, "owner"),
        Actor("other", b, None, None),
        Actor("stranger", c, None, None),
        Actor("view_link", None, view_token, "view"),
        Actor("edit_link", None, edit_token, "edit"),
        Actor("other_view_link", b, view_token, "view"),
        Actor("other_edit_link", b, edit_token, "edit"),
    )}
    world = World(
        wb=wb, a=a, b=b, c=c, actors=actors, private_on_board=on_board.id, private_hidden=hidden.id,
        team_image=team.id, public_image=public.id, b_image=b_image.id, board=board.id,
        hidden_board=hidden_board.id, magic_board=magic.board.id, view_link=view_link.id,
        edit_link=edit_link.id, document=doc.id, idea=idea.id, zip_export=out.getvalue(), secret_text=secret,
        hidden_tag=f"hidden-{tag}", b_document=b_doc.id, trashed_board=trashed.id,
        hidden_item=hidden_item.id, hidden_bytes=hidden_bytes,
        hidden_vector=wb.search.stored_vectors([hidden.id])[hidden.id],
    )
    ledger = wb.accounts.ledger(a)
    world.secrets = {
        on_board.id, hidden.id, secret, hidden_board.id, doc.id, idea.id,
        magic.board.id, trashed.id, board.id, f"A-BOARD-{tag}", *(entry.id for entry in ledger), *(e.reservation_id for e in ledger if e.reservation_id),
    }
    # What the shared board itself shows to anyone who may view it (its private picture, the
    # quoted script's id): allowed in answers about the board, never through library or search.
    world.board_visible = {board.id, on_board.id, f"A-BOARD-{tag}", doc.id}
    return world
