"""What a person's credits went on, one line per action, newest first.

The credit ledger (:mod:`workbench.accounts`) is bookkeeping: an AI action
writes a *reserve*, then a *commit* and perhaps a *refund*. A filmmaker wants
to read "Magic Board · 4 frames charged · 8 credits · refunded 1". This module folds
the ledger by reservation into those lines, newest first, a page at a time,
and gives the balance over time for a chart::

    activity = CreditActivity(wb.db, wb.accounts)
    page = activity.recent(me, limit=20)
    for line in page.items:
        print(f"{line.when:%d %b %H:%M}  {line.summary}")

It only reads the accounts domain's ledger (it writes nothing), so it can
move into :class:`~workbench.accounts.Accounts` without changing a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import MetadataStore
from workbench.accounts import Accounts, User
from workbench.errors import Forbidden, InvalidInput

__all__ = ["ActivityLine", "ActivityPage", "BalancePoint", "CreditActivity", "ACTION_NAMES", "describe_refund"]

# The price list's actions in the filmmaker's words.
ACTION_NAMES = {
    "idea": "Idea cards", "logline": "Loglines", "outline": "Outline", "treatment": "Treatment",
    "screenplay": "Screenplay pages", "continue_scene": "Continue scene", "rewrite": "Rewrite selection",
    "story_prompts": "Story prompts", "auto_suggestions": "Automatic suggestions", "magic_board": "Magic Board",
    "magic_board_frame": "Magic Board frame", "magic_board_plan": "Magic Board plan", "image": "Generated images",
    "plan": "Plan credits", "admin": "Credits granted",
}
# Why a whole reservation came back, from the refund's note (the accounts module writes them).
_REFUND_REASONS = (
    ("_NothingChanged", "nothing changed"),
    ("the workbench stopped", "the workbench stopped during it"),
    ("before any work", "failed before any work"),
    ("Cancelled", "cancelled"),
    ("KeyboardInterrupt", "cancelled"),
    ("InsufficientCredits", "not enough credits"),
    ("refunded:", "failed or stopped"),
    ("AI call failed", "failed"),
)

_SUMMARY_SQL = """
SELECT coalesce(reservation_id, id) AS key,
       min(created_at) AS started,
       max(action) AS action,
       sum(CASE WHEN entry = 'reserve' THEN -amount ELSE 0 END) AS reserved,
       sum(CASE WHEN entry = 'refund' THEN amount ELSE 0 END) AS refunded,
       sum(CASE WHEN entry IN ('commit', 'refund') THEN 1 ELSE 0 END) AS settled,
       sum(amount) AS net,
       max(entry) AS entry,
       string_agg(CASE WHEN entry = 'refund' THEN note END, '; ') AS refund_note,
       max(CASE WHEN entry NOT IN ('reserve', 'commit', 'refund') THEN note END) AS note
FROM credit_ledger WHERE user_id = ?
GROUP BY coalesce(reservation_id, id)
ORDER BY started DESC, key DESC
LIMIT ? OFFSET ?
"""


@dataclass(frozen=True)
class ActivityLine:
    """One action and what it did to the balance.

    ``credits`` is the net change (negative when spent, positive when
    granted); ``state`` is ``spent``, ``refunded`` (nothing kept),
    ``held`` (still running) or ``granted``.
    """

    when: datetime
    action: str
    summary: str
    credits: int
    reserved: int
    refunded: int
    state: str


@dataclass(frozen=True)
class ActivityPage:
    """A page of activity, newest first, and where it sits in the whole history."""

    items: list[ActivityLine]
    offset: int
    limit: int
    total: int

    @property
    def has_older(self) -> bool:
        """True when there are older lines after this page."""
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class BalancePoint:
    """The balance right after one ledger entry."""

    when: datetime
    balance: int


def describe_refund(note: str) -> str:
    """Why a reservation was given back, in words, from its refund note."""
    return next((reason for key, reason in _REFUND_REASONS if key in note), "refunded")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class CreditActivity:
    """Reads a person's credit ledger as actions in words. Build it as ``CreditActivity(wb.db, wb.accounts)``."""

    def __init__(self, db: MetadataStore, accounts: Accounts) -> None:
        self._db = db
        self._accounts = accounts

    def recent(self, user: User | None, *, limit: int = 20, offset: int = 0) -> ActivityPage:
        """The user's actions, newest first: ``limit`` lines from ``offset`` (0 is the newest).

        >>> page = activity.recent(me, limit=20)
        >>> page.items[0].summary
        'Magic Board · 4 frames charged · 8 credits · refunded 1'
        """
        me = _signed_in(user)
        if not 1 <= limit <= 500:
            raise InvalidInput("Show between 1 and 500 lines of activity at a time.")
        if offset < 0:
            raise InvalidInput("The activity page starts at 0 (the newest action).")
        total = int(self._db.scalar("SELECT count(DISTINCT coalesce(reservation_id, id)) FROM credit_ledger"
                                    " WHERE user_id = ?", [me.id]))
        rows = self._db.query(_SUMMARY_SQL, [me.id, limit, offset])
        return ActivityPage([self._line(row) for row in rows], offset, limit, total)

    def balance_history(self, user: User | None, *, limit: int = 500) -> list[BalancePoint]:
        """The balance after each of the newest ``limit`` ledger entries, oldest of them first (for a chart)."""
        me = _signed_in(user)
        rows = self._db.query(
            "SELECT created_at, balance FROM (SELECT created_at, id, sum(amount) OVER (ORDER BY created_at, id"
            " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance FROM credit_ledger WHERE user_id = ?)"
            " ORDER BY created_at DESC, id DESC LIMIT ?", [me.id, max(1, min(limit, 5000))])
        return [BalancePoint(row["created_at"], int(row["balance"])) for row in reversed(rows)]

    def _line(self, row: dict[str, Any]) -> ActivityLine:
        action, reserved, refunded = str(row["action"]), int(row["reserved"] or 0), int(row["refunded"] or 0)
        net = int(row["net"] or 0)
        name = ACTION_NAMES.get(action, action.replace("_", " ").capitalize())
        if not reserved:  # a grant or a plan's allowance: no reservation behind it
            note = str(row["note"] or "")
            label = note[:1].upper() + note[1:] if note else name
            return ActivityLine(row["started"], action, f"{label} · +{_plural(net, 'credit')}", net, 0, 0, "granted")
        if not row["settled"]:
            return ActivityLine(row["started"], action, f"{name} · {_plural(reserved, 'credit')} held · in progress",
                                net, reserved, 0, "held")
        kept = reserved - refunded
        parts = [name, *self._units(action, kept)]
        if kept == 0:
            parts += ["no charge", describe_refund(str(row["refund_note"] or ""))]
            state = "refunded"
        else:
            parts.append(_plural(kept, "credit"))
            if refunded:
                parts.append(f"refunded {refunded}")
            state = "spent"
        return ActivityLine(row["started"], action, " · ".join(parts), net, reserved, refunded, state)

    def _units(self, action: str, kept: int) -> list[str]:
        """How many frames or images the kept credits paid for (at today's prices)."""
        try:
            if action == "magic_board" and kept:
                frames = (kept - self._accounts.price("magic_board_plan")) // self._accounts.price("magic_board_frame")
                # "charged", not shown: a frame left waiting for a still is on the board but refunded.
                return [_plural(max(0, frames), "frame") + " charged"]
            if action == "image" and kept:
                return [_plural(kept // self._accounts.price("image"), "image")]
        except (InvalidInput, ZeroDivisionError):
            pass  # a price taken off the list: the credits still say what it cost
        return []


def _signed_in(user: User | None) -> User:
    # Credits are a person's: an anonymous link holder has none to read.
    if user is None:
        raise Forbidden("Sign in to see your credit activity.")
    return user
