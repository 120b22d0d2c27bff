"""Final Draft interchange: Fountain to ``.fdx`` and back.

Written from the published FDX layout: a ``FinalDraft`` root whose ``Content``
holds one ``Paragraph`` per element (``Type`` = Scene Heading, Action,
Character, Parenthetical, Dialogue, Transition...; a scene number in
``Number``; styled ``Text`` runs), dual dialogue as a ``DualDialogue`` block
inside a paragraph, the title page under ``TitlePage``, and standalone notes
as ``ScriptNotes`` anchored at a character position of the script. Fountain
elements Final Draft has no type for (lyrics, sections, synopses, boneyards)
are written as paragraphs of their own type, so they survive a round trip.

Output is built with :mod:`xml.etree.ElementTree`; input is read with
``defusedxml`` (an FDX file is a user's file: no DTD, no entities, no
external references), its nesting depth capped, and anything else refused
with :class:`~workbench.errors.InvalidInput`.

    >>> data = fountain_to_fdx("INT. DINER - NIGHT #1#\\n\\nRain.\\n")
    >>> fountain.parse(fdx_to_fountain(data)).elements[0].scene_number
    '1'
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from workbench.errors import InvalidInput
from workbench.writing import fountain
from workbench.writing.fountain_model import BOLD, ITALIC, UNDERLINE, Element, Screenplay, Styled

__all__ = ["fountain_to_fdx", "fdx_to_fountain", "MAX_FDX_BYTES", "MAX_DEPTH"]

MAX_FDX_BYTES = 20 * 1024 * 1024   # a feature is ~500 KB of FDX; this is forty of them
MAX_DEPTH = 64                     # real FDX nests six deep
_TYPES = {"scene_heading": "Scene Heading", "action": "Action", "centered": "Action", "character": "Character",
          "parenthetical": "Parenthetical", "dialogue": "Dialogue", "transition": "Transition",
          "lyric": "Lyrics", "section": "Section", "synopsis": "Synopsis", "boneyard": "Boneyard"}
_KINDS = {"Scene Heading": "scene_heading", "Action": "action", "Character": "character",
          "Parenthetical": "parenthetical", "Dialogue": "dialogue", "Transition": "transition",
          "Lyrics": "lyric", "Section": "section", "Synopsis": "synopsis", "Boneyard": "boneyard",
          "General": "action", "Shot": "action"}
_SPEECH = ("character", "parenthetical", "dialogue")
_CENTERED_KEYS = ("title", "credit", "author", "authors", "source")
_STYLE_NAMES = ((BOLD, "Bold"), (ITALIC, "Italic"), (UNDERLINE, "Underline"))


# -- writing ------------------------------------------------------------------------------
def _text_runs(parent: ET.Element, text: str) -> None:
    """``Text`` runs of a paragraph: emphasis as Final Draft styles, markers removed."""
    runs: list[Styled] = []
    for n, line in enumerate(text.split("\n")):
        if n:
            runs.append(Styled("\n", 0))
        runs.extend(fountain.emphasis_spans(line))
    for run in runs or [Styled("", 0)]:
        node = ET.SubElement(parent, "Text")
        style = "+".join(name for bit, name in _STYLE_NAMES if run.style & bit)
        if style:
            node.set("Style", style)
        node.text = run.text


def _paragraph(parent: ET.Element, element: Element, new_page: bool) -> str:
    para = ET.SubElement(parent, "Paragraph", Type=_TYPES.get(element.kind, "Action"))
    if element.kind == "scene_heading" and element.scene_number:
        para.set("Number", element.scene_number)
    if element.kind == "centered":
        para.set("Alignment", "Center")
    if element.kind == "section":
        para.set("Level", str(max(1, element.depth)))
    if new_page:
        para.set("StartsNewPage", "Yes")
    if element.kind == "boneyard":  # kept as written: it is commented-out script, not styled text
        ET.SubElement(para, "Text").text = element.text
        return element.text
    text = element.text + (f" {element.extension}" if element.kind == "character" and element.extension else "")
    _text_runs(para, text)
    return "".join(t.text or "" for t in para.iter("Text"))


def _speech_end(elements: list[Element], start: int) -> int:
    """The index after the speech that starts with the character at ``start``."""
    end = start + 1
    while end < len(elements) and (elements[end].kind in _SPEECH[1:] or
                                   (elements[end].kind == "lyric" and elements[end].in_speech)):
        end += 1
    return end


def fountain_to_fdx(text: str, *, title: str = "") -> bytes:
    """A Fountain screenplay as a Final Draft file (UTF-8 XML bytes).

    ``title`` is used for the title page when the script has none.
    """
    play = fountain.parse(text)
    root = ET.Element("FinalDraft", DocumentType="Script", Template="No", Version="5")
    content = ET.SubElement(root, "Content")
    notes: list[tuple[int, str]] = []
    position, new_page, i = 0, False, 0
    elements = play.elements
    while i < len(elements):
        element = elements[i]
        if element.kind == "page_break":
            new_page, i = True, i + 1
            continue
        if element.kind == "note":
            notes.append((position, element.text))
            i += 1
            continue
        if element.kind == "character" and element.dual == "left":
            left_end = _speech_end(elements, i)
            if left_end < len(elements) and elements[left_end].dual == "right":
                right_end = _speech_end(elements, left_end)
                holder = ET.SubElement(content, "Paragraph")
                if new_page:
                    holder.set("StartsNewPage", "Yes")
                dual = ET.SubElement(holder, "DualDialogue")
                for part in elements[i:right_end]:
                    position += len(_paragraph(dual, part, False)) + 1
                new_page, i = False, right_end
                continue
        position += len(_paragraph(content, element, new_page)) + 1
        new_page, i = False, i + 1
    _title_page(root, play.title_page or ({"Title": title} if title else {}))
    if notes:
        holder = ET.SubElement(root, "ScriptNotes")
        for n, (at, note) in enumerate(notes, start=1):
            node = ET.SubElement(holder, "ScriptNote", ID=str(n), Range=f"{at},{at}")
            para = ET.SubElement(node, "Paragraph")
            ET.SubElement(para, "Text").text = note
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _title_page(root: ET.Element, page: dict[str, str]) -> None:
    if not page:
        return
    content = ET.SubElement(ET.SubElement(root, "TitlePage"), "Content")
    for key, value in page.items():
        align = "Center" if key.casefold() in _CENTERED_KEYS else "Left"
        for line in str(value).split("\n") or [""]:
            # Field names the Fountain key, so a round trip keeps it; Final Draft ignores it.
            para = ET.SubElement(content, "Paragraph", Alignment=align, Type="Text", Field=key)
            _text_runs(para, line)


# -- reading ------------------------------------------------------------------------------
def _read_bytes(source: bytes | str | Path | IO[bytes]) -> bytes:
    if isinstance(source, Path) or (isinstance(source, str) and source.lower().endswith(".fdx")
                                    and "\n" not in source and "<" not in source):
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file.")
        if path.stat().st_size > MAX_FDX_BYTES:
            raise InvalidInput(f"{path.name} is {path.stat().st_size / 1e6:.1f} MB; an FDX file may be up to "
                               f"{MAX_FDX_BYTES / 1e6:.0f} MB.")
        return path.read_bytes()
    if isinstance(source, str):
        data = source.encode("utf-8")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(MAX_FDX_BYTES + 1)
        if not isinstance(data, bytes):
            raise InvalidInput("Open the FDX file in binary mode ('rb').")
    else:
        raise InvalidInput("An FDX file must be a path, bytes or an open file.")
    if len(data) > MAX_FDX_BYTES:
        raise InvalidInput(f"This FDX file is over {MAX_FDX_BYTES / 1e6:.0f} MB; that is not a screenplay.")
    return data


def _parse(data: bytes) -> ET.Element:
    """The document's root, read safely: no DTD or entities, nesting at most ``MAX_DEPTH`` deep."""
    depth, root = 0, None
    try:
        for event, node in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                root = node if root is None else root
                if depth > MAX_DEPTH:
                    raise InvalidInput(f"This FDX file nests elements more than {MAX_DEPTH} deep; "
                                       "Final Draft never does. It was not imported.")
            else:
                depth -= 1
    except DefusedXmlException as error:
        raise InvalidInput("This FDX file declares a DTD, entities or external references, which screenplays "
                           f"never need; it was refused ({type(error).__name__}).") from None
    except ET.ParseError as error:
        raise InvalidInput(f"This is not a readable FDX file (broken XML: {error}).") from None
    if root is None or root.tag != "FinalDraft":
        raise InvalidInput("This is not a Final Draft file (its root element is not <FinalDraft>).")
    return root


def _escape(text: str, marks: str) -> str:
    return re.sub(f"([{re.escape(marks)}])", r"\\\1", text) if marks else text


def _merged(runs: list[Styled]) -> list[Styled]:
    out: list[Styled] = []
    for run in runs:
        if not run.text:
            continue
        if out and out[-1].style == run.style:
            out[-1] = Styled(out[-1].text + run.text, run.style)
        else:
            out.append(run)
    return out


def _wrap(text: str, style: int) -> str:
    if not style or not text.strip():
        return text
    lead = len(text) - len(text.lstrip())
    core, tail = text.strip(), text[len(text.rstrip()):]
    stars = "*" * ((2 if style & BOLD else 0) + (1 if style & ITALIC else 0))
    under = "_" if style & UNDERLINE else ""
    return text[:lead] + under + stars + core + stars + under + tail


def _markup_line(runs: list[Styled]) -> str:
    wanted = _merged(runs)
    # Escape as little as reads back the same: "snake_case" needs no backslash, "*stars*" does.
    for marks in ("", "*", "_", "*_", "*_\\"):
        line = "".join(_wrap(_escape(r.text, marks), r.style) for r in wanted)
        if _merged(fountain.emphasis_spans(line)) == wanted:
            return line
    return line


def _markup(para: ET.Element) -> str:
    """A paragraph's text runs back as Fountain text with emphasis markers."""
    lines: list[list[Styled]] = [[]]
    for node in para.findall("Text"):
        style = 0
        for bit, name in _STYLE_NAMES:
            style |= bit if name in (node.get("Style") or "").split("+") else 0
        parts = (node.text or "").replace("\r\n", "\n").split("\n")
        for n, part in enumerate(parts):
            if n:
                lines.append([])
            lines[-1].append(Styled(part, style))
    return "\n".join(_markup_line(line) for line in lines)


def _element(para: ET.Element, previous: Element | None) -> Element | None:
    kind = _KINDS.get(para.get("Type") or "Action", "action")
    if kind == "boneyard":
        return Element("boneyard", "".join(t.text or "" for t in para.findall("Text")))
    text = _markup(para)
    if kind == "action" and para.get("Alignment") == "Center":
        kind = "centered"
    if kind == "scene_heading":
        return Element(kind, " ".join(text.split()), scene_number=(para.get("Number") or "").strip() or None)
    if not text.strip():
        return None
    if kind == "character":
        match = re.fullmatch(r"(.*?)\s*(\([^()]*\))", text.strip())
        name, extension = (match.group(1), match.group(2)) if match and match.group(1) else (text.strip(), None)
        return Element(kind, name, extension=extension)
    if kind == "parenthetical":
        text = text.strip()
        return Element(kind, text if text.startswith("(") else f"({text})")
    if kind == "section":
        level = para.get("Level") or "1"
        return Element(kind, text.strip(), depth=int(level) if level.isdigit() and 0 < int(level) < 7 else 1)
    if kind == "lyric":
        in_speech = previous is not None and (previous.kind in _SPEECH or previous.in_speech)
        return Element(kind, text, in_speech=in_speech)
    return Element(kind, text)


def _title_from(root: ET.Element) -> dict[str, str]:
    page: dict[str, list[str]] = {}
    unnamed: list[tuple[str, str]] = []
    for para in root.findall("./TitlePage/Content/Paragraph"):
        text = _markup(para).strip()
        if para.get("Field"):
            page.setdefault(para.get("Field") or "", []).append(text)
        elif text:
            unnamed.append((para.get("Alignment") or "Left", text))
    # A title page from Final Draft itself has no field names: its first centred line is
    # the title, "Written by" the credit, the line after it the author, the rest contact.
    for n, (align, text) in enumerate(unnamed):
        if n == 0:
            page.setdefault("Title", []).append(text)
        elif re.fullmatch(r"(?i)(written\s+)?by", text):
            page.setdefault("Credit", []).append(text)
        elif "Credit" in page and "Author" not in page and align == "Center":
            page.setdefault("Author", []).append(text)
        else:
            page.setdefault("Contact", []).append(text)
    return {key: "\n".join(v for v in values if v) for key, values in page.items() if key}


def _paragraphs(root: ET.Element) -> list[tuple[ET.Element, str | None]]:
    """Every script paragraph in order, with 'left'/'right' for the two halves of a dual dialogue."""
    found: list[tuple[ET.Element, str | None]] = []
    for para in root.findall("./Content/Paragraph"):
        dual = para.find("DualDialogue")
        if dual is None:
            found.append((para, None))
            continue
        characters = 0
        for n, inner in enumerate(dual.findall("Paragraph")):
            if inner.get("Type") == "Character":
                characters += 1
            if n == 0 and para.get("StartsNewPage") == "Yes":
                inner.set("StartsNewPage", "Yes")
            found.append((inner, "left" if characters <= 1 else "right"))
    return found


def fdx_to_fountain(source: bytes | str | Path | IO[bytes]) -> str:
    """A Final Draft file as Fountain text. Raises :class:`InvalidInput` for anything unsafe or not FDX."""
    root = _parse(_read_bytes(source))
    notes = sorted(((int(m.group(1)), n, "\n".join(_markup(p) for p in note.findall("Paragraph")))
                    for n, note in enumerate(root.findall("./ScriptNotes/ScriptNote"))
                    if (m := re.match(r"\s*(\d+)", note.get("Range") or ""))), key=lambda t: (t[0], t[1]))
    elements: list[Element] = []
    position, waiting = 0, list(notes)
    for para, side in _paragraphs(root):
        while waiting and waiting[0][0] <= position:
            elements.append(Element("note", waiting.pop(0)[2]))
        if para.get("StartsNewPage") == "Yes":
            elements.append(Element("page_break"))
        position += len("".join(t.text or "" for t in para.findall("Text"))) + 1
        element = _element(para, elements[-1] if elements else None)
        if element is None:
            continue
        if element.kind == "character" and side is not None:
            element.dual = side
        elements.append(element)
    elements.extend(Element("note", text) for _, _, text in waiting)
    return fountain.format(Screenplay(_title_from(root), elements))
