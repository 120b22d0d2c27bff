"""The board page's toolbar, one row: what adds to the board on the left (a note, a heading, a link),
what acts on the board as a whole on the right (Share, Duplicate, Export PDF, Export ZIP)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import panel as pn

from server.pages.board_side import SHARE_CLASS
from server.pages.common import PANEL_CSS
from server.session import friendly

if TYPE_CHECKING:
    from server.pages.board import BoardPage

__all__ = ["BoardToolbar"]

# The share panel sits in the side column under the suggestions, out of sight at 1440x900; the Share
# button brings it into view. Every Panel component has its own shadow root, so the walk goes through them.
_REVEAL_SHARE = f"""
function find(root) {{
  const hit = root.querySelector('.{SHARE_CLASS}');
  if (hit) return hit;
  for (const el of root.querySelectorAll('*')) {{
    if (el.shadowRoot) {{ const inner = find(el.shadowRoot); if (inner) return inner; }}
  }}
  return null;
}}
const panel = find(document);
if (panel) panel.scrollIntoView({{behavior: 'smooth', block: 'start'}});
"""

# Every control of the row is one height on one centre line (the download buttons and the
# text fields otherwise sit a few pixels off the plain buttons).
_ROW = {"height": 32, "margin": (0, 8, 0, 0), "align": "center"}
_FIELD = {**_ROW, "stylesheets": [".bk-input { height: 32px; min-height: 0; box-sizing: border-box; }"]}


class BoardToolbar:
    """The toolbar over the canvas of one board page (built once the board is read)."""

    def __init__(self, page: BoardPage) -> None:
        self.page = page
        self.session = page.session  # for @friendly: a failure is told in this page's session
        self.add_group = pn.Row(margin=0, align="center")
        self.board_group = pn.Row(margin=0, align="center", css_classes=["wb-board-actions"],
                                  styles={"margin-left": "auto"})

    def build(self) -> pn.viewable.Viewable:
        """The row, with the tools the viewer's role allows."""
        page = self.page
        can_edit = page.view is not None and page.view.can_edit
        add: list[Any] = []
        if can_edit:
            note = pn.widgets.Button(label="+ Note", color="default", width=76, **_ROW)
            note.on_click(self._add_note)
            heading = pn.widgets.TextInput(placeholder="Heading — Enter adds it", width=170, **_FIELD)
            heading.param.watch(functools.partial(self._add_heading, heading), "enter_pressed")
            link = pn.widgets.TextInput(placeholder="https://… — Enter pins a link", width=190, **_FIELD)
            link.param.watch(functools.partial(self._add_link, link), "enter_pressed")
            add += [note, heading, link]
        elif page.role == "comment":  # "view only" needs no badge: the canvas says it once, over the board
            add.append(self._badge("can comment"))
        act: list[Any] = []
        if can_edit and page.role != "owner":
            act.append(self._badge("can edit"))
        if page.role == "owner":
            share = pn.widgets.Button(label="Share", color="default", width=72, css_classes=["wb-share-button"],
                                      **_ROW)
            share.js_on_click(code=_REVEAL_SHARE)
            act.append(share)
        if page.session.user is not None:
            duplicate = pn.widgets.Button(label="Duplicate", color="default", width=92, **_ROW)
            duplicate.on_click(self._duplicate)
            act.append(duplicate)
        exports = page.exports.buttons(page.view.board if page.view else None)
        for export in exports:
            export.param.update(width=112, **_ROW)
        act += exports
        exports[-1].margin = 0  # the row ends flush with the canvas's right edge, as it starts with its left
        self.add_group.objects, self.board_group.objects = add, act
        # One row at 1440 px; in a narrower window the board's group moves under, still right-aligned.
        return pn.FlexBox(self.add_group, self.board_group, justify_content="space-between", align_items="center",
                          flex_wrap="wrap", gap="6px", sizing_mode="stretch_width", margin=(4, 0, 6, 0),
                          css_classes=["wb-board-toolbar"])

    def lock(self) -> None:
        """The link stopped working: the editing tools go; what is left (export) says why when it fails."""
        self.add_group.objects = []
        self.board_group.objects = [o for o in self.board_group.objects if not isinstance(o, pn.pane.HTML)]

    @staticmethod
    def _badge(label: str) -> pn.pane.HTML:
        return pn.pane.HTML(f'<span class="wb-badge" style="margin-left: 0">{label}</span>', stylesheets=[PANEL_CSS],
                            margin=(0, 8, 0, 0), align="center")

    async def _add_note(self, event: Any = None) -> None:
        await self.page.change(self.page.session.wb.boards.add_note, "New note")

    async def _add_heading(self, field: pn.widgets.TextInput, event: Any = None) -> None:
        text = field.value_input or ""
        if text.strip():
            field.value = field.value_input = ""
            await self.page.change(self.page.session.wb.boards.add_heading, text)

    async def _add_link(self, field: pn.widgets.TextInput, event: Any = None) -> None:
        url = (field.value_input or "").strip()
        if url:
            field.value = field.value_input = ""
            await self.page.change(self.page.session.wb.boards.add_link, url)

    @friendly
    async def _duplicate(self, event: Any = None) -> None:
        page = self.page
        copy = await page.session.run(page.session.wb.boards.duplicate, page.session.me, page.board_id,
                                      token=page.token)
        page.session.info(f"Made “{copy.title}”. Opening it…")
        page.browser.navigate(f"/board?id={quote(copy.id)}")
