"""Typed errors the service layer raises.

Every message is written for the person at the keyboard: it says what went
wrong and what to do next. The web app shows ``str(error)`` as a notification,
a notebook shows it as the exception text.
"""

from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "NotFound",
    "Forbidden",
    "InvalidInput",
    "InsufficientCredits",
    "PremiumRequired",
    "ProviderError",
    "Conflict",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class NotFound(WorkbenchError):
    """The thing asked for does not exist, or the acting user may not know it exists."""


class Forbidden(WorkbenchError):
    """The acting user may see the thing but not do this to it."""


class InvalidInput(WorkbenchError):
    """The input cannot be used; the message says why and what would work."""


class Conflict(WorkbenchError):
    """The request clashes with the current state (a duplicate, a stale version)."""


class InsufficientCredits(WorkbenchError):
    """The user's AI credit balance does not cover the action."""

    def __init__(self, message: str, *, needed: int = 0, balance: int = 0) -> None:
        super().__init__(message)
        self.needed = needed
        self.balance = balance


class PremiumRequired(WorkbenchError):
    """The action belongs to the premium plan."""


class ProviderError(WorkbenchError):
    """An AI provider failed (after retries); no credits were spent."""
