"""Per-person rate limits on what costs money or fills storage: AI actions, uploads, share links.

Credits bound what AI costs over a billing period; these bound how fast, so one
script cannot burst through a provider's quota, fill the disk or mint links by
the thousand. Each person and action has a token bucket: ``capacity`` actions
at once, refilled evenly over ``window`` seconds. The key is always the
verified user the service layer was given (never an address or header a
client could change); an anonymous share-link holder is keyed on the link's
board. Buckets live in this process: with several web replicas each enforces
its own share (documented; the scale-out issue may move them to the database).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from workbench.errors import WorkbenchError
from workbench.settings import LimitSettings

__all__ = ["RateLimited", "RateLimits", "ACTIONS"]

# action -> (what the person is told they did too often, settings field, window in seconds)
ACTIONS: dict[str, tuple[str, str, float]] = {
    "ai": ("AI requests", "ai_per_minute", 60.0),
    "upload": ("uploads", "uploads_per_minute", 60.0),
    "share_link": ("new share links", "share_links_per_hour", 3600.0),
    "comment": ("comments", "comments_per_minute", 60.0),
}


class RateLimited(WorkbenchError):
    """Too many of one action in a short time; ``retry_after`` says in how many seconds one is allowed again."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimits:
    """Token buckets per (action, person); ``check`` takes one token or raises :class:`RateLimited`."""

    def __init__(self, settings: LimitSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def capacity(self, action: str) -> int:
        """How many of ``action`` a person may do at once (0: unlimited)."""
        return int(getattr(self._settings, ACTIONS[action][1]))

    def check(self, key: str, action: str, *, now: float | None = None) -> None:
        """Count one ``action`` by ``key`` (a user id); refuse when its bucket is empty."""
        label, _, window = ACTIONS[action]
        capacity = self.capacity(action)
        if capacity <= 0:
            return
        rate = capacity / window  # tokens per second
        moment = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get((action, key))
            if bucket is None:
                bucket = self._buckets[(action, key)] = _Bucket(float(capacity), moment)
            bucket.tokens = min(float(capacity), bucket.tokens + max(0.0, moment - bucket.updated) * rate)
            bucket.updated = moment
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = (1.0 - bucket.tokens) / rate
        per = "a minute" if window == 60 else "an hour"
        raise RateLimited(f"That is a lot of {label} in a short time (the limit is {capacity} {per}). "
                          f"Try again in {_say(wait)}.", retry_after=wait)


def _say(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    return f"{whole} second{'s' if whole != 1 else ''}" if whole < 120 else f"{math.ceil(whole / 60)} minutes"
