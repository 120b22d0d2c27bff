"""Per-person rate limits: AI actions, uploads and share links, keyed on the user the service layer is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import open_wb, png_bytes
from workbench.limits import RateLimited, RateLimits
from workbench.settings import LimitSettings


def test_a_bucket_refills_evenly_and_says_when_to_retry() -> None:
    limits = RateLimits(LimitSettings(ai_per_minute=3))
    for moment in (0.0, 0.1, 0.2):
        limits.check("u_ana", "ai", now=moment)
    with pytest.raises(RateLimited, match=r"limit is 3 a minute\). Try again in 20 seconds") as refused:
        limits.check("u_ana", "ai", now=0.2)
    assert refused.value.retry_after == pytest.approx(19.8, abs=0.01)  # 0.2 s of refill already in
    limits.check("u_ben", "ai", now=0.2)  # another person's bucket is their own
    limits.check("u_ana", "ai", now=20.3)  # one token back after 20 s (3 a minute)
    with pytest.raises(RateLimited):
        limits.check("u_ana", "ai", now=20.4)


def test_zero_turns_a_limit_off() -> None:
    limits = RateLimits(LimitSettings(share_links_per_hour=0))
    for _ in range(1000):
        limits.check("u_ana", "share_link", now=0.0)


def test_ai_actions_are_limited_per_person_and_a_refusal_costs_nothing(tmp_path: Path) -> None:
    wb = open_wb(tmp_path, limits={"ai_per_minute": 2})
    try:
        ana = wb.accounts.create_user("ana@studio.test", plan="premium")
        ben = wb.accounts.create_user("ben@studio.test", plan="premium")
        wb.writing.idea(ana, "a lighthouse keeper", seed=1)
        wb.writing.idea(ana, "a lighthouse keeper", seed=2)
        balance, entries = wb.accounts.balance(ana), len(wb.accounts.ledger(ana))
        with pytest.raises(RateLimited, match="AI requests"):
            wb.writing.idea(ana, "a lighthouse keeper", seed=3)
        # Refused before anything was reserved: no ledger line, no credit held.
        assert wb.accounts.balance(ana) == balance and len(wb.accounts.ledger(ana)) == entries
        wb.writing.idea(ben, "a night ferry", seed=1)  # Ben is not slowed down by Ana
    finally:
        wb.close()


def test_uploads_and_share_links_are_limited_and_leave_nothing_behind(tmp_path: Path) -> None:
    wb = open_wb(tmp_path, limits={"uploads_per_minute": 2, "share_links_per_hour": 1})
    try:
        ana = wb.accounts.create_user("ana@studio.test")
        for n in range(2):
            wb.library.ingest(ana, png_bytes(seed=n), filename=f"{n}.png")
        rows = wb.db.scalar("SELECT count(*) FROM images")
        with pytest.raises(RateLimited, match="uploads"):
            wb.library.ingest(ana, png_bytes(seed=9), filename="9.png")
        assert wb.db.scalar("SELECT count(*) FROM images") == rows
        board = wb.boards.create(ana, "Pitch")
        wb.boards.create_link(ana, board.id, "view")
        with pytest.raises(RateLimited, match="share links"):
            wb.boards.create_link(ana, board.id, "edit")
        assert len(wb.boards.links(ana, board.id)) == 1
        # A folder ingest from a notebook or the CLI is not an upload.
        folder = tmp_path / "stills"
        folder.mkdir()
        for n in range(4):
            (folder / f"f{n}.png").write_bytes(png_bytes(seed=20 + n))
        result = wb.library.ingest_folder(ana, folder, wait=False, progress_bar=False)
        assert len(result.added) == 4 and not result.errors
    finally:
        wb.close()


def test_comments_are_limited_per_person_and_per_link_guest(tmp_path: Path) -> None:
    wb = open_wb(tmp_path, limits={"comments_per_minute": 2})
    try:
        ana = wb.accounts.create_user("ana@studio.test")
        board = wb.boards.create(ana, "Pitch")
        _, token = wb.boards.create_link(ana, board.id, "comment")
        for n in range(2):
            wb.boards.comments.add(ana, board.id, f"note {n}", x=10.0, y=10.0)
        with pytest.raises(RateLimited, match="comments"):
            wb.boards.comments.add(ana, board.id, "one too many", x=10.0, y=10.0)
        # The guest has a bucket of their own, and a refused comment leaves nothing behind.
        wb.boards.comments.add(None, board.id, "from the crew", token=token, x=5.0, y=5.0, display_name="Sam")
        assert len(wb.boards.comments.list(ana, board.id)) == 3
    finally:
        wb.close()
