"""AI backends: text generation and image generation, online or offline.

Pick them with :func:`build_text_backend` / :func:`build_image_backend`; the
task contract the writing domain uses is described in :mod:`workbench.ai.base`
and its prompt helpers and draft shapes live in :mod:`workbench.ai.tasks`.
"""

from __future__ import annotations

from workbench.ai.base import Generation, ImageBackend, TextBackend, build_image_backend, build_text_backend
from workbench.ai.tasks import (
    TASK_NAMES,
    TASK_SCHEMAS,
    IdeaCard,
    IdeaCards,
    Loglines,
    Outline,
    OutlineBeat,
    PitchBeat,
    PitchBeats,
    Rewrite,
    SceneContinuation,
    ScreenplayPages,
    StoryPrompts,
    TaskRequest,
    Treatment,
    TreatmentScene,
    parse_task_prompt,
    task_prompt,
)

__all__ = [
    "Generation",
    "TextBackend",
    "ImageBackend",
    "build_text_backend",
    "build_image_backend",
    "TASK_NAMES",
    "TASK_SCHEMAS",
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
]
