"""Isolation cases for the library, search, writing and accounts.

None of these paths takes a share token: a board role never opens A's library
or her writing, so a link holder is as much a stranger here as C.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from tests.isolation_cases import ALLOW, DENY, Case, by_role, own_scope, owner_only
from tests.isolation_coediting import COEDITING_CASES
from tests.isolation_world import Actor, World
from workbench import SearchQuery
from workbench.accounts import Reservation

__all__ = ["DOMAIN_CASES"]

H, P, T, U = "A's hidden private image", "A's private image on her board", "A's team image", "A's public image"


def _signed_in(actor: Actor) -> str:
    """Anyone signed in (a team image is for every signed-in member); anonymous is refused."""
    return ALLOW if actor.signed_in else DENY


def _theirs(w: World, x: Actor, image: Any) -> None:
    """An upload of A's picture gives the uploader their own image, never A's."""
    images = getattr(image, "added", None) or getattr(image, "duplicates", None) or [image]
    for one in images:
        one = one[0] if isinstance(one, tuple) else one
        assert x.user is not None and one.owner == x.user.id
        # A's own upload of the same picture finds her image; anyone else's makes their own.
        assert (one.id == w.private_hidden) == x.is_owner


def _folder(w: World, x: Actor) -> Path:
    # Under the world's own (pytest-managed) home, so nothing is left in the system's temp folder.
    root = Path(w.wb.settings.home) / "folders" / uuid.uuid4().hex[:8]
    root.mkdir(parents=True)
    (root / "copy.png").write_bytes(w.hidden_bytes)
    return root


def _count_matches_list(w: World, x: Actor, count: int) -> None:
    if x.user is not None:
        assert count == len(w.wb.library.list(x.user, scope="all", limit=10_000))


def _balance_is_own(w: World, x: Actor, balance: int) -> None:
    assert x.user is not None and balance == sum(e.amount for e in w.wb.accounts.ledger(x.user, limit=10_000))


def _reservation_is_own(w: World, x: Actor, reservation: Reservation) -> None:
    assert x.user is not None and reservation.user_id == x.user.id


def _reserve_and_refund(w: World, x: Actor) -> Reservation:
    reservation = w.wb.accounts.reserve(x.user, "idea")
    w.wb.accounts.refund(reservation, note="isolation suite")
    return reservation


def _spend(w: World, x: Actor) -> Reservation:
    with w.wb.accounts.spend(x.user, "idea") as reservation:
        return reservation


def _forged(w: World) -> Reservation:
    # Nobody reserved this: settling it must not move a single credit of A's (it once minted
    # its ``amount`` for its ``user_id``: commit and refund trusted the object handed in).
    return Reservation("r_forged_" + uuid.uuid4().hex[:8], w.a.id, "idea", 50)


def _sign_in_as_a(w: World, x: Actor) -> Any:
    """A's email under the actor's own provider id; A herself signs in with hers."""
    external = f"clerk_a_{w.a.email.split('@')[0][2:]}" if x.is_owner else f"clerk_{x.name}_{uuid.uuid4().hex[:6]}"
    return w.wb.accounts.sign_in(external, w.a.email, "Ana")


def _is_a(w: World, x: Actor, user: Any) -> None:
    assert user.id == w.a.id


def _pdf(w: World, x: Actor) -> bytes:
    out = io.BytesIO()
    w.wb.writing.export_pdf(x.user, w.document, out)
    return out.getvalue()


def _exhaust_own_bucket(w: World, x: Actor) -> str:
    """The actor spends every AI token of their own bucket; returns the key they were counted under."""
    from workbench.limits import RateLimited

    key = f"{x.user.id if x.user else 'anonymous'}-isolation-probe-{x.name}"
    for _ in range(w.wb.limits.capacity("ai")):
        w.wb.limits.check(key, "ai")
    try:
        w.wb.limits.check(key, "ai")
    except RateLimited:
        return key
    raise AssertionError("the bucket never ran dry")


def _a_still_allowed(w: World, x: Actor, key: str) -> None:
    # Someone else's empty bucket does not stop A (a fresh key of A's own takes a token).
    w.wb.limits.check(f"{w.a.id}-isolation-probe-after-{x.name}", "ai")
    assert x.name in key


_STORYBOARDS: dict[int, tuple[str, str]] = {}
_FDX = (b'<?xml version="1.0" encoding="UTF-8"?><FinalDraft DocumentType="Script" Version="5"><Content>'
        b'<Paragraph Type="Scene Heading"><Text>INT. ROOM - DAY</Text></Paragraph>'
        b'<Paragraph Type="Action"><Text>A chair.</Text></Paragraph></Content></FinalDraft>')


def _a_storyboard(w: World, x: Actor) -> tuple[str, str]:
    """(script, board) of A's storyboard: made once per world, before the first fingerprint."""
    if id(w) not in _STORYBOARDS:
        doc = w.wb.writing.create(w.a, "screenplay", "Night Reel boards", f"INT. BOOTH - NIGHT\n\n{w.secret_text} "
                                  "threads the reel.\n\nEXT. ROOF - DAWN\n\nThe city wakes under the rain.\n")
        board = w.wb.storyboards.create(w.a, doc.id, frames_per_scene=1).storyboard.board_id
        w.secrets |= {doc.id, board}
        _STORYBOARDS[id(w)] = (doc.id, board)
    return _STORYBOARDS[id(w)]


def _storyboard_is_as(w: World, x: Actor, result: Any) -> None:
    board = getattr(result, "storyboard", result)
    assert x.user is not None and board.owner == x.user.id == w.a.id


def _board_search(actor: Actor) -> str:
    """Searching inside A's shared board: for A and its signed-in members (a query carries no link token)."""
    return ALLOW if actor.signed_in and actor.token is None and actor.may("view") else DENY


_SAVED: dict[int, str] = {}


def _a_saved_search(w: World, x: Actor, *, fresh: bool = False) -> str:
    """The id of one of A's saved searches, named with her secret words (made once per world, or anew)."""
    if fresh or id(w) not in _SAVED:
        saved = w.wb.search.save(w.a, f"{w.secret_text} {uuid.uuid4().hex[:6]}", SearchQuery(text=w.secret_text))
        w.secrets.add(saved.id)
        if fresh:
            return saved.id
        _SAVED[id(w)] = saved.id
    return _SAVED[id(w)]


def _script_is_as(w: World, x: Actor, script: Any) -> None:
    assert x.is_owner and script is not None and script.board_id == _STORYBOARDS[id(w)][1]


def _no_script(w: World, x: Actor, script: Any) -> None:
    assert script is None, f"{x.name} reads a script beside a board that has none"


def _document_is_own(w: World, x: Actor, doc: Any) -> None:
    assert x.user is not None and doc.owner == x.user.id


def _shot_list_csv(w: World, x: Actor, board: str) -> str:
    out = io.StringIO()
    w.wb.storyboards.export_shot_list_csv(x.user, board, out)
    return out.getvalue()


def _shot_list_pdf(w: World, x: Actor, board: str) -> bytes:
    out = io.BytesIO()
    w.wb.storyboards.export_shot_list_pdf(x.user, board, out)
    return out.getvalue()


def owner_only_or_own(actor: Actor) -> str:
    """Everyone may count against their own bucket."""
    return ALLOW


def _no_share_entries(w: World, x: Actor, entries: list[Any]) -> None:
    assert entries, "the timeline is empty"
    if not x.is_owner:
        assert all(e.kind != "share" for e in entries), f"{x.name} sees the board's sharing changes"


def _scratch_note_point(w: World, x: Actor) -> int:
    """The board's revision just before A pins a scratch note: restoring to it takes only that note off."""
    seq = int(w.wb.boards.get(w.a, w.board).board.revision)
    w.wb.boards.add_note(w.a, w.board, "scratch for restore")
    return seq


DOMAIN_CASES: list[Case] = [
    # -- library: reading ---------------------------------------------------------------------
    Case("library.get", H, lambda w, x, _: w.wb.library.get(x.user, w.private_hidden), owner_only),
    Case("library.get", P, lambda w, x, _: w.wb.library.get(x.user, w.private_on_board), owner_only),
    Case("library.get", T, lambda w, x, _: w.wb.library.get(x.user, w.team_image), _signed_in),
    Case("library.get", U, lambda w, x, _: w.wb.library.get(x.user, w.public_image), lambda x: ALLOW),
    Case("library.thumbnail", U, lambda w, x, _: w.wb.library.thumbnail(x.user, w.public_image), lambda x: ALLOW),
    Case("library.thumbnail", H, lambda w, x, _: w.wb.library.thumbnail(x.user, w.private_hidden), owner_only),
    Case("library.thumbnail", T, lambda w, x, _: w.wb.library.thumbnail(x.user, w.team_image), _signed_in),
    Case("library.original", H, lambda w, x, _: w.wb.library.original(x.user, w.private_hidden), owner_only),
    Case("library.original", P, lambda w, x, _: w.wb.library.original(x.user, w.private_on_board), owner_only),
    Case("library.list", "scope all", lambda w, x, _: w.wb.library.list(x.user, scope="all", limit=1000),
         own_scope, owner_sees=True),
    Case("library.list", "scope shared", lambda w, x, _: w.wb.library.list(x.user, scope="shared", limit=1000),
         own_scope),
    Case("library.list", "A's hidden tag", lambda w, x, _: w.wb.library.list(x.user, scope="all",
                                                                            tag=w.hidden_tag), own_scope,
         owner_sees=True),
    Case("library.count", "scope all", lambda w, x, _: w.wb.library.count(x.user, scope="all"), own_scope,
         check=_count_matches_list),
    # -- library: uploads of A's very picture (dedup must stay per person) -----------------------
    Case("library.ingest", "A's hidden picture", lambda w, x, _: w.wb.library.ingest(
        x.user, w.hidden_bytes, filename="copy.png"), own_scope, check=_theirs),
    Case("library.ingest_new", "A's hidden picture", lambda w, x, _: w.wb.library.ingest_new(
        x.user, w.hidden_bytes, filename="copy.png"), own_scope, check=_theirs),
    Case("library.ingest_many", "A's hidden picture", lambda w, x, _: w.wb.library.ingest_many(
        x.user, [("copy.png", w.hidden_bytes)]), own_scope, check=_theirs),
    Case("library.ingest_folder", "A's hidden picture", lambda w, x, root: w.wb.library.ingest_folder(
        x.user, root, wait=False, progress_bar=False), own_scope, setup=_folder, check=_theirs),
    # -- library: changes (a team image is visible to the signed-in, still only A's to change) ----
    Case("library.set_tags", T, lambda w, x, _: w.wb.library.set_tags(x.user, w.team_image, ["noir"]),
         owner_only),
    Case("library.set_tags", H, lambda w, x, _: w.wb.library.set_tags(x.user, w.private_hidden,
                                                                      ["noir", w.hidden_tag]), owner_only),
    Case("library.add_tags", T, lambda w, x, _: w.wb.library.add_tags(x.user, w.team_image, ["noir"]),
         owner_only),
    Case("library.set_caption", T, lambda w, x, _: w.wb.library.set_caption(x.user, w.team_image, ""),
         owner_only),
    Case("library.set_visibility", H, lambda w, x, made: w.wb.library.set_visibility(
        x.user, made or w.private_hidden, "public"), owner_only,
        setup=lambda w, x: w.fresh_image(w.a) if x.is_owner else None),
    Case("library.set_visibility", T, lambda w, x, _: w.wb.library.set_visibility(x.user, w.team_image, "team"),
         owner_only),
    Case("library.delete", T, lambda w, x, made: w.wb.library.delete(x.user, made or w.team_image), owner_only,
         setup=lambda w, x: w.fresh_image(w.a) if x.is_owner else None),
    # -- search: never another person's private image, whatever the query or filter --------------
    Case("search.by_text", "noir, scope all", lambda w, x, _: w.wb.search.by_text(x.user, "noir", limit=100),
         own_scope, owner_sees=True),
    Case("search.by_text", "scope mine", lambda w, x, _: w.wb.search.by_text(x.user, "noir", scope="mine"),
         own_scope, owner_sees=True),
    Case("search.by_text", "A's hidden tag", lambda w, x, _: w.wb.search.by_text(
        x.user, "green", tags=[w.hidden_tag]), own_scope, owner_sees=True),
    Case("search.by_image", "A's hidden picture as the example", lambda w, x, _: w.wb.search.by_image(
        x.user, w.hidden_bytes, limit=100), own_scope, owner_sees=True),
    Case("search.by_vector", "A's hidden image's vector", lambda w, x, _: w.wb.search.by_vector(
        x.user, w.hidden_vector, limit=100), own_scope, owner_sees=True),
    Case("search.similar_to", H, lambda w, x, _: w.wb.search.similar_to(x.user, w.private_hidden), owner_only),
    Case("search.similar_to", T, lambda w, x, _: w.wb.search.similar_to(x.user, w.team_image, limit=100),
         _signed_in),
    Case("search.combined", H, lambda w, x, _: w.wb.search.combined(x.user, "noir", image_id=w.private_hidden),
         owner_only),
    Case("search.combined", "words and A's hidden picture", lambda w, x, _: w.wb.search.combined(
        x.user, "noir", w.hidden_bytes, limit=100), own_scope, owner_sees=True),
    Case("search.vectors", H, lambda w, x, _: w.wb.search.vectors(x.user, [w.private_hidden]), owner_only),
    # The steerable query (words, examples, a board) and saved searches: the same rules, and saved searches are
    # their owner's alone (someone else's is "not found").
    Case("search.run", "noir, scope all", lambda w, x, _: w.wb.search.run(x.user, SearchQuery(
        text="noir", page_size=100)), own_scope, owner_sees=True),
    Case("search.run", "A's hidden tag", lambda w, x, _: w.wb.search.run(x.user, SearchQuery(
        text="green", tags=(w.hidden_tag,))), own_scope, owner_sees=True),
    Case("search.run", "A's hidden image as the example", lambda w, x, _: w.wb.search.run(x.user, SearchQuery(
        examples=(w.private_hidden,))), owner_only),
    Case("search.run", "inside A's shared board", lambda w, x, _: w.wb.search.run(x.user, SearchQuery(
        text="noir", board_id=w.board, page_size=100)), _board_search, board_scoped=True),
    Case("search.save", "a search of their own", lambda w, x, _: w.wb.search.save(
        x.user, f"mine {uuid.uuid4().hex[:6]}", SearchQuery(text="noir")), _signed_in),
    Case("search.saved", "their saved searches", lambda w, x, _: w.wb.search.saved(x.user), own_scope,
         setup=_a_saved_search, owner_sees=True),
    Case("search.get_saved", "A's saved search", lambda w, x, made: w.wb.search.get_saved(x.user, made),
         owner_only, setup=_a_saved_search),
    Case("search.delete_saved", "A's saved search", lambda w, x, made: w.wb.search.delete_saved(x.user, made),
         owner_only, setup=lambda w, x: _a_saved_search(w, x, fresh=x.is_owner)),
    # -- writing: documents are their writer's alone --------------------------------------------
    Case("writing.get", "A's screenplay", lambda w, x, _: w.wb.writing.get(x.user, w.document), owner_only),
    Case("writing.get", "A's idea", lambda w, x, _: w.wb.writing.get(x.user, w.idea), owner_only),
    Case("writing.list", "their writing", lambda w, x, _: w.wb.writing.list(x.user), own_scope, owner_sees=True),
    Case("writing.create", "a document of their own", lambda w, x, _: w.wb.writing.create(
        x.user, "note", "Mine", "words"), own_scope),
    Case("writing.save", "A's screenplay", lambda w, x, _: w.wb.writing.save(
        x.user, w.document, w.wb.writing.get(w.a, w.document).body), owner_only),
    Case("writing.versions", "A's screenplay", lambda w, x, _: w.wb.writing.versions(x.user, w.document),
         owner_only, owner_sees=True),
    Case("writing.restore", "A's screenplay", lambda w, x, _: w.wb.writing.restore(x.user, w.document, 1),
         owner_only),
    Case("writing.rename", "A's screenplay", lambda w, x, _: w.wb.writing.rename(x.user, w.document, "Night Reel"),
         owner_only),
    Case("writing.delete", "A's screenplay", lambda w, x, made: w.wb.writing.delete(x.user, made or w.document),
         owner_only, setup=lambda w, x: w.fresh_document(w.a) if x.is_owner else None),
    Case("writing.excerpt", "A's screenplay", lambda w, x, _: w.wb.writing.excerpt(x.user, w.document, 0, 30),
         owner_only),
    Case("writing.import_fountain", "a script of their own", lambda w, x, _: w.wb.writing.import_fountain(
        x.user, "Title: Mine\n\nINT. ROOM - DAY\n\nWords."), own_scope),
    Case("writing.export_fountain", "A's screenplay", lambda w, x, _: w.wb.writing.export_fountain(
        x.user, w.document), owner_only),
    Case("writing.export_pdf", "A's screenplay", lambda w, x, _: _pdf(w, x), owner_only),
    Case("writing.idea", "a premise of their own", lambda w, x, _: w.wb.writing.idea(
        x.user, "a reel nobody shot", count=1, seed=3), own_scope),
    Case("writing.logline", "A's idea", lambda w, x, _: w.wb.writing.logline(x.user, w.idea, seed=1), owner_only),
    Case("writing.outline", "A's idea", lambda w, x, _: w.wb.writing.outline(x.user, w.idea, seed=1), owner_only),
    Case("writing.treatment", "A's screenplay", lambda w, x, _: w.wb.writing.treatment(x.user, w.document, seed=1),
         owner_only),
    Case("writing.screenplay", "A's idea", lambda w, x, _: w.wb.writing.screenplay(x.user, w.idea, seed=1),
         owner_only),
    Case("writing.continue_scene", "A's screenplay", lambda w, x, _: w.wb.writing.continue_scene(
        x.user, w.document, seed=1), owner_only),
    Case("writing.stream_continue", "A's screenplay", lambda w, x, _: list(w.wb.writing.stream_continue(
        x.user, w.document, seed=1)), owner_only),
    Case("writing.rewrite_selection", "A's screenplay", lambda w, x, _: w.wb.writing.rewrite_selection(
        x.user, w.document, 0, 18, seed=1), owner_only),
    Case("writing.stream_rewrite", "A's screenplay", lambda w, x, _: list(w.wb.writing.stream_rewrite(
        x.user, w.document, 0, 18, seed=1)), owner_only),
    # -- accounts: a ledger is its holder's ------------------------------------------------------
    Case("accounts.balance", "their balance", lambda w, x, _: w.wb.accounts.balance(x.user), own_scope,
         check=_balance_is_own),
    Case("accounts.ledger", "their ledger", lambda w, x, _: w.wb.accounts.ledger(x.user), own_scope,
         owner_sees=True),
    Case("accounts.reserve", "their credits", lambda w, x, _: _reserve_and_refund(w, x), own_scope,
         check=_reservation_is_own),
    Case("accounts.spend", "their credits", lambda w, x, _: _spend(w, x), own_scope, check=_reservation_is_own),
    Case("accounts.commit", "a forged reservation of A's", lambda w, x, _: w.wb.accounts.commit(_forged(w), used=0),
         lambda x: DENY),
    Case("accounts.refund", "a forged reservation of A's", lambda w, x, _: w.wb.accounts.refund(_forged(w)),
         lambda x: DENY),
    Case("limits.check", "A's AI rate-limit bucket", lambda w, x, _: _exhaust_own_bucket(w, x), owner_only_or_own,
         check=_a_still_allowed),
    Case("accounts.sign_in", "A's email under another provider id", lambda w, x, _: _sign_in_as_a(w, x),
         owner_only, check=_is_a),
    # -- storyboards: A's script and the board drawn from it are hers alone ----------------------
    Case("storyboards.create", "A's screenplay", lambda w, x, made: w.wb.storyboards.create(
        x.user, made[0], frames_per_scene=1), owner_only, setup=_a_storyboard, check=_storyboard_is_as),
    Case("storyboards.estimate", "A's screenplay", lambda w, x, made: w.wb.storyboards.estimate(
        x.user, made[0], generate=True), owner_only, setup=_a_storyboard),
    Case("storyboards.get", "A's storyboard", lambda w, x, made: w.wb.storyboards.get(x.user, made[1]),
         owner_only, setup=_a_storyboard, check=_storyboard_is_as),
    Case("storyboards.get", "A's shared board (no script behind it)", lambda w, x, _: w.wb.storyboards.get(
        x.user, w.board), lambda x: DENY),
    Case("storyboards.for_document", "A's screenplay", lambda w, x, made: w.wb.storyboards.for_document(
        x.user, made[0]), owner_only, setup=_a_storyboard),
    # The script beside the board: its writer's alone; someone who may open a board that is no storyboard gets None.
    Case("storyboards.board_script", "A's storyboard", lambda w, x, made: w.wb.storyboards.board_script(
        x.user, made[1], token=x.token), owner_only, setup=_a_storyboard, check=_script_is_as, owner_sees=True),
    Case("storyboards.board_script", "A's shared board (no script behind it)", lambda w, x, _:
         w.wb.storyboards.board_script(x.user, w.board, token=x.token), by_role("view"), check=_no_script),
    Case("storyboards.script_changes", "A's storyboard", lambda w, x, made: w.wb.storyboards.script_changes(
        x.user, made[1]), owner_only, setup=_a_storyboard),
    Case("storyboards.update_from_script", "A's storyboard", lambda w, x, made:
         w.wb.storyboards.update_from_script(x.user, made[1]), owner_only, setup=_a_storyboard),
    Case("storyboards.update_from_script", "A's shared board, even with its edit link", lambda w, x, _:
         w.wb.storyboards.update_from_script(x.user, w.board), lambda x: DENY),
    Case("storyboards.board_order_changes", "A's storyboard", lambda w, x, made:
         w.wb.storyboards.board_order_changes(x.user, made[1]), owner_only, setup=_a_storyboard),
    Case("storyboards.apply_board_order", "A's storyboard", lambda w, x, made:
         w.wb.storyboards.apply_board_order(x.user, made[1]), owner_only, setup=_a_storyboard),
    Case("storyboards.write_captions_to_script", "A's storyboard", lambda w, x, made:
         w.wb.storyboards.write_captions_to_script(x.user, made[1]), owner_only, setup=_a_storyboard),
    Case("storyboards.shot_list", "A's storyboard", lambda w, x, made: w.wb.storyboards.shot_list(
        x.user, made[1]), owner_only, setup=_a_storyboard, owner_sees=True),
    Case("storyboards.export_shot_list_csv", "A's storyboard", lambda w, x, made: _shot_list_csv(w, x, made[1]),
         owner_only, setup=_a_storyboard, owner_sees=True),
    Case("storyboards.export_shot_list_pdf", "A's storyboard", lambda w, x, made: _shot_list_pdf(w, x, made[1]),
         owner_only, setup=_a_storyboard),
    Case("storyboards.export_fdx", "A's screenplay", lambda w, x, made: w.wb.storyboards.export_fdx(
        x.user, made[0]), owner_only, setup=_a_storyboard, owner_sees=True),
    Case("storyboards.import_fdx", "a Final Draft file of their own", lambda w, x, _:
         w.wb.storyboards.import_fdx(x.user, _FDX), own_scope, check=_document_is_own),
    # -- versions you can compare (#22 part 3) -----------------------------------------------------
    Case("writing.version", "A's screenplay", lambda w, x, _: w.wb.writing.version(x.user, w.document, 1),
         owner_only, owner_sees=True),
    Case("writing.compare", "A's screenplay", lambda w, x, _: w.wb.writing.compare(x.user, w.document, 1, 1),
         owner_only),
    Case("writing.export_fdx", "A's screenplay", lambda w, x, _: w.wb.writing.export_fdx(x.user, w.document),
         owner_only, owner_sees=True),
    Case("writing.import_fdx", "a Final Draft file of their own", lambda w, x, _:
         w.wb.writing.import_fdx(x.user, _FDX), own_scope, check=_document_is_own),
    Case("boards.timeline.events", "shared board", lambda w, x, _: w.wb.boards.timeline.events(
        x.user, w.board, token=x.token), by_role("view"), check=_no_share_entries, board_scoped=True),
    Case("boards.timeline.events", "unshared board", lambda w, x, _: w.wb.boards.timeline.events(
        x.user, w.hidden_board, token=x.token), owner_only),
    Case("boards.timeline.restore_to", "shared board", lambda w, x, seq: w.wb.boards.timeline.restore_to(
        x.user, w.board, seq, token=x.token), by_role("edit"), setup=_scratch_note_point, board_scoped=True),
    Case("boards.timeline.restore_to", "unshared board", lambda w, x, _: w.wb.boards.timeline.restore_to(
        x.user, w.hidden_board, 1, token=x.token), owner_only,
        setup=lambda w, x: w.wb.boards.add_note(w.a, w.hidden_board, "scratch") if x.is_owner else None),
]
DOMAIN_CASES += COEDITING_CASES  # co-editing (#20): tests/isolation_coediting.py
