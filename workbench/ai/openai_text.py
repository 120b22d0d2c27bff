"""Text from any OpenAI-compatible endpoint, through the official ``openai`` SDK.

Works with api.openai.com (the default), a local server speaking the same API
(vLLM, llama.cpp, Ollama: set ``WORKBENCH_AI__BASE_URL=http://host:port/v1``;
the key may then be empty) and Azure OpenAI through its v1 endpoint::

    WORKBENCH_AI__TEXT_PROVIDER=openai
    WORKBENCH_AI__BASE_URL=https://<resource>.openai.azure.com/openai/v1/
    WORKBENCH_AI__TEXT_MODEL=<deployment name>
    OPENAI_API_KEY=<the Azure OpenAI key>

The SDK's own retries are switched off (``max_retries=0``) so this module owns
the policy: 429, 5xx and connection errors are retried up to ``max_retries``
times with exponential backoff and jitter (a short ``Retry-After`` is
honoured, a long one fails at once with the wait in the message); a timeout
is not retried, because a provider that hung once usually hangs again and the
filmmaker is waiting. Every failure surfaces as a ``ProviderError`` with a
readable message.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import openai
import pydantic
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONObject

from workbench.ai.base import Generation, TextBackend
from workbench.errors import ProviderError

__all__ = ["OpenAITextBackend", "RetryPolicy", "openai_client"]

T = TypeVar("T")
SchemaT = TypeVar("SchemaT", bound=pydantic.BaseModel)
STRUCTURED_MAX_TOKENS = 4000


def openai_client(*, api_key: str | None, base_url: str | None, timeout_seconds: float,
                  http_client: httpx.Client | None) -> openai.OpenAI:
    """An SDK client with its retries off; a missing key is an error only for api.openai.com."""
    if not api_key:
        if base_url is None:
            raise ProviderError(
                "The openai provider needs an API key: set OPENAI_API_KEY, or switch back to "
                "WORKBENCH_AI__TEXT_PROVIDER=offline / WORKBENCH_AI__IMAGE_PROVIDER=offline."
            )
        api_key = "not-needed"  # local OpenAI-compatible servers accept any key
    # openai 3.x is typed for httpx2.Client only; an httpx.Client is its documented run-time-only
    # escape hatch (openai-python httpx2.md), hence the ignore.
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0,
                         http_client=http_client)  # type: ignore[arg-type]


@dataclass
class RetryPolicy:
    """How hard to try before telling the filmmaker the provider is unavailable."""

    timeout_seconds: float
    max_retries: int
    backoff_seconds: float = 0.5
    max_retry_after_seconds: float = 20.0

    def run(self, call: Callable[[], T], cancel: threading.Event | None = None) -> T:
        """Run ``call``, retrying 429, 5xx and connection errors; raise ProviderError otherwise."""
        attempt = 0
        while True:
            check_cancel(cancel)
            try:
                return call()
            except openai.APITimeoutError as error:
                raise ProviderError(self.timeout_message()) from error
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as error:
                if attempt >= self.max_retries:
                    raise ProviderError(_exhausted_message(error, attempt + 1)) from error
                delay = self._delay(error, attempt)
                attempt += 1
                if cancel is not None:
                    if cancel.wait(delay):
                        check_cancel(cancel)
                else:
                    time.sleep(delay)
            except openai.APIStatusError as error:
                raise ProviderError(status_message(error)) from error
            except openai.OpenAIError as error:
                raise ProviderError(f"The AI provider failed: {_first_line(str(error))}") from error

    def timeout_message(self) -> str:
        return (f"The AI provider did not answer within {self.timeout_seconds:g} s. Try again in a moment; "
                "for long drafts raise WORKBENCH_AI__TIMEOUT_SECONDS.")

    def _delay(self, error: openai.OpenAIError, attempt: int) -> float:
        asked = _retry_after(error)
        if asked is not None:
            if asked > self.max_retry_after_seconds:
                raise ProviderError(
                    f"The AI provider is rate-limiting this account and asks to wait {asked:.0f} s. "
                    "Try again after that."
                ) from error
            return asked
        delay = self.backoff_seconds * 2**attempt
        return delay + random.uniform(0, delay / 2)  # jitter spreads out clients that failed together


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise ProviderError when the filmmaker has cancelled the generation."""
    if cancel is not None and cancel.is_set():
        raise ProviderError("The generation was cancelled before the provider answered.")


def _retry_after(error: openai.OpenAIError) -> float | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return None


def _exhausted_message(error: openai.OpenAIError, attempts: int) -> str:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(error, openai.RateLimitError):
        return (f"The AI provider is busy or rate-limiting this account (HTTP 429) and still refused after {tries}. "
                "Wait a minute and try again.")
    if isinstance(error, openai.APIStatusError):
        return (f"The AI provider had an internal error (HTTP {error.status_code}) on all {tries}. "
                "Try again in a few minutes.")
    return (f"Could not reach the AI provider after {tries}. Check the network connection and "
            "WORKBENCH_AI__BASE_URL.")


def status_message(error: openai.APIStatusError) -> str:
    """A readable sentence for a 4xx answer."""
    detail = _provider_detail(error)
    match error.status_code:
        case 401:
            return "The AI provider rejected the API key (HTTP 401). Check OPENAI_API_KEY."
        case 403:
            return f"The API key may not use this model or endpoint (HTTP 403). {detail}".strip()
        case 404:
            return ("The AI provider does not know this model or endpoint (HTTP 404). Check WORKBENCH_AI__TEXT_MODEL, "
                    f"WORKBENCH_AI__IMAGE_MODEL and WORKBENCH_AI__BASE_URL (on Azure the model is the deployment name). "
                    f"{detail}").strip()
        case 400 | 422:
            return f"The AI provider refused the request (HTTP {error.status_code}): {detail or 'no reason given'}"
        case code:
            return f"The AI provider answered HTTP {code}: {detail or 'no reason given'}"


def _provider_detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else None
        if message:
            return _first_line(str(message))
    return ""


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]


class OpenAITextBackend(TextBackend):
    """Chat completions from an OpenAI-compatible endpoint."""

    offline = False

    def __init__(self, *, api_key: str | None, base_url: str | None = None, model: str = "gpt-4o-mini",
                 timeout_seconds: float = 60.0, max_retries: int = 3, http_client: httpx.Client | None = None,
                 backoff_seconds: float = 0.5) -> None:
        self.model_id = model
        self._client = openai_client(api_key=api_key, base_url=base_url, timeout_seconds=timeout_seconds,
                                     http_client=http_client)
        self._retry = RetryPolicy(timeout_seconds, max_retries, backoff_seconds)

    def complete(self, system: str, prompt: str, *, seed: int | None = None, max_tokens: int = 1200,
                 cancel: threading.Event | None = None) -> Generation:
        """Ask the model once and return the whole answer."""
        return self._chat(_messages(system, prompt), seed=seed, max_tokens=max_tokens, cancel=cancel)

    def stream(self, system: str, prompt: str, *, seed: int | None = None, max_tokens: int = 1200,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the answer as the provider sends it; setting ``cancel`` closes the HTTP stream at the next chunk."""
        messages = _messages(system, prompt)
        chunks = self._retry.run(
            lambda: self._client.chat.completions.create(
                model=self.model_id, messages=messages, stream=True, max_completion_tokens=max_tokens,
                seed=_seed(seed)),
            cancel,
        )
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    return
                text = chunk.choices[0].delta.content if chunk.choices else None
                if text:
                    yield text
        except openai.APITimeoutError as error:
            raise ProviderError(self._retry.timeout_message()) from error
        except (openai.OpenAIError, httpx.HTTPError) as error:
            raise ProviderError(
                f"The AI provider's answer broke off mid-way ({_first_line(str(error)) or type(error).__name__}). "
                "Try again."
            ) from error
        finally:
            chunks.close()  # releases the connection, also when the caller stops early

    def structured(self, system: str, prompt: str, schema: type[SchemaT], *, seed: int | None = None,
                   cancel: threading.Event | None = None) -> SchemaT:
        """Ask for JSON matching ``schema``; if it does not validate, send the error back once for a fix."""
        instructions = (
            f"{system}\n\nAnswer with one JSON object only (no prose, no code fences) that validates against "
            f"this JSON Schema:\n{json.dumps(schema.model_json_schema(), separators=(',', ':'))}"
        )
        messages = _messages(instructions, prompt)
        first = self._chat(messages, seed=seed, max_tokens=STRUCTURED_MAX_TOKENS, cancel=cancel, json_mode=True)
        try:
            return _parse(first.text, schema)
        except pydantic.ValidationError as error:
            problem = _summary(error)
        messages += [
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": f"That answer is not valid: {problem}. "
                                        "Reply with the corrected JSON object only."},
        ]
        second = self._chat(messages, seed=seed, max_tokens=STRUCTURED_MAX_TOKENS, cancel=cancel, json_mode=True)
        try:
            return _parse(second.text, schema)
        except pydantic.ValidationError as error:
            raise ProviderError(
                f"The AI provider twice returned an answer that does not fit the expected {schema.__name__} "
                f"shape ({_summary(error)}). Try again, or choose a stronger model."
            ) from error

    def _chat(self, messages: list[ChatCompletionMessageParam], *, seed: int | None, max_tokens: int,
              cancel: threading.Event | None, json_mode: bool = False) -> Generation:
        json_object: ResponseFormatJSONObject = {"type": "json_object"}
        # max_completion_tokens is the current name; reasoning models reject the old max_tokens.
        response = self._retry.run(
            lambda: self._client.chat.completions.create(
                model=self.model_id, messages=messages, max_completion_tokens=max_tokens, seed=_seed(seed),
                response_format=json_object if json_mode else openai.omit),
            cancel,
        )
        choice = response.choices[0] if response.choices else None
        text = choice.message.content if choice and choice.message else None
        if not text:
            refusal = getattr(choice.message, "refusal", None) if choice else None
            raise ProviderError(f"The AI provider returned an empty answer{': ' + refusal if refusal else ''}. "
                                "Try rephrasing the request.")
        usage = response.usage.total_tokens if response.usage else None
        # The configured name (the deployment on Azure), not the provider's dated snapshot: predictable labels.
        return Generation(text=text, model=self.model_id, offline=False, usage_tokens=usage)


def _messages(system: str, prompt: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def _seed(seed: int | None) -> int | openai.Omit:
    # No seed is left out of the request rather than sent as null.
    return openai.omit if seed is None else seed


def _parse(text: str, schema: type[SchemaT]) -> SchemaT:
    fenced = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", text, flags=re.DOTALL)
    return schema.model_validate_json(fenced.group(1) if fenced else text)


def _summary(error: pydantic.ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)
