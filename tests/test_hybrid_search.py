"""Hybrid search people can steer (#17 part 5): one SearchQuery, calibrated scores, paging, sorting, boards, saved.

Real stores, the offline embedder and the sample library (scikit-image's photos).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.helpers import sample_bytes, sampled_wb
from workbench import Workbench
from workbench.errors import InvalidInput, NotFound
from workbench.search import SearchQuery
from workbench.search_calibration import RANK_HALF_LIFE, Calibration, calibration_for, rank_score


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    wb = sampled_wb(Path(tmp_path_factory.mktemp("hybrid")))
    yield wb
    wb.close()


@pytest.fixture(scope="module")
def ids(wb: Workbench) -> dict[str, str]:
    """Sample file name -> image id, plus a hard edit of the cat (a 40 % crop, mirrored) the local user uploads."""
    me = wb.accounts.local_user()
    found = {i.filename: i.id for i in wb.library.list(me, scope="all", limit=100)}
    cat = Image.open(io.BytesIO(sample_bytes("chelsea.png"))).convert("RGB")
    w, h = cat.size
    crop = ImageOps.mirror(cat.crop((int(w * 0.2), int(h * 0.1), int(w * 0.8), int(h * 0.75))))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=30)
    found["cat crop"] = wb.library.ingest(me, out.getvalue(), filename="cat-crop.jpg", tags=["mine"], wait=True).id
    return found


def _names(page: object, ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id.get(h.image.id, h.image.id) for h in page.hits]  # type: ignore[attr-defined]


def test_the_active_offline_model_has_a_fitted_calibration(wb: Workbench) -> None:
    # A new model id needs `python -m bench.search_calibration` and a line in CALIBRATIONS.
    model = wb.search.embedder.model_id
    assert calibration_for(model, "text") is not None and calibration_for(model, "image") is not None, model


def test_scores_are_calibrated_0_to_1_with_the_raw_cosine_beside_them(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    page = wb.search.run(me, SearchQuery(text="a cat", page_size=50))
    assert set(_names(page, ids)[:2]) == {"chelsea.png", "cat crop"}
    assert page.calibrated and page.total == len(page.hits) == 14
    scores = [h.score for h in page.hits]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    curve = calibration_for(page.model_id, "text")
    assert curve is not None
    for hit in page.hits:
        assert hit.raw_score is not None and hit.score == pytest.approx(curve.score(hit.raw_score))


@pytest.mark.parametrize(("words", "answer"), [("a cat", "chelsea.png"), ("a cup of coffee", "coffee.png"),
                                                ("a rocket launch", "rocket.jpg")])
def test_one_threshold_keeps_the_answer_and_drops_unrelated_stills_for_any_query(
    wb: Workbench, ids: dict[str, str], words: str, answer: str
) -> None:
    me = wb.accounts.local_user()
    everything = wb.search.run(me, SearchQuery(text=words, page_size=50))
    kept = wb.search.run(me, SearchQuery(text=words, min_score=0.5, page_size=50))
    names = _names(kept, ids)
    assert answer in names
    # Textures, handwriting and coins describe none of these queries: all three stay under 0.5.
    assert not {"brick.png", "grass.png", "text.png"} & set(names), names
    assert kept.total == len(kept.hits) < everything.total
    assert all(h.score >= 0.5 for h in kept.hits)


def test_the_same_threshold_keeps_a_cropped_copy_for_a_picture_query_and_drops_the_rest(
    wb: Workbench, ids: dict[str, str]
) -> None:
    me = wb.accounts.local_user()
    page = wb.search.run(me, SearchQuery(examples=(ids["chelsea.png"],), min_score=0.5))
    assert _names(page, ids) == ["cat crop"]  # the example itself is left out
    everything = wb.search.run(me, SearchQuery(examples=(ids["chelsea.png"],), page_size=50))
    assert everything.total == 13 and _names(everything, ids)[0] == "cat crop"  # all but the example


def test_the_weight_slides_from_the_words_to_the_pictures(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    both = {"text": "a cup of coffee", "examples": (ids["chelsea.png"],), "page_size": 50}
    words = wb.search.run(me, SearchQuery(text_weight=1.0, **both))  # type: ignore[arg-type]
    pictures = wb.search.run(me, SearchQuery(text_weight=0.0, **both))  # type: ignore[arg-type]
    middle = wb.search.run(me, SearchQuery(text_weight=0.5, **both))  # type: ignore[arg-type]
    assert _names(words, ids)[0] == "coffee.png" and _names(pictures, ids)[0] == "cat crop"
    assert _names(pictures, ids) == _names(wb.search.run(me, SearchQuery(examples=(ids["chelsea.png"],),
                                                                         page_size=50)), ids)
    # Halfway, both the cup and the cat's copy rank above every still that is neither, and each
    # scores about half: it answers one of the two (the fused score is w * words + (1 - w) * picture).
    assert set(_names(middle, ids)[:2]) == {"coffee.png", "cat crop"}
    assert all(0.45 <= h.score <= 0.75 for h in middle.hits[:2]) and middle.hits[2].score < 0.3
    scores = [h.score for h in middle.hits]
    assert scores == sorted(scores, reverse=True)
    assert "chelsea.png" not in _names(middle, ids)  # an example is never its own result


@pytest.mark.parametrize("hybrid", [False, True], ids=["words", "words and a picture"])
def test_paging_walks_through_every_result_without_repeats(wb: Workbench, ids: dict[str, str], hybrid: bool) -> None:
    me = wb.accounts.local_user()
    examples = (ids["coins.png"],) if hybrid else ()
    whole = wb.search.run(me, SearchQuery(text="an old photograph", examples=examples, page_size=50))
    seen: list[str] = []
    query = SearchQuery(text="an old photograph", examples=examples, page_size=4)
    while True:
        page = wb.search.run(me, query)
        assert page.total == whole.total
        seen += [h.image.id for h in page.hits]
        if page.next_page is None:
            break
        query = query.with_page(page.next_page)
    assert seen == [h.image.id for h in whole.hits] and len(seen) == (13 if hybrid else 14)
    assert query.page == 4  # 4 + 4 + 4 + 2 (or 1)


def test_sort_by_date_orders_the_results_above_the_threshold(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    by_relevance = wb.search.run(me, SearchQuery(text="a cat", min_score=0.3, page_size=50))
    newest = wb.search.run(me, SearchQuery(text="a cat", min_score=0.3, sort="newest", page_size=50))
    oldest = wb.search.run(me, SearchQuery(text="a cat", min_score=0.3, sort="oldest", page_size=50))
    assert sorted(h.image.id for h in newest.hits) == sorted(h.image.id for h in by_relevance.hits)
    stamps = [h.image.created_at for h in newest.hits]
    assert stamps == sorted(stamps, reverse=True)
    assert [h.image.created_at for h in oldest.hits] == sorted(stamps)
    assert newest.total == by_relevance.total


def test_filters_and_a_board_narrow_the_same_query(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    board = wb.boards.create(me, "Animals")
    for name in ("horse.png", "coffee.png"):
        wb.boards.add_image(me, board.id, ids[name])
    inside = wb.search.run(me, SearchQuery(text="a horse", board_id=board.id))
    assert _names(inside, ids) == ["horse.png", "coffee.png"] and inside.total == 2
    tagged = wb.search.run(me, SearchQuery(text="a cat", tags=("mine",)))
    assert _names(tagged, ids) == ["cat crop"]
    later = wb.search.run(me, SearchQuery(text="a cat", since=datetime.now() + timedelta(days=1)))
    assert later.hits == [] and later.total == 0 and later.next_page is None
    stranger = wb.accounts.create_user("stranger@example.com")
    with pytest.raises(NotFound):
        wb.search.run(stranger, SearchQuery(text="a cat", board_id=board.id))
    with pytest.raises(NotFound):  # another person's private still is no example
        wb.search.run(stranger, SearchQuery(examples=(ids["cat crop"],)))


def test_saved_searches_keep_the_threshold_and_belong_to_their_owner(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    query = SearchQuery(text="a cat", examples=(ids["chelsea.png"],), text_weight=0.7, min_score=0.55,
                        sort="newest", tags=("mine",), page=3)
    saved = wb.search.save(me, "  Cats at night ", query)
    assert saved.name == "Cats at night" and saved.query == query.with_page(1)
    assert [s.name for s in wb.search.saved(me)] == ["Cats at night"]
    reopened = wb.search.get_saved(me, saved.id)
    assert wb.search.run(me, reopened.query).hits == wb.search.run(me, query.with_page(1)).hits
    again = wb.search.save(me, "Cats at night", SearchQuery(text="a cat", min_score=0.2))
    assert again.id == saved.id and again.query.min_score == 0.2 and len(wb.search.saved(me)) == 1
    other = wb.accounts.create_user("other@example.com")
    assert wb.search.saved(other) == []
    with pytest.raises(NotFound):
        wb.search.get_saved(other, saved.id)
    with pytest.raises(NotFound):
        wb.search.delete_saved(other, saved.id)
    wb.search.delete_saved(me, saved.id)
    assert wb.search.saved(me) == []
    with pytest.raises(InvalidInput, match="name"):
        wb.search.save(me, "   ", query)


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "words or add an example"),
    ({"text": "x", "min_score": 1.5}, "between 0 and 1"),
    ({"text": "x", "sort": "random"}, "Sort by"),
    ({"text": "x", "page_size": 0}, "page_size"),
    ({"text": "x", "since": "next tuesday"}, "date"),
])
def test_a_malformed_query_says_what_to_change(wb: Workbench, fields: dict, message: str) -> None:
    me = wb.accounts.local_user()
    with pytest.raises(InvalidInput, match=message):
        wb.search.run(me, SearchQuery(**fields))


def test_a_model_without_a_fitted_curve_scores_by_rank() -> None:
    assert calibration_for("clip:ViT-B-32:0123456789ab", "text") is None
    assert rank_score(0) == 1.0 and rank_score(RANK_HALF_LIFE) == pytest.approx(0.5)
    text = Calibration(slope=30, bias=-3)
    assert text.score(text.midpoint) == pytest.approx(0.5)
    assert text.score(text.cosine_for(0.7)) == pytest.approx(0.7)


def test_the_older_search_methods_still_answer(wb: Workbench, ids: dict[str, str]) -> None:
    me = wb.accounts.local_user()
    assert {h.image.id for h in wb.search.by_text(me, "a cat", limit=2)} == {ids["chelsea.png"], ids["cat crop"]}
    assert wb.search.similar_to(me, ids["chelsea.png"], limit=1)[0].image.id == ids["cat crop"]
