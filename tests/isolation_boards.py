"""Isolation cases for boards (life, canvas, history, sharing, export, import) and board suggestions.

Targets are A's shared board (opened by the view and edit links), her unshared
board and an item on it. An allowed call that would spoil the shared world
(archive, delete, revoke...) works on a scratch thing A makes in ``setup``;
everyone else tries the real one.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import timedelta
from typing import Any

from tests.isolation_cases import (
    ALLOW,
    DENY,
    FILTER,
    Case,
    by_role,
    everyone_denied,
    own_scope,
    owner_only,
    signed_in_role,
)
from tests.isolation_world import Actor, World
from workbench import Forbidden, NotFound, PremiumRequired
from workbench.boards import ItemMove

__all__ = ["BOARD_CASES"]


def _boards(w: World) -> Any:
    return w.wb.boards


def _scratch_board(w: World, x: Actor) -> str | None:
    return w.fresh_board() if x.is_owner else None


def _note(w: World, x: Actor) -> str:
    return w.fresh_note()


def _own_note(w: World, x: Actor) -> str:
    """A note the actor added themselves when they may edit (undo takes back your own changes only)."""
    if x.may("edit"):
        return str(_boards(w).add_note(x.user, w.board, "my scratch note", token=x.token).id)
    return w.fresh_note()


def _own_note_undone(w: World, x: Actor) -> str:
    note = _own_note(w, x)
    editor = x if x.may("edit") else w.actors["owner"]
    _boards(w).undo(editor.user, w.board, token=editor.token)
    return note


def _no_share_events(w: World, x: Actor, events: list[Any]) -> None:
    # Who holds which link is the owner's business: nobody else sees sharing events.
    if not x.is_owner:
        assert all(e.kind != "share" for e in events), f"{x.name} sees the board's sharing events"


def _unzipped(w: World, x: Actor, board_id: str) -> dict[str, bytes]:
    out = io.BytesIO()
    _boards(w).export_zip(x.user, board_id, out, token=x.token)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _pdf(w: World, x: Actor, board_id: str) -> bytes:
    out = io.BytesIO()
    _boards(w).export_pdf(x.user, board_id, out, token=x.token)
    return out.getvalue()


def _copy_is_clean(w: World, x: Actor, board: Any) -> None:
    """A copy made by someone else leaves out A's private picture and is theirs alone."""
    view = _boards(w).get(x.user, board.id)
    assert view.board.owner == (x.user.id if x.user else None)
    if not x.is_owner:
        assert w.private_on_board not in {i.image_id for i in view.items}, f"{x.name}'s copy kept A's private image"
        assert not w.leaked(view, allowed={w.document}), f"{x.name}'s copy holds A's private things"


def _import_is_theirs(w: World, x: Actor, board: Any) -> None:
    """An imported board and every picture on it belong to the importer, never to A."""
    view = _boards(w).get(x.user, board.id)
    assert x.user is not None and view.board.owner == x.user.id
    assert all(image.owner == x.user.id for image in view.images.values()), "an import handed out A's images"


def _magic_is_clean(w: World, x: Actor, result: Any) -> None:
    view = _boards(w).get(x.user, result.board.id)
    if not x.is_owner:
        assert not w.leaked(view), f"{x.name}'s Magic Board used A's private things"


def _resolved(w: World, x: Actor, found: tuple[str, str]) -> None:
    assert found == (w.board, x.board_role), f"{x.name}'s token opened {found}"


def _revoked_token(w: World, x: Actor) -> str:
    link, token = _boards(w).create_link(w.a, w.board, "edit", label="revoked at once")
    _boards(w).revoke_link(w.a, w.board, link.id)
    return token


def _expired_token(w: World, x: Actor) -> str:
    _, token = _boards(w).create_link(w.a, w.board, "edit", expires_in=timedelta(milliseconds=1))
    time.sleep(0.005)  # the link's lifetime is over before anyone uses it
    return token


def _shared_with_c(w: World, x: Actor) -> str | None:
    if not x.is_owner:
        return None
    board_id = w.fresh_board("Shared with C")
    _boards(w).share_with(w.a, board_id, w.c, "view")
    return board_id


def _frame(w: World, x: Actor) -> str:
    """A storyboard frame of A's on the shared board (the public still, captioned as Magic Boards do)."""
    return str(_boards(w).add_image(w.a, w.board, w.public_image, caption="1. Rain on a neon booth.").id)


def _frame_and_image(w: World, x: Actor) -> tuple[str, str | None]:
    return _frame(w, x), (w.fresh_image(w.a) if x.is_owner else None)


def _editor_searches(actor: Actor) -> str:
    if not (actor.may("edit") and actor.signed_in):
        return DENY
    return ALLOW if actor.is_owner else FILTER


def _only(name: str) -> Any:
    return lambda actor: ALLOW if actor.name == name else DENY


def _magic_expect(actor: Actor) -> str:
    if actor.is_owner:
        return ALLOW
    return FILTER if actor.signed_in and actor.user is not None and actor.user.premium else DENY


S, H = "shared board", "unshared board"
BOARD_CASES: list[Case] = [
    # -- reading and a board's life --------------------------------------------------------------
    Case("boards.get", S, lambda w, x, _: _boards(w).get(x.user, w.board, token=x.token), by_role("view"),
         board_scoped=True),
    Case("boards.get", H, lambda w, x, _: _boards(w).get(x.user, w.hidden_board, token=x.token), owner_only),
    Case("boards.get", "board in the trash", lambda w, x, _: _boards(w).get(x.user, w.trashed_board,
                                                                            token=x.token), everyone_denied),
    Case("boards.list", "their boards", lambda w, x, _: _boards(w).list(x.user, include_archived=True),
         own_scope, owner_sees=True),
    Case("boards.browse", "their boards, searched and paged", lambda w, x, _: _boards(w).browse(
        x.user, search="", sort="title", include_archived=True, limit=50), own_scope, owner_sees=True),
    Case("boards.trash", "their trash", lambda w, x, _: _boards(w).trash(x.user), own_scope, owner_sees=True),
    Case("boards.create", "a board of their own", lambda w, x, _: _boards(w).create(x.user, "Mine"), own_scope),
    Case("boards.rename", S, lambda w, x, _: _boards(w).rename(x.user, w.board, "Night reel", token=x.token),
         by_role("edit"), board_scoped=True),
    Case("boards.rename", H, lambda w, x, _: _boards(w).rename(
        x.user, w.hidden_board, f"{w.secret_text} board", token=x.token), owner_only),
    Case("boards.describe", S, lambda w, x, _: _boards(w).describe(
        x.user, w.board, "Stills for the booth", token=x.token), by_role("edit"), board_scoped=True),
    Case("boards.duplicate", S, lambda w, x, _: _boards(w).duplicate(x.user, w.board, token=x.token),
         signed_in_role("view"), check=_copy_is_clean, board_scoped=True),
    Case("boards.duplicate", H, lambda w, x, _: _boards(w).duplicate(x.user, w.hidden_board, token=x.token),
         owner_only),
    Case("boards.archive", S, lambda w, x, made: _boards(w).archive(x.user, made or w.board), owner_only,
         setup=_scratch_board),
    Case("boards.unarchive", S, lambda w, x, made: _boards(w).unarchive(x.user, made or w.board), owner_only,
         setup=lambda w, x: _boards(w).archive(w.a, w.fresh_board()).id if x.is_owner else None),
    Case("boards.delete", S, lambda w, x, made: _boards(w).delete(x.user, made or w.board), owner_only,
         setup=_scratch_board),
    Case("boards.restore", "board in the trash", lambda w, x, made: _boards(w).restore(
        x.user, made or w.trashed_board), owner_only,
        setup=lambda w, x: _boards(w).delete(w.a, w.fresh_board()).id if x.is_owner else None),
    # -- history -------------------------------------------------------------------------------
    Case("boards.history", S, lambda w, x, _: _boards(w).history(x.user, w.board, token=x.token),
         by_role("view"), check=_no_share_events, board_scoped=True),
    Case("boards.history", H, lambda w, x, _: _boards(w).history(x.user, w.hidden_board, token=x.token),
         owner_only, owner_sees=True),
    Case("boards.events_since", S, lambda w, x, _: _boards(w).events_since(x.user, w.board, 0, token=x.token),
         by_role("view"), check=_no_share_events, board_scoped=True),
    Case("boards.events_since", H, lambda w, x, _: _boards(w).events_since(
        x.user, w.hidden_board, 0, token=x.token), owner_only),
    Case("boards.undo", S, lambda w, x, _: _boards(w).undo(x.user, w.board, token=x.token), by_role("edit"),
         setup=_own_note, board_scoped=True),
    Case("boards.undo", H, lambda w, x, _: _boards(w).undo(x.user, w.hidden_board, token=x.token), owner_only,
         setup=lambda w, x: _boards(w).add_note(w.a, w.hidden_board, "scratch") if x.is_owner else None),
    Case("boards.redo", S, lambda w, x, _: _boards(w).redo(x.user, w.board, token=x.token), by_role("edit"),
         setup=_own_note_undone, board_scoped=True),
    # -- the canvas ----------------------------------------------------------------------------------
    Case("boards.add_images", "A's public image", lambda w, x, _: _boards(w).add_images(
        x.user, w.board, [w.public_image], token=x.token), by_role("edit"), board_scoped=True),
    Case("boards.add_images", "an image the actor cannot see", lambda w, x, made: _boards(w).add_images(
        x.user, w.board, [made or w.private_hidden], token=x.token), owner_only,
        setup=lambda w, x: w.fresh_image(w.a) if x.is_owner else None),
    Case("boards.add_images", "B's own image", lambda w, x, _: _boards(w).add_images(
        x.user, w.board, [w.b_image], token=x.token), _only("other_edit_link"), board_scoped=True),
    Case("boards.add_image", "A's public image", lambda w, x, _: _boards(w).add_image(
        x.user, w.board, w.public_image, token=x.token), by_role("edit"), board_scoped=True),
    Case("boards.add_image", "an image the actor cannot see", lambda w, x, made: _boards(w).add_image(
        x.user, w.board, made or w.private_hidden, token=x.token), owner_only,
        setup=lambda w, x: w.fresh_image(w.a) if x.is_owner else None),
    Case("boards.add_note", S, lambda w, x, _: _boards(w).add_note(x.user, w.board, "a note", token=x.token),
         by_role("edit"), board_scoped=True),
    Case("boards.add_note", H, lambda w, x, _: _boards(w).add_note(x.user, w.hidden_board, "a note",
                                                                   token=x.token), owner_only),
    Case("boards.add_heading", S, lambda w, x, _: _boards(w).add_heading(x.user, w.board, "Act two",
                                                                         token=x.token), by_role("edit"),
         board_scoped=True),
    Case("boards.add_link", S, lambda w, x, _: _boards(w).add_link(x.user, w.board, "https://example.com/x",
                                                                   token=x.token), by_role("edit"),
         board_scoped=True),
    Case("boards.add_script_excerpt", "A's screenplay", lambda w, x, _: _boards(w).add_script_excerpt(
        x.user, w.board, w.document, 0, 5, token=x.token), owner_only),
    Case("boards.add_script_excerpt", "B's own screenplay", lambda w, x, _: _boards(w).add_script_excerpt(
        x.user, w.board, w.b_document, 0, 5, token=x.token), _only("other_edit_link"), board_scoped=True),
    Case("boards.update_item", S, lambda w, x, note: _boards(w).update_item(
        x.user, w.board, note, caption="retitled", token=x.token), by_role("edit"), setup=_note,
        board_scoped=True),
    Case("boards.update_item", "unshared board's item through the shared board", lambda w, x, _: _boards(
        w).update_item(x.user, w.board, w.hidden_item, caption="mine", token=x.token), everyone_denied),
    Case("boards.color_items", S, lambda w, x, note: _boards(w).color_items(
        x.user, w.board, [note], "#ff8800", token=x.token), by_role("edit"), setup=_note, board_scoped=True),
    Case("boards.color_items", "unshared board's item through the shared board", lambda w, x, _: _boards(
        w).color_items(x.user, w.board, [w.hidden_item], "#ff8800", token=x.token), everyone_denied),
    Case("boards.replace_image", "A's public image", lambda w, x, frame: _boards(w).replace_image(
        x.user, w.board, frame, w.public_image, token=x.token), by_role("edit"), setup=_frame, board_scoped=True),
    Case("boards.replace_image", "an image the actor cannot see", lambda w, x, made: _boards(w).replace_image(
        x.user, w.board, made[0], made[1] or w.private_hidden, token=x.token), owner_only,
        setup=_frame_and_image),
    Case("boards.move_items", S, lambda w, x, note: _boards(w).move_items(
        x.user, w.board, [ItemMove(note, 10, 10)], token=x.token), by_role("edit"), setup=_note,
        board_scoped=True),
    Case("boards.move_items", "unshared board's item through the shared board", lambda w, x, _: _boards(
        w).move_items(x.user, w.board, [ItemMove(w.hidden_item, 0, 0)], token=x.token), everyone_denied),
    Case("boards.bring_to_front", S, lambda w, x, note: _boards(w).bring_to_front(
        x.user, w.board, [note], token=x.token), by_role("edit"), setup=_note, board_scoped=True),
    Case("boards.send_to_back", S, lambda w, x, note: _boards(w).send_to_back(
        x.user, w.board, [note], token=x.token), by_role("edit"), setup=_note, board_scoped=True),
    Case("boards.remove_items", S, lambda w, x, note: _boards(w).remove_items(
        x.user, w.board, [note], token=x.token), by_role("edit"), setup=_note, board_scoped=True),
    Case("boards.remove_items", "unshared board's item through the shared board", lambda w, x, _: _boards(
        w).remove_items(x.user, w.board, [w.hidden_item], token=x.token), everyone_denied),
    # -- pictures through a board ----------------------------------------------------------------
    Case("boards.board_image", "thumbnail of the private image on the board", lambda w, x, _: _boards(
        w).board_image(x.user, w.board, w.private_on_board, token=x.token), by_role("view"), board_scoped=True),
    Case("boards.board_image", "original of the private image on the board", lambda w, x, _: _boards(
        w).board_image(x.user, w.board, w.private_on_board, token=x.token, original=True), by_role("view"),
        board_scoped=True),
    Case("boards.board_image", "an image not on the board", lambda w, x, _: _boards(w).board_image(
        x.user, w.board, w.private_hidden, token=x.token), everyone_denied),
    Case("boards.board_image", "the unshared board's image", lambda w, x, _: _boards(w).board_image(
        x.user, w.hidden_board, w.private_hidden, token=x.token, original=True), owner_only),
    # -- sharing ---------------------------------------------------------------------------------
    Case("boards.create_link", S, lambda w, x, _: _boards(w).create_link(x.user, w.board, "edit"), owner_only),
    Case("boards.links", S, lambda w, x, _: _boards(w).links(x.user, w.board), owner_only),
    Case("boards.revoke_link", "the view link", lambda w, x, made: _boards(w).revoke_link(
        x.user, w.board, made or w.view_link), owner_only,
        setup=lambda w, x: _boards(w).create_link(w.a, w.board, "view")[0].id if x.is_owner else None),
    Case("boards.resolve_token", "the actor's own token", lambda w, x, _: _boards(w).resolve_token(
        x.token or "not-a-share-token"), lambda x: ALLOW if x.token else DENY, check=_resolved,
        board_scoped=True),
    Case("boards.resolve_token", "a revoked token", lambda w, x, token: _boards(w).resolve_token(token),
         everyone_denied, setup=_revoked_token),
    Case("boards.resolve_token", "an expired token", lambda w, x, token: _boards(w).resolve_token(token),
         everyone_denied, setup=_expired_token),
    # A dead link opens nothing, for reading or writing (the owner needs no link at all).
    Case("boards.get", "with a revoked edit token", lambda w, x, token: _boards(w).get(
        x.user, w.board, token=token), owner_only, setup=_revoked_token, board_scoped=True),
    Case("boards.get", "with an expired edit token", lambda w, x, token: _boards(w).get(
        x.user, w.board, token=token), owner_only, setup=_expired_token, board_scoped=True),
    Case("boards.add_note", "with a revoked edit token", lambda w, x, token: _boards(w).add_note(
        x.user, w.board, "still here?", token=token), owner_only, setup=_revoked_token),
    Case("boards.add_note", "with an expired edit token", lambda w, x, token: _boards(w).add_note(
        x.user, w.board, "still here?", token=token), owner_only, setup=_expired_token),
    Case("boards.share_with", "C, by email", lambda w, x, made: _boards(w).share_with(
        x.user, made or w.board, w.c.email, "edit"), owner_only, setup=_scratch_board),
    Case("boards.unshare", "C", lambda w, x, made: _boards(w).unshare(x.user, made or w.board, w.c),
         owner_only, setup=_shared_with_c),
    Case("boards.members", S, lambda w, x, _: _boards(w).members(x.user, w.board, token=x.token),
         by_role("view"), board_scoped=True),
    # -- export and import -----------------------------------------------------------------------
    Case("boards.export_zip", S, lambda w, x, _: _unzipped(w, x, w.board), by_role("view"), board_scoped=True),
    Case("boards.export_zip", H, lambda w, x, _: _unzipped(w, x, w.hidden_board), owner_only),
    Case("boards.export_pdf", S, lambda w, x, _: _pdf(w, x, w.board), by_role("view"), board_scoped=True),
    Case("boards.export_pdf", H, lambda w, x, _: _pdf(w, x, w.hidden_board), owner_only),
    Case("boards.import_zip", "A's exported board", lambda w, x, _: _boards(w).import_zip(x.user, w.zip_export),
         own_scope, check=_import_is_theirs),
    # -- suggestions -------------------------------------------------------------------------------
    Case("suggestions.related_images", S, lambda w, x, _: w.wb.suggestions.related_images(
        x.user, w.board, token=x.token), signed_in_role("view"), board_scoped=True),
    Case("suggestions.related_images", H, lambda w, x, _: w.wb.suggestions.related_images(
        x.user, w.hidden_board, token=x.token), owner_only),
    Case("suggestions.story_prompts", S, lambda w, x, _: w.wb.suggestions.story_prompts(
        x.user, w.board, token=x.token, seed=1), signed_in_role("view"), board_scoped=True),
    Case("suggestions.story_prompts", H, lambda w, x, _: w.wb.suggestions.story_prompts(
        x.user, w.hidden_board, token=x.token, seed=1), owner_only),
    Case("suggestions.for_board", S, lambda w, x, _: w.wb.suggestions.for_board(x.user, w.board, token=x.token),
         signed_in_role("view"), board_scoped=True),
    Case("suggestions.for_board", H, lambda w, x, _: w.wb.suggestions.for_board(
        x.user, w.hidden_board, token=x.token), owner_only),
    # -- Magic Boards ------------------------------------------------------------------------------
    Case("magic.frame_matches", S, lambda w, x, _: w.wb.magic.frame_matches(x.user, w.board, token=x.token),
         by_role("view"), setup=_frame, board_scoped=True),
    Case("magic.frame_matches", H, lambda w, x, _: w.wb.magic.frame_matches(x.user, w.hidden_board,
                                                                            token=x.token), owner_only),
    Case("magic.replacements", S, lambda w, x, frame: w.wb.magic.replacements(
        x.user, w.board, frame, token=x.token), _editor_searches, setup=_frame, board_scoped=True),
    Case("magic.replacements", H, lambda w, x, frame: w.wb.magic.replacements(
        x.user, w.hidden_board, frame, token=x.token), owner_only, setup=lambda w, x: _boards(w).add_image(
            w.a, w.hidden_board, w.public_image, caption="2. Dawn over the pier.").id),
    Case("magic.estimate", "a pitch", lambda w, x, _: w.wb.magic.estimate(x.user, "Rain. A reel."), own_scope),
    Case("magic.create", "a pitch", lambda w, x, _: w.wb.magic.create(x.user, "Rain on a booth. A reel.", seed=2),
         _magic_expect, check=_magic_is_clean, denied=(PremiumRequired, Forbidden, NotFound)),
]
