"""Writing Fountain: a :class:`~workbench.writing.fountain_model.Screenplay` back to text.

``format`` writes canonical Fountain, adding a forcing marker (``!``, ``@``,
``.``, ``>``) only where the parser would otherwise read an element as
something else, so ``parse(format(p)) == p``. Import it from
:mod:`workbench.writing.fountain`.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from workbench.writing.fountain_model import Element, Screenplay, _blocks
from workbench.writing.fountain_parse import _Body, _read_title_page

__all__ = ["format"]


def format(screenplay: Screenplay) -> str:  # noqa: A001 - the name the writing API promises
    """Write a screenplay as canonical Fountain; ``parse(format(p))`` gives ``p`` back."""
    chunks: list[str] = []
    if screenplay.title_page:
        chunks.append(_format_title_page(screenplay.title_page))
    for block in _blocks(screenplay.elements):
        chunks.append(_format_block(block, at_top=not chunks))
    return "\n\n".join(chunks) + "\n" if chunks else ""


def _format_title_page(page: dict[str, str]) -> str:
    lines: list[str] = []
    for key, value in page.items():
        rows = [row.strip() for row in str(value).split("\n") if row.strip()]
        if len(rows) == 1:
            lines.append(f"{key}: {rows[0]}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"    {row}" for row in rows)
    return "\n".join(lines)


def _keep_blank_lines(text: str) -> str:
    """Empty lines inside one paragraph are written as two spaces, per the spec."""
    return "\n".join(row or "  " for row in text.split("\n"))


def _spellings(block: list[Element]) -> tuple[str, str | None]:
    """The natural spelling of a block, and the forced one when it needs a marker."""
    first = block[0]
    kind, text = first.kind, first.text
    if kind == "scene_heading":
        number = f" #{first.scene_number}#" if first.scene_number else ""
        space = " " if text.startswith(".") else ""
        return text + number, f".{space}{text}{number}"
    if kind == "action":
        plain = _keep_blank_lines(text)
        return plain, "!" + plain
    if kind == "character":
        head = text + (f" {first.extension}" if first.extension else "")
        head += " ^" if first.dual == "right" or head.endswith("^") else ""
        body = [head, *_speech_lines(block)]
        return "\n".join(body), "@" + "\n".join(body)
    if kind == "transition":
        return text, ">" + text
    fixed = {
        "centered": lambda: "\n".join(f">{row}<" for row in text.split("\n")),
        "lyric": lambda: "\n".join(f"~{row}" for row in text.split("\n")),
        "page_break": lambda: "===",
        "section": lambda: "#" * max(first.depth, 1) + " " + text,
        "synopsis": lambda: "= " + text,
        "note": lambda: "[[" + _keep_blank_lines(text) + "]]",
        "boneyard": lambda: "/*" + text + "*/",
    }
    return fixed[kind]() if kind in fixed else text, None


def _speech_lines(block: list[Element]) -> list[str]:
    lines: list[str] = []
    for before, element in pairwise(block):
        if element.kind == "lyric":
            # Two sung passages in a row stay apart only with a kept blank line.
            lines.extend(["  "] if before.kind == "lyric" else [])
            lines.extend(f"~{row}" for row in element.text.split("\n"))
        else:
            lines.append(_keep_blank_lines(element.text))
    return lines


def _format_block(block: list[Element], at_top: bool) -> str:
    plain, forced = _spellings(block)
    if forced is None:
        return plain
    candidates = [plain, forced]
    if block[0].kind == "action":
        # A "!" inside a paragraph is eaten too, so odd lines may need their own.
        candidates.append("\n".join("!" + row if row.strip() else row for row in plain.split("\n")))
    # At the top of a script without a title page, "Note: ..." would be read as one.
    if at_top and _read_title_page(plain.split("\n"))[0]:
        candidates.pop(0)
    wanted = [replace(e, dual=None) for e in block]
    for candidate in candidates:
        if [replace(e, dual=None) for e in _Body(candidate.split("\n"), []).read()] == wanted:
            return candidate
    return candidates[-1]
