"""The Panel application: pages of the workbench (a first page until the full UI lands)."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from workbench.app import Workbench

__all__ = ["routes"]


def _home(wb: Workbench) -> pn.viewable.Viewable:
    me = wb.accounts.local_user()
    count = wb.library.count(me, scope="all")
    return pn.Column(
        pn.pane.Markdown("# FilmMaker Workbench"),
        pn.pane.Markdown(f"{count} images in your library · {wb.accounts.balance(me)} credits"),
    )


def routes(wb: Workbench) -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """URL path -> page factory (one call per browser session)."""
    return {"/": lambda: _home(wb)}
