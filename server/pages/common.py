"""Small pieces the pages share: section titles, the board picker, HTML pane styles."""

from __future__ import annotations

import html
from typing import Any

import panel as pn

from server.session import Session

__all__ = ["PANEL_CSS", "section", "board_options", "empty_state", "set_options"]

PANEL_CSS = """
:host { font-family: var(--wb-font); color: #111; }
.wb-hint { color: #6b6b6b; font-size: 13px; margin: 4px 0; line-height: 1.4; }
.wb-section { font-size: 11px; font-weight: 700; letter-spacing: .09em; text-transform: uppercase; color: #111;
  margin: 18px 0 8px; padding-bottom: 6px; border-bottom: 1px solid #111; }
.wb-files { list-style: none; margin: 6px 0 0; padding: 0; font-size: 12px; max-height: 220px; overflow: auto; }
.wb-file { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 6px; padding: 4px 0;
  border-bottom: 1px solid #f0f0f0; }
.wb-file-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 190px; }
.wb-file-state { color: #6b6b6b; }
.wb-file-added .wb-file-state { color: #111; font-weight: 600; }
.wb-file-error .wb-file-state { color: var(--wb-danger); font-weight: 600; }
.wb-file-why { flex-basis: 100%; color: var(--wb-danger); font-size: 11px; }
.wb-detail img { width: 100%; max-height: 220px; object-fit: contain; background: #f3f3f3; display: block; }
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


def section(title: str) -> pn.pane.HTML:
    """A small uppercase section title with a rule under it."""
    return pn.pane.HTML(f'<div class="wb-section">{html.escape(title)}</div>', stylesheets=[PANEL_CSS],
                        sizing_mode="stretch_width", margin=0)


def empty_state(title: str, hint: str) -> pn.pane.HTML:
    """A friendly 'nothing here yet' box."""
    return pn.pane.HTML(f'<div class="wb-empty"><strong>{html.escape(title)}</strong>{html.escape(hint)}</div>',
                        stylesheets=[PANEL_CSS], sizing_mode="stretch_width")


def board_options(session: Session) -> dict[str, str]:
    """The boards the acting user can add to, as Select options (title -> id)."""
    if not session.has("boards") or session.user is None:
        return {}
    options: dict[str, str] = {}
    for board in session.wb.boards.list(session.me):
        if board.role != "view":  # the service refuses the rest; do not offer them
            label = board.title if board.title not in options else f"{board.title} ({board.id[-4:]})"
            options[label] = board.id
    return options


def set_options(select: pn.widgets.Select, options: dict[str, Any]) -> None:
    """Give a select new options, keeping its value when still offered, else the first one.

    (Panel leaves the value empty when options arrive after the widget was made.)
    """
    values = list(options.values())
    value = select.value if select.value in values else (values[0] if values else None)
    select.param.update(options=options, value=value)
