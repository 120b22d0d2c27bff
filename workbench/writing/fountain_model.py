"""The shape of a Fountain screenplay: its elements, scenes and styled text.

The data classes that :mod:`workbench.writing.fountain` reads into and writes
from, the emphasis style bits, and the grouping of a character's name with
the speech under it, shared by the writer and the plain-text reader. Import
them from :mod:`workbench.writing.fountain`; this module only keeps the
reader and the writer from depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["BOLD", "ITALIC", "UNDERLINE", "Element", "Scene", "Screenplay", "Styled"]

BOLD, ITALIC, UNDERLINE = 1, 2, 4

_SPEECH_KINDS = ("parenthetical", "dialogue")


@dataclass
class Element:
    """One paragraph of a screenplay: a scene heading, a line of dialogue, a note.

    ``kind`` is one of scene_heading, action, character, dialogue,
    parenthetical, transition, centered, lyric, page_break, note, section,
    synopsis or boneyard. ``text`` holds the words without the Fountain
    markers that decided the kind, but with inline emphasis and notes.
    ``scene_number`` is the ``#1A#`` of a heading, ``depth`` the level of a
    section, ``dual`` is 'left' or 'right' for characters speaking at once,
    ``extension`` the ``(V.O.)`` after a character name, and ``in_speech``
    marks lyric lines sung inside a character's speech.
    """

    kind: str
    text: str = ""
    scene_number: str | None = None
    depth: int = 0
    dual: str | None = None
    extension: str | None = None
    in_speech: bool = False


@dataclass
class Scene:
    """A scene heading and every element up to the next heading."""

    heading: Element
    elements: list[Element] = field(default_factory=list)

    @property
    def number(self) -> str | None:
        """The scene number written on the heading, if any."""
        return self.heading.scene_number


@dataclass
class Screenplay:
    """A whole script: title page fields (``Title``, ``Author``...) and its elements."""

    title_page: dict[str, str] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)

    def title_field(self, key: str) -> str | None:
        """A title page value by key, ignoring case: ``play.title_field("draft date")``."""
        for name, value in self.title_page.items():
            if name.casefold() == key.casefold():
                return value
        return None

    def scenes(self) -> list[Scene]:
        """The scenes in order; anything before the first heading belongs to none."""
        scenes: list[Scene] = []
        for element in self.elements:
            if element.kind == "scene_heading":
                scenes.append(Scene(element))
            elif scenes:
                scenes[-1].elements.append(element)
        return scenes

    def characters(self) -> list[str]:
        """Speaking characters in order of first appearance, without extensions.

        ``MCCLANE`` and ``@McCLANE`` are the same person; the first spelling wins.
        """
        seen: dict[str, str] = {}
        for element in self.elements:
            if element.kind == "character" and element.text.upper() not in seen:
                seen[element.text.upper()] = element.text
        return list(seen.values())


class Styled(NamedTuple):
    """A run of printed characters sharing one style (a BOLD|ITALIC|UNDERLINE mask)."""

    text: str
    style: int


def _blocks(elements: list[Element]) -> list[list[Element]]:
    """Group each character with its speech; every other element stands alone."""
    blocks: list[list[Element]] = []
    for element in elements:
        in_speech = element.kind in _SPEECH_KINDS or (element.kind == "lyric" and element.in_speech)
        if in_speech and blocks and blocks[-1][0].kind == "character":
            blocks[-1].append(element)
        else:
            blocks.append([element])
    return blocks
