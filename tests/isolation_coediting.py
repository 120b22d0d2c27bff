"""Isolation cases for co-editing (issue #20): the live stream, batch adds, comments and presence.

Comment rights on A's shared board: A, and the edit-link holders (the world has no
comment link and no members on it); view-link holders read comments but cannot
write them, and nobody else reaches them at all.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.isolation_cases import ALLOW, DENY, Case, by_role, owner_only
from tests.isolation_world import Actor, World
from workbench.boards import BoardEvent

__all__ = ["COEDITING_CASES"]

S, H = "shared board", "unshared board"


def _boards(w: World) -> Any:
    return w.wb.boards


def _may_comment(actor: Actor) -> str:
    return ALLOW if actor.may("edit") else DENY


def _watched(w: World, x: Actor, board_id: str) -> list[BoardEvent]:
    """Everything a watch from seq 0 replays (the catch-up runs before watch returns)."""
    heard: list[BoardEvent] = []
    lock = threading.Lock()

    def listener(event: BoardEvent) -> None:
        with lock:
            heard.append(event)

    _boards(w).watch(x.user, board_id, listener, token=x.token, since=0)()
    return heard


def _no_share_events(w: World, x: Actor, events: list[BoardEvent]) -> None:
    assert events, "the catch-up replayed nothing"
    if not x.is_owner:
        assert all(e.kind != "share" for e in events), f"{x.name} hears the board's sharing events"


def _a_comment(w: World, x: Actor) -> str:
    return str(_boards(w).comments.add(w.a, w.board, "A's comment on the booth").id)


def _revoked_token(w: World, x: Actor) -> str:
    link, token = _boards(w).create_link(w.a, w.board, "edit", label="revoked at once")
    _boards(w).revoke_link(w.a, w.board, link.id)
    return token


def _session() -> str:
    return "iso-" + uuid.uuid4().hex


def _note_spec(w: World, x: Actor) -> list[dict[str, Any]]:
    return [{"kind": "note", "text": "batch one"}, {"kind": "image", "image_id": w.public_image, "x": 5, "y": 5}]


COEDITING_CASES: list[Case] = [
    # -- the live stream ---------------------------------------------------------------------------
    Case("boards.watch", S, lambda w, x, _: _watched(w, x, w.board), by_role("view"), check=_no_share_events,
         board_scoped=True),
    Case("boards.watch", H, lambda w, x, _: _watched(w, x, w.hidden_board), owner_only, owner_sees=True),
    Case("boards.watch", "with a revoked edit token", lambda w, x, token: _boards(w).watch(
        x.user, w.board, lambda e: None, token=token)(), owner_only, setup=_revoked_token),
    # -- many cards as one change ----------------------------------------------------------------
    Case("boards.add_items", S, lambda w, x, _: _boards(w).add_items(x.user, w.board, _note_spec(w, x),
                                                                     token=x.token), by_role("edit"),
         board_scoped=True),
    Case("boards.add_items", "an image the actor cannot see", lambda w, x, made: _boards(w).add_items(
        x.user, w.board, [{"kind": "image", "image_id": made or w.private_hidden}], token=x.token), owner_only,
        setup=lambda w, x: w.fresh_image(w.a) if x.is_owner else None),
    Case("boards.add_items", H, lambda w, x, _: _boards(w).add_items(
        x.user, w.hidden_board, [{"kind": "note", "text": "x"}], token=x.token), owner_only),
    # -- comments ----------------------------------------------------------------------------------
    Case("boards.comments.add", S, lambda w, x, _: _boards(w).comments.add(
        x.user, w.board, "Warmer light here?", token=x.token, display_name="Dee"), _may_comment,
        board_scoped=True),
    Case("boards.comments.add", "a reply to A's comment", lambda w, x, root: _boards(w).comments.add(
        x.user, w.board, "Agreed", token=x.token, parent_id=root), _may_comment, setup=_a_comment,
        board_scoped=True),
    Case("boards.comments.add", H, lambda w, x, _: _boards(w).comments.add(
        x.user, w.hidden_board, "mine", token=x.token), owner_only),
    Case("boards.comments.add", "with a revoked edit token", lambda w, x, token: _boards(w).comments.add(
        x.user, w.board, "still here?", token=token), owner_only, setup=_revoked_token),
    Case("boards.comments.list", S, lambda w, x, _: _boards(w).comments.list(x.user, w.board, token=x.token),
         by_role("view"), setup=_a_comment, board_scoped=True),
    Case("boards.comments.list", H, lambda w, x, _: _boards(w).comments.list(x.user, w.hidden_board,
                                                                             token=x.token), owner_only),
    Case("boards.comments.resolve", "A's comment", lambda w, x, root: _boards(w).comments.resolve(
        x.user, w.board, root, token=x.token), _may_comment, setup=_a_comment, board_scoped=True),
    Case("boards.comments.reopen", "A's resolved comment", lambda w, x, root: _boards(w).comments.reopen(
        x.user, w.board, root, token=x.token), _may_comment,
        setup=lambda w, x: _boards(w).comments.resolve(w.a, w.board, _a_comment(w, x)).id, board_scoped=True),
    Case("boards.comments.delete", "A's comment", lambda w, x, root: _boards(w).comments.delete(
        x.user, w.board, root, token=x.token), owner_only, setup=_a_comment),
    # -- presence ----------------------------------------------------------------------------------
    Case("boards.presence.join", S, lambda w, x, _: _boards(w).presence.join(
        x.user, w.board, token=x.token, session_id=_session(), display_name="Dee"), by_role("view"),
        board_scoped=True),
    Case("boards.presence.join", H, lambda w, x, _: _boards(w).presence.join(
        x.user, w.hidden_board, token=x.token, session_id=_session()), owner_only),
    Case("boards.presence.join", "with a revoked edit token", lambda w, x, token: _boards(w).presence.join(
        x.user, w.board, token=token, session_id=_session()), owner_only, setup=_revoked_token),
    Case("boards.presence.present", S, lambda w, x, _: _boards(w).presence.present(x.user, w.board,
                                                                                  token=x.token),
         by_role("view"), setup=lambda w, x: _boards(w).presence.join(w.a, w.board, session_id=_session()),
         board_scoped=True),
    Case("boards.presence.present", H, lambda w, x, _: _boards(w).presence.present(
        x.user, w.hidden_board, token=x.token), owner_only),
]
