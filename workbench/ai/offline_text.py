"""The embedded text backend: useful drafts with no key and no network.

It reads the task contract described in :mod:`workbench.ai.base` (``TASK:``
line, ``key: value`` lines, body), hands the request to the writer registered
for the task, and either renders the draft as text (:meth:`complete`,
:meth:`stream`) or fills the caller's pydantic schema with it
(:meth:`structured`). The same (system, prompt, seed) always gives the same
draft. ``max_tokens`` is ignored: drafts are short by construction.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import annotated_types
import pydantic

from workbench.ai.base import Generation, TextBackend
from workbench.ai.offline_edits import write_beats, write_continuation, write_prompts, write_rewrite
from workbench.ai.offline_pages import write_screenplay, write_treatment
from workbench.ai.offline_story import write_idea, write_logline, write_outline
from workbench.ai.tasks import TaskRequest, parse_task_prompt
from workbench.errors import ProviderError

__all__ = ["OfflineTextBackend", "TASK_WRITERS", "fit_to_schema"]

SchemaT = TypeVar("SchemaT", bound=pydantic.BaseModel)
Writer = Callable[[TaskRequest, random.Random], dict[str, Any]]

TASK_WRITERS: dict[str, Writer] = {
    "idea": write_idea,
    "logline": write_logline,
    "outline": write_outline,
    "treatment": write_treatment,
    "screenplay": write_screenplay,
    "continue": write_continuation,
    "rewrite": write_rewrite,
    "prompts": write_prompts,
    "beats": write_beats,
}
_TASK_ALIASES = {"ideas": "idea", "story_ideas": "idea", "loglines": "logline", "beat_sheet": "outline",
                 "pages": "screenplay", "fountain": "screenplay", "continue_scene": "continue",
                 "rewrite_selection": "rewrite", "story_prompts": "prompts", "scene_beats": "beats",
                 "pitch": "beats", "magic_board_plan": "beats", "auto_suggestions": "prompts"}
# Words in a free prompt (no TASK line) that say what kind of draft is wanted, checked in order.
_PROMPT_HINTS = (("continue", "continue"), ("rewrite", "rewrite"), ("tighten", "rewrite"), ("logline", "logline"),
                 ("treatment", "treatment"), ("screenplay", "screenplay"), ("fountain", "screenplay"),
                 ("outline", "outline"), ("beat sheet", "outline"), ("pitch", "beats"), ("prompt", "prompts"))


class OfflineTextBackend(TextBackend):
    """Deterministic drafts built from craft tables and the request's own words."""

    model_id = "offline-drafts/v1"
    offline = True

    def __init__(self, *, word_pause: float = 0.02) -> None:
        """``word_pause`` seconds pass between streamed words (0 for none).

        The drafts are ready at once, but the editor is built for a model that
        writes as it thinks: without the pause a whole continuation lands in one
        frame, the writer never sees it arrive and Stop can never be pressed.
        """
        self.word_pause = max(0.0, word_pause)

    def complete(self, system: str, prompt: str, *, seed: int | None = None, max_tokens: int = 1200,
                 cancel: threading.Event | None = None) -> Generation:
        """The draft for the prompt as readable text (Fountain for pages and scene continuations)."""
        _check(cancel)
        request = parse_task_prompt(prompt)
        task = _task_for(request, None)
        draft = TASK_WRITERS[task](_as_task(request, task), _rng(system, prompt, seed))
        return Generation(text=render(task, draft), model=self.model_id, offline=True)

    def stream(self, system: str, prompt: str, *, seed: int | None = None, max_tokens: int = 1200,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """The text of :meth:`complete`, one word (with its trailing space) at a time, at a writer's pace."""
        text = self.complete(system, prompt, seed=seed, max_tokens=max_tokens, cancel=cancel).text
        stop = cancel or threading.Event()
        for index, chunk in enumerate(re.findall(r"\s*\S+\s*", text)):
            # Waiting on the event, not sleeping: Stop ends the stream at once, mid-pause.
            if stop.is_set() or (index and self.word_pause and stop.wait(self.word_pause)):
                return
            yield chunk

    def structured(self, system: str, prompt: str, schema: type[SchemaT], *, seed: int | None = None,
                   cancel: threading.Event | None = None) -> SchemaT:
        """The draft for the prompt, as an instance of ``schema`` filled by field name."""
        _check(cancel)
        request = parse_task_prompt(prompt)
        task = _task_for(request, schema)
        draft = TASK_WRITERS[task](_as_task(request, task), _rng(system, prompt, seed))
        return fit_to_schema(draft, schema)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ProviderError("The draft was cancelled before it was written; nothing was charged.")


def _rng(system: str, prompt: str, seed: int | None) -> random.Random:
    # A hash, not Python's hash(): that one changes between processes.
    digest = hashlib.sha256(f"{system}\x00{prompt}\x00{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _as_task(request: TaskRequest, task: str) -> TaskRequest:
    if request.task == task:
        return request
    # A free prompt is the premise / selection / pitch of the guessed task.
    return TaskRequest(task=task, fields={**request.fields, "premise": request.body[:400]}, body=request.body)


def _task_for(request: TaskRequest, schema: type[pydantic.BaseModel] | None) -> str:
    if request.task:
        task = _TASK_ALIASES.get(request.task, request.task)
        if task in TASK_WRITERS:
            return task
    if schema is not None:
        names = _field_names(schema)
        for wanted, task in (("ideas", "idea"), ("loglines", "logline"), ("prompts", "prompts"), ("shot", "beats"),
                             ("fountain", "screenplay"), ("heading", "treatment"), ("beats", "outline"),
                             ("notes", "rewrite")):
            if wanted in names:
                return task
    lowered = request.body.lower()
    return next((task for hint, task in _PROMPT_HINTS if hint in lowered), "idea")


def _field_names(schema: type[pydantic.BaseModel], depth: int = 0) -> set[str]:
    names: set[str] = set()
    for name, info in schema.model_fields.items():
        names.add(name)
        for inner in _model_types(info.annotation):
            if depth < 2:
                names |= _field_names(inner, depth + 1)
    return names


def _model_types(annotation: Any) -> list[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _model_types(arg)]


# Rendering a draft as text.


def render(task: str, draft: dict[str, Any]) -> str:
    """A draft dict as the text a writer would read."""
    if task in ("screenplay", "continue"):
        return str(draft["fountain"]).strip("\n") + "\n"
    if task == "rewrite":
        return str(draft["text"])
    if task == "idea":
        keys = ("logline", "protagonist", "want", "need", "conflict", "setting", "twist")
        return "\n\n".join(card["title"].upper() + "\n" + "\n".join(f"{k.title()}: {card[k]}" for k in keys)
                           for card in draft["ideas"])
    if task == "outline":
        head = f"{draft['title']} ({draft['structure']})"
        return head + "\n\n" + "\n".join(f"{i}. {b['name']} (act {b['act']}, p. {b['page']}): {b['summary']}"
                                         for i, b in enumerate(draft["beats"], start=1))
    if task == "treatment":
        return draft["title"] + "\n\n" + "\n\n".join(f"{s['number']}. {s['heading']}\n{s['summary']}"
                                                     for s in draft["scenes"])
    if task == "beats":
        return "\n".join(f"{b['number']}. {b['text']}\n   Shot: {b['shot']}" for b in draft["beats"])
    items = draft.get("loglines") or draft.get("prompts") or []
    return "\n".join(f"- {item}" for item in items)


# Filling an arbitrary schema with a draft.

_SYNONYMS = (
    ("summary", "description", "text", "content", "body", "details", "synopsis", "action"),
    ("fountain", "screenplay", "pages", "script", "scene", "continuation", "lines", "text"),
    ("ideas", "cards", "idea_cards", "items", "concepts", "stories"),
    ("beats", "scenes", "steps", "frames", "shots", "panels", "items"),
    ("name", "title", "label", "beat", "heading"),
    ("shot", "shot_description", "visual", "image_prompt", "camera", "frame", "description"),
    ("want", "goal", "desire", "outer_goal"),
    ("need", "inner_need", "lesson", "inner_goal", "theme"),
    ("conflict", "obstacle", "obstacles", "opposition"),
    ("protagonist", "hero", "main_character", "lead"),
    ("setting", "world", "location", "place"),
    ("twist", "reveal", "surprise"),
    ("logline", "pitch", "premise", "one_liner", "summary"),
    ("prompts", "story_prompts", "suggestions", "questions", "items"),
    ("loglines", "options", "variants", "alternatives", "items"),
    ("number", "index", "order", "scene_number", "position"),
    ("notes", "changes", "comments", "explanation"),
    ("page", "page_number"),
    ("characters", "cast"),
    ("structure", "format", "template"),
)
_MISSING = object()


def fit_to_schema(draft: dict[str, Any], schema: type[SchemaT]) -> SchemaT:
    """Fill ``schema`` from a draft dict by field name and synonyms; raise ProviderError if impossible."""
    try:
        return schema.model_validate(_fit_model(draft, schema))
    except pydantic.ValidationError as error:
        raise ProviderError(
            f"The offline drafts cannot fill the shape '{schema.__name__}' ({error.error_count()} field(s) do not "
            "fit). Switch to an online text provider for this request, or use a schema from workbench.ai.tasks."
        ) from error


def _lookup(payload: dict[str, Any], name: str, alias: str | None) -> Any:
    candidates = [name, alias] + [s for group in _SYNONYMS if name in group for s in group]
    for key in candidates:
        if key and key in payload:
            return payload[key]
    return _MISSING


def _fit_model(payload: Any, model: type[pydantic.BaseModel]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        payload = {"text": payload}
    hits = sum(_lookup(payload, n, f.alias) is not _MISSING for n, f in model.model_fields.items())
    if hits == 0:
        # One card asked for where the draft holds several: use the first.
        lists = [v for v in payload.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if lists:
            payload = lists[0][0]
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = _lookup(payload, name, info.alias)
        if value is _MISSING:
            if not info.is_required():
                continue
            lists = [v for v in payload.values() if isinstance(v, list)]
            value = lists[0] if len(lists) == 1 and _is_list(info.annotation) else _plain(payload)
        out[info.alias or name] = _coerce(value, info.annotation, info.metadata)
    return out


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(_unwrap(annotation)) in (list, tuple, set, frozenset)


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(options[0]) if options else str
    return annotation


def _coerce(value: Any, annotation: Any, metadata: Sequence[Any] = ()) -> Any:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    limit = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    if origin in (list, tuple, set, frozenset):
        inner = (typing.get_args(annotation) or (Any,))[0]
        items = value if isinstance(value, list) else [value]
        return [_coerce(item, inner) for item in items][:limit]
    if origin is typing.Literal:
        options = typing.get_args(annotation)
        match = [o for o in options if str(o).lower() == str(value).lower()]
        return match[0] if match else options[0]
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return _fit_model(value, annotation)
    if annotation is str:
        text = _plain(value)
        return text[:limit] if limit else text
    if annotation in (int, float):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", str(value))
        return annotation(float(numbers[0])) if numbers else 0
    if annotation is bool:
        return bool(value)
    return value


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("text", "summary", "fountain", "logline", "title"):
            if isinstance(value.get(key), str):
                return value[key]
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_plain(item) for item in value)
    return str(value)
