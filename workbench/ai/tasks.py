"""The task prompts and draft shapes shared by the writing domain and the text backends.

See :mod:`workbench.ai.base` for the contract. In short: the writing domain
builds a prompt with :func:`task_prompt`, asks a backend for a schema from
this module (or its own), and both backends understand it: a real model reads
the ``key: value`` lines as plain instructions, the offline backend parses
them with :func:`parse_task_prompt`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

__all__ = [
    "TASK_NAMES",
    "TaskRequest",
    "task_prompt",
    "parse_task_prompt",
    "IdeaCard",
    "IdeaCards",
    "Loglines",
    "OutlineBeat",
    "Outline",
    "TreatmentScene",
    "Treatment",
    "ScreenplayPages",
    "SceneContinuation",
    "Rewrite",
    "StoryPrompts",
    "PitchBeat",
    "PitchBeats",
    "TASK_SCHEMAS",
]

TASK_NAMES = ("idea", "logline", "outline", "treatment", "screenplay", "continue", "rewrite", "prompts", "beats")

_KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _-]{0,40}):\s?(.*)$")


@dataclass(frozen=True)
class TaskRequest:
    """A parsed task prompt: the task name, its ``key: value`` fields and the free body."""

    task: str | None
    fields: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def get(self, *names: str, default: str = "") -> str:
        """The first non-empty field among ``names`` (keys are lower-case, ``_`` for spaces)."""
        for name in names:
            value = self.fields.get(_key(name), "").strip()
            if value:
                return value
        return default

    def items(self, *names: str) -> list[str]:
        """A comma- or semicolon-separated field as a list of trimmed items."""
        raw = self.get(*names)
        return [part.strip() for part in re.split(r"[,;]", raw) if part.strip()]

    def number(self, name: str, default: int, *, low: int = 1, high: int = 50) -> int:
        """An integer field, clamped to a sane range; ``default`` when absent or unreadable."""
        match = re.search(r"-?\d+", self.get(name))
        value = int(match.group()) if match else default
        return max(low, min(high, value))


def task_prompt(task: str, body: str = "", **fields: object) -> str:
    """Write a task prompt in the contract format.

    >>> print(task_prompt("beats", "Rain falls. She runs.", count=2))
    TASK: beats
    count: 2
    <BLANKLINE>
    Rain falls. She runs.
    """
    lines = [f"TASK: {task}"]
    for name, value in fields.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, Iterable) and not isinstance(value, str):
            value = ", ".join(str(item) for item in value)
        # A value is one line; multi-line text belongs in the body.
        lines.append(f"{name.replace('_', ' ')}: {' '.join(str(value).split())}")
    text = "\n".join(lines)
    return f"{text}\n\n{body.strip()}" if body.strip() else text


def parse_task_prompt(prompt: str) -> TaskRequest:
    """Read a task prompt back; a prompt without a ``TASK:`` line has task None and is all body."""
    lines = prompt.strip().splitlines()
    first = _KEY_LINE.match(lines[0]) if lines else None
    if not first or _key(first.group(1)) != "task":
        return TaskRequest(task=None, body=prompt.strip())
    task = first.group(2).strip().lower().replace("-", "_").replace(" ", "_")
    fields: dict[str, str] = {}
    index = 1
    while index < len(lines):
        match = _KEY_LINE.match(lines[index])
        if not lines[index].strip() or not match:
            break
        fields[_key(match.group(1))] = match.group(2).strip()
        index += 1
    body = "\n".join(lines[index:]).strip("\n")
    return TaskRequest(task=task, fields=fields, body=body.strip())


def _key(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


# The canonical draft shapes. Field names double as the offline generator's vocabulary.


class IdeaCard(BaseModel):
    """One story idea, the way it is pinned on a wall."""

    title: str
    logline: str
    protagonist: str
    want: str = Field(description="What the protagonist chases (outer goal).")
    need: str = Field(description="What the protagonist must learn (inner goal).")
    conflict: str
    setting: str
    twist: str
    genre: str = ""
    tone: str = ""


class IdeaCards(BaseModel):
    ideas: list[IdeaCard]


class Loglines(BaseModel):
    loglines: list[str]


class OutlineBeat(BaseModel):
    name: str
    act: int
    page: int = Field(description="Where the beat lands in a 110-page script.")
    summary: str


class Outline(BaseModel):
    title: str
    structure: str = Field(description="three-act or save-the-cat")
    beats: list[OutlineBeat]


class TreatmentScene(BaseModel):
    number: int
    heading: str = Field(description="Fountain scene heading, e.g. 'EXT. HARBOR - NIGHT'.")
    summary: str


class Treatment(BaseModel):
    title: str
    scenes: list[TreatmentScene]


class ScreenplayPages(BaseModel):
    title: str
    fountain: str = Field(description="Screenplay pages in Fountain markup.")


class SceneContinuation(BaseModel):
    fountain: str = Field(description="Fountain lines to append to the scene.")


class Rewrite(BaseModel):
    text: str
    notes: list[str] = Field(default_factory=list, description="What changed and why.")


class StoryPrompts(BaseModel):
    prompts: list[str]


class PitchBeat(BaseModel):
    number: int
    text: str
    shot: str = Field(description="How the frame looks: shot size, subject, light.")


class PitchBeats(BaseModel):
    beats: list[PitchBeat]


TASK_SCHEMAS: dict[str, type[BaseModel]] = {
    "idea": IdeaCards,
    "logline": Loglines,
    "outline": Outline,
    "treatment": Treatment,
    "screenplay": ScreenplayPages,
    "continue": SceneContinuation,
    "rewrite": Rewrite,
    "prompts": StoryPrompts,
    "beats": PitchBeats,
}
