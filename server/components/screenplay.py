"""A Fountain screenplay as HTML for the live preview, escaping every line ourselves.

Panel's HTML and Markdown panes pass raw HTML through, and a script is text
someone typed (or pasted, or an AI wrote): so nothing from it reaches the page
except through :func:`html.escape`. Emphasis (``*italic*``, ``**bold**``,
``_underline_``) is resolved by the Fountain reader into styled runs, and only
our own ``<b>``/``<i>``/``<u>`` tags are added around escaped text.
"""

from __future__ import annotations

import html

from workbench.writing import fountain

__all__ = ["screenplay_html", "PREVIEW_CSS"]

PREVIEW_CSS = """
:host { display: block; }
.sp-page { font: 13px/1.25 "Courier Prime", "Courier New", Courier, "Liberation Mono", monospace; color: #111;
  background: #fff; padding: 28px 36px; border: 1px solid #e4e4e4; min-height: 400px; overflow-wrap: anywhere; }
.sp-title { text-align: center; margin-bottom: 28px; padding-bottom: 18px; border-bottom: 1px dashed #ccc; }
.sp-title .sp-key { color: #888; font-size: 11px; text-transform: uppercase; letter-spacing: .08em; }
.sp-scene { font-weight: 700; text-transform: uppercase; margin: 20px 0 10px; }
.sp-scene .sp-num { float: right; color: #888; font-weight: 400; }
.sp-action { margin: 0 0 12px; }
.sp-character { margin: 12px 0 0 38%; text-transform: uppercase; }
.sp-parenthetical { margin: 0 0 0 31%; max-width: 40%; }
.sp-dialogue { margin: 0 0 12px 24%; max-width: 58%; }
.sp-transition { text-align: right; text-transform: uppercase; margin: 12px 0; }
.sp-centered { text-align: center; margin: 12px 0; }
.sp-lyric { font-style: italic; margin: 0 0 0 24%; }
.sp-section { color: #8a8a8a; margin: 18px 0 6px; font-family: var(--wb-font, sans-serif); font-size: 12px;
  text-transform: uppercase; letter-spacing: .08em; }
.sp-synopsis { color: #8a8a8a; font-style: italic; margin: 0 0 10px; font-family: var(--wb-font, sans-serif); }
.sp-break { border: none; border-top: 1px dashed #bbb; margin: 22px 0; }
.sp-empty { color: #999; font-family: var(--wb-font, sans-serif); }
"""

_TAGS = ((fountain.BOLD, "b"), (fountain.ITALIC, "i"), (fountain.UNDERLINE, "u"))


def _line(text: str) -> str:
    """One printed line: notes dropped, emphasis resolved, every run escaped."""
    parts = []
    for run in fountain.emphasis_spans(fountain.strip_notes(text)):
        piece = html.escape(run.text)
        for bit, tag in _TAGS:
            if run.style & bit:
                piece = f"<{tag}>{piece}</{tag}>"
        parts.append(piece)
    return "".join(parts)


def _lines(text: str) -> str:
    return "<br>".join(_line(row) for row in text.split("\n"))


def _element(element: fountain.Element) -> str:
    kind, text = element.kind, element.text
    if kind == "scene_heading":
        number = f'<span class="sp-num">{html.escape(element.scene_number)}</span>' if element.scene_number else ""
        return f'<div class="sp-scene">{number}{_lines(text)}</div>'
    if kind == "character":
        extension = f" {html.escape(element.extension)}" if element.extension else ""
        caret = " ^" if element.dual == "right" else ""
        return f'<div class="sp-character">{_lines(text)}{extension}{caret}</div>'
    if kind == "page_break":
        return '<hr class="sp-break">'
    if kind in ("note", "boneyard"):
        return ""  # notes and boneyard are the writer's, not the page's
    css = {"action": "sp-action", "dialogue": "sp-dialogue", "parenthetical": "sp-parenthetical",
           "transition": "sp-transition", "centered": "sp-centered", "lyric": "sp-lyric",
           "section": "sp-section", "synopsis": "sp-synopsis"}.get(kind, "sp-action")
    return f'<div class="{css}">{_lines(text)}</div>'


def screenplay_html(text: str) -> str:
    """The formatted page for Fountain text (safe to put in an HTML pane)."""
    play = fountain.parse(text or "")
    parts = ['<div class="sp-page">']
    if play.title_page:
        rows = [f'<div><span class="sp-key">{html.escape(key)}</span><br>{_lines(value)}</div>'
                for key, value in play.title_page.items()]
        parts.append(f'<div class="sp-title">{"".join(rows)}</div>')
    body = [_element(e) for e in play.elements]
    if not any(body) and not play.title_page:
        body = ['<p class="sp-empty">The formatted page appears here as you write.</p>']
    parts.extend(body)
    parts.append("</div>")
    return "".join(parts)
