"""The two small interfaces every AI backend implements, and the one place that picks them.

A *text backend* writes words (ideas, loglines, outlines, Fountain pages); an
*image backend* makes pictures for Magic Boards. Each family has one real
implementation that talks to an OpenAI-compatible endpoint and one offline
implementation that ships inside the package, needs no key and no network, and
is deterministic for a given prompt and seed::

    backend = build_text_backend(Settings())          # offline by default
    card = backend.structured(SYSTEM, task_prompt("idea", genre="noir", keywords=["rain"]), IdeaCards)

The task contract (how the writing domain asks for a draft)
------------------------------------------------------------
A prompt that asks for a kind of draft starts with a ``TASK: <name>`` line,
then ``key: value`` lines, then optionally one blank line and a free *body*
(a scene, a selection, a pitch, board items or outline beats, one per line).
Build it with :func:`workbench.ai.tasks.task_prompt`; lists become
comma-separated values::

    TASK: idea
    genre: thriller
    tone: tense
    keywords: lighthouse, storm, inheritance
    count: 3

    A keeper finds a radio that picks up tomorrow's news.

Task names and the keys each one reads (all optional unless marked):

==============  ==============================================================
``idea``        premise (or body), genre, tone, keywords, count -> idea cards
``logline``     title, premise, protagonist, want, conflict, genre, tone, keywords, count
``outline``     the idea's fields (title, logline, protagonist, want, need,
                conflict, setting, twist), genre, tone, keywords,
                structure = ``three-act`` | ``save-the-cat`` (15 beats)
``treatment``   as ``outline``; body may hold outline beats, one per line
``screenplay``  title, author, genre, tone, protagonist, keywords; body: beats
                or scene summaries, one per line -> Fountain pages
``continue``    lines (dialogue lines to add, default 6), direction; body
                (required): the scene so far, in Fountain
``rewrite``     mode = tighten | punch-up | darker | lighter | formal | casual;
                body (required): the selection
``prompts``     board (title), genre, tone, count; body: board items, one per line
``beats``       count; body or ``pitch`` (required): the pitch -> one beat per
                sentence (or clause), each with a shot description
==============  ==============================================================

Ask for the result with :meth:`TextBackend.structured` and a pydantic schema.
The canonical schemas live in :mod:`workbench.ai.tasks` (``IdeaCards``,
``Loglines``, ``Outline``, ``Treatment``, ``ScreenplayPages``,
``SceneContinuation``, ``Rewrite``, ``StoryPrompts``, ``PitchBeats``); a
domain may use its own schema instead: the offline backend fills it by field
name (with common synonyms: ``summary``/``description``, ``shot``/``visual``,
``ideas``/``cards``...), and the online backend sends its JSON schema to the
model. :meth:`TextBackend.complete` on a task prompt returns the same draft as
readable text (Fountain for ``screenplay`` and ``continue``).

Everything the offline backend writes is labelled: ``Generation.offline`` is
True and its ``model_id`` is ``offline-drafts/v1``.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pydantic

if TYPE_CHECKING:
    import httpx

    from workbench.settings import Settings

__all__ = [
    "Generation",
    "TextBackend",
    "ImageBackend",
    "build_text_backend",
    "build_image_backend",
]

SchemaT = TypeVar("SchemaT", bound=pydantic.BaseModel)


@dataclass
class Generation:
    """One finished piece of generated text and where it came from."""

    text: str
    model: str
    offline: bool
    usage_tokens: int | None = None


class TextBackend(abc.ABC):
    """Writes text from a system prompt and a user prompt.

    Every method raises :class:`workbench.errors.ProviderError` with a message a
    filmmaker can act on when the provider fails; never a raw traceback.
    """

    model_id: str
    offline: bool

    @abc.abstractmethod
    def complete(
        self,
        system: str,
        prompt: str,
        *,
        seed: int | None = None,
        max_tokens: int = 1200,
        cancel: threading.Event | None = None,
    ) -> Generation:
        """Write the whole answer at once."""

    @abc.abstractmethod
    def stream(
        self,
        system: str,
        prompt: str,
        *,
        seed: int | None = None,
        max_tokens: int = 1200,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield the answer in chunks as they arrive; stop early once ``cancel`` is set."""

    @abc.abstractmethod
    def structured(
        self,
        system: str,
        prompt: str,
        schema: type[SchemaT],
        *,
        seed: int | None = None,
        cancel: threading.Event | None = None,
    ) -> SchemaT:
        """Answer with an instance of ``schema`` (JSON validated by pydantic)."""


class ImageBackend(abc.ABC):
    """Makes one image from a text prompt."""

    model_id: str
    offline: bool

    @abc.abstractmethod
    def generate(self, prompt: str, *, size: str = "1024x1024", seed: int | None = None) -> bytes | None:
        """PNG/JPEG bytes, or None when this backend cannot make images.

        None tells the caller to fall back to finding a picture in the library
        (what offline Magic Boards do).
        """


def build_text_backend(settings: Settings, *, http_client: httpx.Client | None = None) -> TextBackend:
    """The text backend the settings ask for (``settings.ai.text_provider``).

    ``http_client`` is handed to the OpenAI SDK, so tests and proxies can route
    the traffic; the offline backend ignores it.
    """
    # Imports stay inside the branches: the offline path must not pay for the SDK import.
    match settings.ai.text_provider:
        case "offline":
            from workbench.ai.offline_text import OfflineTextBackend

            return OfflineTextBackend()
        case "openai":
            from workbench.ai.openai_text import OpenAITextBackend

            return OpenAITextBackend(
                api_key=_api_key(settings),
                base_url=settings.ai.base_url,
                model=settings.ai.text_model,
                timeout_seconds=settings.ai.timeout_seconds,
                max_retries=settings.ai.max_retries,
                http_client=http_client,
            )
        case other:
            raise ValueError(f"Unknown text provider {other!r}; use 'offline' or 'openai'.")


def build_image_backend(settings: Settings, *, http_client: httpx.Client | None = None) -> ImageBackend:
    """The image backend the settings ask for (``settings.ai.image_provider``)."""
    match settings.ai.image_provider:
        case "offline":
            from workbench.ai.offline_images import OfflineImageBackend

            return OfflineImageBackend()
        case "openai":
            from workbench.ai.openai_images import OpenAIImageBackend

            return OpenAIImageBackend(
                api_key=_api_key(settings),
                base_url=settings.ai.base_url,
                model=settings.ai.image_model,
                timeout_seconds=settings.ai.timeout_seconds,
                max_retries=settings.ai.max_retries,
                http_client=http_client,
            )
        case other:
            raise ValueError(f"Unknown image provider {other!r}; use 'offline' or 'openai'.")


def _api_key(settings: Settings) -> str | None:
    # The secret is read here, when a backend is built, and nowhere else.
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
