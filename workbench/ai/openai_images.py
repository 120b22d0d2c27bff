"""Images from the OpenAI images API (or an Azure OpenAI / compatible endpoint).

Same endpoint, key and retry policy as :mod:`workbench.ai.openai_text`. The
images API takes no seed, so ``seed`` is accepted and ignored. ``dall-e-*``
models are asked for base64 explicitly; ``gpt-image-*`` models always answer
in base64 and reject the parameter, so it is not sent to them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import httpx
import openai

from workbench.ai.base import ImageBackend
from workbench.ai.openai_text import RetryPolicy, openai_client
from workbench.errors import ProviderError

__all__ = ["OpenAIImageBackend"]

# PNG, JPEG, WebP (RIFF) and GIF signatures: enough to tell a picture from an error page.
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF", b"GIF8")


class OpenAIImageBackend(ImageBackend):
    """One image per call from ``images.generate``."""

    offline = False

    def __init__(self, *, api_key: str | None, base_url: str | None = None, model: str = "gpt-image-1",
                 timeout_seconds: float = 60.0, max_retries: int = 3, http_client: httpx.Client | None = None,
                 backoff_seconds: float = 0.5) -> None:
        self.model_id = model
        self._http_client = http_client
        self._timeout = timeout_seconds
        self._client = openai_client(api_key=api_key, base_url=base_url, timeout_seconds=timeout_seconds,
                                     http_client=http_client)
        self._retry = RetryPolicy(timeout_seconds, max_retries, backoff_seconds)

    def generate(self, prompt: str, *, size: str = "1024x1024", seed: int | None = None) -> bytes | None:
        """The image's bytes (PNG unless the provider chose another format)."""
        response_format: Literal["b64_json"] | openai.Omit = (
            "b64_json" if self.model_id.startswith("dall-e") else openai.omit
        )
        response = self._retry.run(
            lambda: self._client.images.generate(model=self.model_id, prompt=prompt, size=size, n=1,
                                                 response_format=response_format)
        )
        image = response.data[0] if response.data else None
        if image is not None and image.b64_json:
            try:
                data = base64.b64decode(image.b64_json, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ProviderError("The image provider sent an image that could not be decoded. Try again.") from error
        elif image is not None and image.url:
            data = self._download(image.url)
        else:
            raise ProviderError("The image provider answered without an image (it may have refused the prompt). "
                                "Try rephrasing the frame description.")
        if not data.startswith(_IMAGE_MAGIC):
            raise ProviderError("The image provider sent something that is not a PNG, JPEG, WebP or GIF image.")
        return data

    def _download(self, url: str) -> bytes:
        # Only older models answer with a URL; fetch it with the same client so proxies apply.
        try:
            if self._http_client is not None:
                response = self._http_client.get(url, timeout=self._timeout)
            else:
                response = httpx.get(url, timeout=self._timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise ProviderError(f"The generated image could not be downloaded ({type(error).__name__}). "
                                "Try again.") from error
        return response.content
