"""Small pieces the pages share: section titles, the board picker, HTML pane styles."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import panel as pn

from server.session import Session

__all__ = ["PANEL_CSS", "FILE_BUTTON_CSS", "section", "board_options", "recent_board_options", "picker_options", "empty_state",
           "set_options"]

PANEL_CSS = """
:host { font-family: var(--wb-font); color: #111; }
.wb-hint { color: #6b6b6b; font-size: 13px; margin: 4px 0; line-height: 1.4; }
.wb-section { font-size: 11px; font-weight: 700; letter-spacing: .09em; text-transform: uppercase; color: #111;
  margin: 12px 0 6px; padding-bottom: 5px; border-bottom: 1px solid #111; }
.wb-upload-summary { margin: 4px 0 2px; font-size: 13px; font-weight: 600; }
/* Three lines while a batch goes in, two once it is done, then it scrolls: a batch of forty must not
   push the selection panel off screen (#18). The files that need a look (not added, already here) come first. */
.wb-files { list-style: none; margin: 2px 0 0; padding: 0; font-size: 12px; max-height: 68px; overflow: auto;
  display: flex; flex-direction: column; }
.wb-files:not(:has(.wb-file-queued, .wb-file-adding)) { max-height: 46px; }
.wb-file { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 6px; padding: 2px 0;
  line-height: 18px; border-bottom: 1px solid #f0f0f0; flex-shrink: 0; }
.wb-file-error, .wb-file-duplicate { order: -1; }
.wb-file-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 190px; }
.wb-file-state { color: #6b6b6b; }
.wb-file-added .wb-file-state { color: #111; font-weight: 600; }
.wb-file-error .wb-file-state { color: var(--wb-danger); font-weight: 600; }
.wb-file-why { flex-basis: 100%; color: var(--wb-danger); font-size: 11px; }
.wb-detail img { width: 100%; max-height: 100px; object-fit: contain; background: #f3f3f3; display: block; }
.wb-detail-name { font-weight: 600; font-size: 14px; margin: 8px 0 2px; word-break: break-word; }
.wb-detail-caption { font-size: 13px; margin-top: 4px; word-break: break-word; }
.wb-empty { text-align: center; padding: 56px 24px; border: 1px dashed #d5d5d5; color: #6b6b6b; }
.wb-empty strong { display: block; color: #111; font-size: 17px; margin-bottom: 6px; }
.wb-card { border: 1px solid #e4e4e4; padding: 14px 16px; border-radius: 3px; background: #fff; }
.wb-card h3 { margin: 0 0 6px; font-size: 16px; }
.wb-card p { margin: 4px 0; font-size: 13px; line-height: 1.45; }
.wb-label { color: #6b6b6b; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; }
.wb-badge { display: inline-block; font-size: 11px; border: 1px solid #111; border-radius: 2px; padding: 0 6px;
  margin-left: 6px; text-transform: uppercase; letter-spacing: .05em; vertical-align: middle; }
.wb-badge.offline { border-color: #999; color: #6b6b6b; }
table.wb-table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.wb-table td, table.wb-table th { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; }
table.wb-table th { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: #6b6b6b; }
"""

# A file input drawn as one of our buttons, its label as the caption ("Import .fdx"): the browser's own
# "Choose File  No file chosen" sits invisible over it and takes the click (and the keyboard focus).
FILE_BUTTON_CSS = """
:host { height: 32px; }
:host .bk-input-group { position: relative; height: 32px; }
:host .bk-input-group > label { display: flex; align-items: center; justify-content: center; box-sizing: border-box;
  width: 100%; height: 32px; margin: 0; padding: 0 12px; border: 1px solid #cfcfcf; border-radius: 3px; background: #fff;
  color: #111; font: 14px var(--wb-font); letter-spacing: normal; white-space: nowrap; cursor: pointer; }
:host .bk-input-group:hover > label { border-color: #111; }
:host .bk-input-group:has(input:focus-visible) > label { outline: 2px solid var(--wb-accent); outline-offset: 1px; }
:host input[type=file] { position: absolute; inset: 0; width: 100%; height: 100%; opacity: 0; cursor: pointer; }
"""


def section(title: str) -> pn.pane.HTML:
    """A small uppercase section title with a rule under it."""
    return pn.pane.HTML(f'<div class="wb-section">{html.escape(title)}</div>', stylesheets=[PANEL_CSS],
                        sizing_mode="stretch_width", margin=0)


def empty_state(title: str, hint: str) -> pn.pane.HTML:
    """A friendly 'nothing here yet' box."""
    # No side margin: the box lines up with the section title above it, as the cards it stands for do.
    return pn.pane.HTML(f'<div class="wb-empty"><strong>{html.escape(title)}</strong>{html.escape(hint)}</div>',
                        stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(4, 0))


def picker_options(entries: Iterable[tuple[str, str, datetime | None]]) -> dict[str, str]:
    """Select options as {label: id} from (title, id, when) rows, every label unique.

    A picker keyed by title merges two documents of the same title (drafting twice
    from one idea) and flips between them; so a repeated title gets its date
    ("Night ferry · 1 Dec 14:02"), and one still repeated its id's last characters.
    """
    rows = list(entries)
    titles = Counter(title for title, _, _ in rows)
    options: dict[str, str] = {}
    for title, key, when in rows:
        label = title
        if titles[title] > 1 and when is not None:
            label = f"{title} · {when.day} {when:%b %H:%M}"
        if label in options:
            label = f"{label} · #{key[-4:]}"
        if label in options:
            label = f"{label} · {key}"
        options[label] = key
    return options


def board_options(session: Session) -> dict[str, str]:
    """The boards the acting user can add to, as Select options (unique label -> id)."""
    if not session.has("boards") or session.user is None:
        return {}
    # The service refuses the rest; do not offer them.
    return picker_options((b.title, b.id, b.created_at) for b in session.wb.boards.list(session.me)
                          if b.role != "view")


def recent_board_options(session: Session, *, limit: int = 200) -> dict[str, str]:
    """The boards the acting user can add to, last edited first (at most ``limit``), as Select options."""
    if not session.has("boards") or session.user is None:
        return {}
    shelf = session.wb.boards.browse(session.me, sort="edited", limit=limit)
    boards = [b for b in shelf.boards if b.role != "view"]
    options: dict[str, str] = {}
    for board in boards:
        label = board.title
        if label in options:  # two boards with one title: tell them apart by when they were made
            label = f"{board.title} ({board.created_at:%d %b %H:%M})"
        options[label] = board.id
    return options


def set_options(select: pn.widgets.Select, options: dict[str, Any]) -> None:
    """Give a select new options, keeping its value when still offered, else the first one.

    (Panel leaves the value empty when options arrive after the widget was made.)
    """
    values = list(options.values())
    value = select.value if select.value in values else (values[0] if values else None)
    select.param.update(options=options, value=value)
