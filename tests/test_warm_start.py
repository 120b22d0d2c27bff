"""Warm start: the embedder loads in the background, and a search that arrives first says it is preparing."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers import open_wb, png_bytes


def test_warm_up_loads_the_embedder_in_the_background_once(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        wb.library.ingest(me, png_bytes(seed=5), filename="one.png", wait=True)
        fresh = open_wb(tmp_path)  # a second process's view: nothing loaded yet
        try:
            assert not fresh.search_ready
            thread = fresh.warm_up()
            assert fresh.warm_up() is thread  # a second call starts nothing new
            assert fresh.wait_for_search(timeout=120)
            assert fresh.search_ready and fresh.embedder.is_loaded
            thread.join(timeout=5)
            assert not thread.is_alive()
            assert [h.image.filename for h in fresh.search.by_text(me, "red texture", limit=1)] == ["one.png"]
        finally:
            fresh.close()
    finally:
        wb.close()


def test_a_search_before_the_model_is_ready_says_preparing_then_answers(tmp_path: Path) -> None:
    from server.pages.library import LibraryPage
    from server.session import Session

    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        wb.library.ingest(me, png_bytes(seed=6), filename="two.png")  # stored; the model is not loaded
        page = LibraryPage(Session(wb, me))
        assert not wb.search_ready
        page.query, page.mode = "red texture", "text"

        async def search() -> str:
            task = asyncio.create_task(page._reload())
            await asyncio.sleep(0)  # the page reacts before the model has loaded
            shown = page.summary.object
            await asyncio.wait_for(task, timeout=120)
            return shown

        # On a thread of its own: a browser test in this process may own a running event loop (Playwright).
        with ThreadPoolExecutor(1) as pool:
            shown = pool.submit(asyncio.run, search()).result(timeout=120)
        assert "Preparing search…" in shown
        assert wb.search_ready
        assert "result" in page.summary.object and "Preparing" not in page.summary.object
    finally:
        wb.close()
