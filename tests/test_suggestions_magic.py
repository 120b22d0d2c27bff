"""AI suggestions for boards and Magic Boards, offline and through a local OpenAI-compatible server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.helpers import open_wb, png_bytes, sample_bytes, sampled_wb
from tests.openai_server import ImageReply, OpenAIServer, tiny_png
from workbench import Forbidden, InsufficientCredits, InvalidInput, NotFound, PremiumRequired, Workbench

PITCH = ("A retired astronaut returns to the launch site where her rocket failed. "
         "She finds a stray cat living in the old control room. "
         "Over coffee at dawn she reads the flight logs again. "
         "At night she watches the stars and decides to fly once more.")


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = sampled_wb(tmp_path_factory.mktemp("magic"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def pro(wb: Workbench):
    return wb.accounts.create_user("pro@example.com", plan="premium")


def _by_name(wb: Workbench, user, filename: str) -> str:
    return next(h.image.id for h in wb.search.by_text(user, "x", limit=50) if h.image.filename == filename)


def test_related_images_exclude_the_board_and_are_visible(wb: Workbench, pro) -> None:
    board = wb.boards.create(pro, "Space")
    astronaut = _by_name(wb, pro, "astronaut.png")
    rocket = _by_name(wb, pro, "rocket.jpg")
    wb.boards.add_images(pro, board.id, [astronaut, rocket])
    hits = wb.suggestions.related_images(pro, board.id, limit=5)
    ids = [h.image.id for h in hits]
    assert astronaut not in ids and rocket not in ids
    assert len(ids) == len(set(ids)) == 5
    assert wb.accounts.balance(pro) == 100  # asking by hand is free
    # diversified: the picks are less alike than the plain nearest five
    import numpy as np

    centroid = np.mean(list(wb.search.stored_vectors([astronaut, rocket]).values()), axis=0)
    plain = [h.image.id for h in wb.search.by_vector(pro, centroid, limit=5, exclude={astronaut, rocket})]

    def spread(ids: list[str]) -> float:
        vecs = wb.search.stored_vectors(ids)
        sims = [float(np.dot(vecs[a], vecs[b])) for i, a in enumerate(ids) for b in ids[i + 1:]]
        return sum(sims) / len(sims)

    assert spread(ids) <= spread(plain)


def test_related_images_refresh_when_the_board_changes(wb: Workbench, pro) -> None:
    board = wb.boards.create(pro, "Changes")
    cat = _by_name(wb, pro, "chelsea.png")
    wb.boards.add_image(pro, board.id, cat)
    first = wb.suggestions.related_images(pro, board.id, limit=3)
    top = first[0].image.id
    wb.boards.add_image(pro, board.id, top)
    second = wb.suggestions.related_images(pro, board.id, limit=3)
    assert top not in {h.image.id for h in second}


def test_related_images_never_leak_private_images(wb: Workbench, pro) -> None:
    other = wb.accounts.create_user("other@example.com", plan="premium")
    secret = wb.library.ingest(other, sample_bytes("chelsea.png"), filename="secret-cat.png", wait=True)
    board = wb.boards.create(pro, "Cats")
    wb.boards.add_image(pro, board.id, _by_name(wb, pro, "chelsea.png"))
    wb.boards.add_note(pro, board.id, "a cat")
    assert secret.id not in {h.image.id for h in wb.suggestions.related_images(pro, board.id, limit=20)}


def test_story_prompts_cost_credits_and_use_the_board(wb: Workbench, pro) -> None:
    board = wb.boards.create(pro, "Harbour nights")
    wb.boards.add_note(pro, board.id, "a lighthouse keeper with a secret radio")
    before = wb.accounts.balance(pro)
    prompts = wb.suggestions.story_prompts(pro, board.id, count=3, seed=2)
    assert len(prompts) == 3 and any("lighthouse" in p.lower() or "radio" in p.lower() for p in prompts)
    assert wb.accounts.balance(pro) == before - 1


def test_automatic_suggestions_are_premium(wb: Workbench) -> None:
    free = wb.accounts.create_user("free@example.com")
    board = wb.boards.create(free, "Free board")
    wb.boards.add_note(free, board.id, "rain")
    with pytest.raises(PremiumRequired):
        wb.suggestions.for_board(free, board.id)
    assert wb.suggestions.story_prompts(free, board.id, count=2)  # by hand, within the allowance
    assert wb.accounts.balance(free) == 9


def test_magic_board_from_a_four_sentence_pitch(wb: Workbench, pro) -> None:
    estimate = wb.magic.estimate(pro, PITCH)
    assert estimate.frames == 4 and estimate.credits == 1 + 4 * 2
    before = wb.accounts.balance(pro)
    seen = []
    result = wb.magic.create(pro, PITCH, progress=lambda d, t, m: seen.append((d, t)), seed=1)
    view = wb.boards.get(pro, result.board.id)
    images = sorted((i for i in view.items if i.kind == "image"), key=lambda i: (i.y, i.x))
    notes = sorted((i for i in view.items if i.kind == "note"), key=lambda i: (i.y, i.x))
    # Offline, no sample comes near "she watches the stars" (the best, the Hubble field, is under the
    # weak-match floor): that frame is a placeholder note in the fourth slot, and is not charged.
    assert result.sources == ["library", "library", "library", "placeholder"] and result.placeholders == 1
    assert len(images) == 3 and len(notes) == 5 and result.frames == 4
    placeholder = next(n for n in notes if n.text.startswith("No still matched this beat yet."))
    assert placeholder.caption.startswith("4. At night she watches the stars") and "stars" in placeholder.text
    assert (placeholder.x, placeholder.y, placeholder.w, placeholder.h) == (3 * 360.0, 0.0, 320.0, 180.0)
    assert [i.caption.split(".")[0] for i in images] == ["1", "2", "3"]
    assert "astronaut" in images[0].caption.lower() and "cat" in images[1].caption.lower()
    assert [n.text.split(".")[0] for n in notes if n.id != placeholder.id] == ["1", "2", "3", "4"]
    assert len({i.image_id for i in images}) == 3  # different stills
    assert seen[-1] == (4, 4)
    entries = [e for e in wb.accounts.ledger(pro) if e.action == "magic_board"]
    assert [e.entry for e in entries][-3:] == ["reserve", "commit", "refund"]
    assert result.credits_spent == 1 + 3 * 2 and result.credits_refunded == 2
    assert wb.accounts.balance(pro) == before - 7 == before + sum(e.amount for e in entries[-3:])
    # All eight cards arrive as one change (#20): co-editors see the storyboard at once, and one
    # undo takes every frame back.
    assert [e.kind for e in wb.boards.history(pro, result.board.id)] == ["add", "create"]
    assert wb.boards.history(pro, result.board.id)[0].payload["count"] == 8
    wb.boards.undo(pro, result.board.id)
    assert wb.boards.get(pro, result.board.id).items == []


def test_magic_board_stopped_early_refunds_unused_frames(wb: Workbench, pro) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if done == 2 and message.startswith("Frame 3"):
            cancel.set()

    before = wb.accounts.balance(pro)
    result = wb.magic.create(pro, PITCH, progress=progress, cancel=cancel)
    assert result.stopped_early and result.frames == 2
    assert result.credits_spent == 1 + 2 * 2 and result.credits_refunded == 4
    entries = [e for e in wb.accounts.ledger(pro) if e.action == "magic_board"][-3:]
    assert [e.entry for e in entries] == ["reserve", "commit", "refund"]
    assert sum(e.amount for e in entries) == -5
    assert wb.accounts.balance(pro) == before - 5


def test_magic_board_refuses_free_users_and_bad_pitches(wb: Workbench, pro) -> None:
    free = wb.accounts.create_user("nomagic@example.com")
    with pytest.raises(PremiumRequired):
        wb.magic.create(free, PITCH)
    with pytest.raises(InvalidInput):
        wb.magic.create(pro, "   ")
    poor = wb.accounts.create_user("poor@example.com", plan="premium")
    wb.accounts.reserve(poor, "screenplay", units=24)  # leaves 4
    boards_before = len(wb.boards.list(poor))
    with pytest.raises(InsufficientCredits):
        wb.magic.create(poor, PITCH)
    assert len(wb.boards.list(poor)) == boards_before and wb.accounts.balance(poor) == 4


def test_magic_board_with_generated_images(tmp_path: Path) -> None:
    with OpenAIServer(default=ImageReply(tiny_png((200, 40, 40)))) as server:
        bench = open_wb(tmp_path, ai={"image_provider": "openai", "base_url": server.base_url})
        try:
            user = bench.accounts.create_user("gen@example.com", plan="premium")
            result = bench.magic.create(user, "Fog rolls in. A ship appears.")
            assert result.sources == ["generated", "generated"]
            view = bench.boards.get(user, result.board.id)
            generated = [view.images[i.image_id] for i in view.items if i.kind == "image"]
            assert all(img.source == "generated" and img.owner == user.id for img in generated)
        finally:
            bench.close()


def test_magic_frames_carry_their_match_and_a_still_can_be_replaced(wb: Workbench, pro) -> None:
    result = wb.magic.create(pro, PITCH, seed=3)
    stills = [s for s in result.scores if s is not None]
    assert len(result.scores) == result.frames == 4 and len(stills) == 3 and all(0.1 <= s <= 1 for s in stills)
    view = wb.boards.get(pro, result.board.id)
    frames = sorted((i for i in view.items if i.kind == "image"), key=lambda i: (i.y, i.x))
    matches = wb.magic.frame_matches(pro, result.board.id)
    assert set(matches) == {f.id for f in frames}  # the caption notes under each frame are no frames
    # The score on the board is the score the search gave when the frame was picked.
    assert [round(matches[f.id].score, 3) for f in frames] == [round(s, 3) for s in stills]
    first = frames[0]
    options = wb.magic.replacements(pro, result.board.id, first.id, limit=6)
    assert options and first.image_id not in {h.image.id for h in options}
    assert options == sorted(options, key=lambda h: -h.score)
    replaced = wb.boards.replace_image(pro, result.board.id, first.id, options[0].image.id)
    assert (replaced.image_id, replaced.caption, replaced.x, replaced.w) == (
        options[0].image.id, first.caption, first.x, first.w)
    assert round(wb.magic.frame_matches(pro, result.board.id)[first.id].score, 3) == round(options[0].score, 3)
    wb.boards.undo(pro, result.board.id)
    assert next(i for i in wb.boards.get(pro, result.board.id).items if i.id == first.id).image_id == first.image_id


def test_replacing_a_still_needs_an_image_card_and_a_visible_image(wb: Workbench, pro) -> None:
    from workbench.magic import frame_beat

    assert frame_beat("3. Dawn  breaks\nover the pier") == "Dawn breaks over the pier"
    assert frame_beat("Dawn breaks") is None and frame_beat("3.") is None
    other = wb.accounts.create_user("frames-other@example.com", plan="premium")
    hidden = wb.library.ingest(other, png_bytes(seed=77), filename="theirs.png", wait=True)
    board = wb.boards.create(pro, "Frames")
    mine = _by_name(wb, pro, "astronaut.png")
    card = wb.boards.add_image(pro, board.id, mine, caption="1. An astronaut at the launch site.")
    note = wb.boards.add_note(pro, board.id, "1. A note, not a frame.")
    with pytest.raises(NotFound):
        wb.boards.replace_image(pro, board.id, card.id, hidden.id)
    with pytest.raises(InvalidInput, match="picture card"):
        wb.boards.replace_image(pro, board.id, note.id, mine)
    with pytest.raises(InvalidInput, match="caption"):
        wb.magic.replacements(pro, board.id, wb.boards.add_image(pro, board.id, mine).id)
    link, token = wb.boards.create_link(pro, board.id, "view")
    assert set(wb.magic.frame_matches(None, board.id, token=token)) == {card.id}
    with pytest.raises(Forbidden):
        wb.magic.replacements(None, board.id, card.id, token=token)


def test_a_beat_no_still_matches_gets_a_placeholder_and_the_title_is_cut_at_a_word(wb: Workbench, pro) -> None:
    from workbench.magic import PLACEHOLDER, WEAK_MATCH, board_title

    pitch = "A night ferry crosses a black harbour. A girl finds a camera under her seat. Dawn breaks over the pier."
    # The walk-through's pitch: the best still for the ferry is the rocket, far under the floor.
    best = wb.search.by_text(pro, "A night ferry crosses a black harbour.", limit=1)[0]
    assert best.score < WEAK_MATCH["offline"]
    before = wb.accounts.balance(pro)
    result = wb.magic.create(pro, pitch, seed=1)
    view = wb.boards.get(pro, result.board.id)
    first = next(i for i in view.items if i.caption.startswith("1. "))
    assert first.kind == "note" and first.text.startswith(PLACEHOLDER) and first.image_id is None
    assert "a black harbour" in first.caption and "a black harbour" in first.text  # the articles kept
    shown = {i.image_id for i in view.items if i.kind == "image"}
    assert best.image.id not in shown
    assert result.sources[0] == "placeholder" and result.scores[0] is None
    matches = wb.magic.frame_matches(pro, result.board.id)
    assert all(not m.weak for m in matches.values())  # every still shown clears the floor
    charged = sum(1 for s in result.sources if s != "placeholder")
    assert result.credits_spent == 1 + 2 * charged and wb.accounts.balance(pro) == before - result.credits_spent
    # The title is the first sentence, whole; a long one is cut at a word, with an ellipsis.
    assert result.board.title == "Magic Board: A night ferry crosses a black harbour"
    long = board_title("A retired astronaut returns to the launch site where her rocket failed years ago.")
    assert long.endswith("…") and long.removesuffix("…").split()[-1] in "A retired astronaut returns to the launch site where her rocket failed years ago".split()
    assert board_title("Fog.") == "Magic Board: Fog"
