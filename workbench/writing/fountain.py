"""Fountain screenplays: read them, write them back, and read them as plain text.

Fountain (https://fountain.io/syntax) is the plain-text screenplay format most
writing tools exchange. ``parse`` turns any text into a :class:`Screenplay`
(title page plus a flat list of :class:`Element`), ``format`` writes it back
as canonical Fountain, and ``to_plain_text`` gives what a reader would see on
the printed page, for search and for prompts.

    >>> play = parse("INT. DINER - NIGHT\\n\\nRAIN hammers the glass.\\n\\nMAE\\nMore coffee?\\n")
    >>> [e.kind for e in play.elements]
    ['scene_heading', 'action', 'character', 'dialogue']
    >>> parse(format(play)) == play
    True

Element text keeps the writer's inline markup (``*italic*``, ``[[notes]]``)
so nothing is lost on the way back; :func:`emphasis_spans` and
:func:`strip_notes` read it. Parsing never raises: text that fits no rule is
action, as the spec says.

This module is the one to import from. The work is done in
:mod:`~workbench.writing.fountain_model` (the data classes),
:mod:`~workbench.writing.fountain_parse` (reading),
:mod:`~workbench.writing.fountain_format` (writing) and
:mod:`~workbench.writing.fountain_text` (notes, emphasis, plain text).
"""

from __future__ import annotations

from workbench.writing.fountain_format import format
from workbench.writing.fountain_model import BOLD, ITALIC, UNDERLINE, Element, Scene, Screenplay, Styled
from workbench.writing.fountain_parse import parse
from workbench.writing.fountain_text import emphasis_spans, strip_notes, to_plain_text

__all__ = [
    "BOLD",
    "ITALIC",
    "UNDERLINE",
    "Element",
    "Scene",
    "Screenplay",
    "Styled",
    "emphasis_spans",
    "format",
    "parse",
    "strip_notes",
    "to_plain_text",
]
