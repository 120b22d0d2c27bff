"""Accounts and AI credits: users, plans and the append-only credit ledger.

Every AI action is paid for in credits. The price list is in the settings.
A call first *reserves* its price (a negative ledger entry, refused when the
balance does not cover it), then *commits* it when the AI answered or
*refunds* it when the call failed or was cancelled, so a failure costs
nothing::

    with wb.accounts.spend(me, "idea") as reservation:
        ...call the AI...          # an exception here refunds the credits

The balance is the sum of the ledger; reservations are taken on the single
write path, so it can never go below zero however many calls race.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import MetadataStore, Tx
from workbench.errors import Forbidden, InsufficientCredits, InvalidInput, NotFound, PremiumRequired
from workbench.limits import RateLimits
from workbench.settings import CreditSettings

__all__ = ["User", "LedgerEntry", "Reservation", "Accounts", "PLANS"]

PLANS = ("free", "premium")
PREMIUM_FEATURES = {
    "magic_board": "Magic Boards",
    "auto_suggestions": "automatic suggestions",
}


@dataclass(frozen=True)
class User:
    """A person using the workbench."""

    id: str
    email: str
    display_name: str
    plan: str

    @property
    def premium(self) -> bool:
        return self.plan == "premium"


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a user's credit ledger."""

    id: str
    entry: str  # grant | period | reserve | commit | refund
    amount: int
    action: str
    reservation_id: str | None
    note: str
    created_at: datetime


@dataclass(frozen=True)
class Reservation:
    """Credits held for one AI call until it is committed or refunded."""

    id: str
    user_id: str
    action: str
    amount: int


_ENTRY_COUNTER = itertools.count()


def _entry_id() -> str:
    """A ledger id that sorts in writing order, even within one transaction (same timestamp)."""
    return f"l_{time.time_ns():020d}_{next(_ENTRY_COUNTER):08d}_{uuid.uuid4().hex[:8]}"


def _signed_in(user: User | None) -> User:
    """Credits belong to a person: an anonymous share-link holder has none to read or spend."""
    if not isinstance(user, User):
        raise Forbidden("Sign in to use AI credits.")
    return user


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["email"], row["display_name"], row["plan"])


class Accounts:
    """Users, plans and credits. Reached as ``wb.accounts``."""

    def __init__(self, db: MetadataStore, settings: CreditSettings, *, local_email: str, local_plan: str,
                 limits: RateLimits | None = None) -> None:
        self._db = db
        self._limits = limits
        self._settings = settings
        self._local_email = local_email
        self._local_plan = local_plan

    # -- users -------------------------------------------------------------
    def local_user(self) -> User:
        """The single user of the embedded default (created on first call)."""
        found = self.find_by_email(self._local_email)
        if found:
            return found
        try:
            return self.create_user(self._local_email, display_name="Local filmmaker", plan=self._local_plan)
        except InvalidInput:  # another process created them a moment ago
            found = self.find_by_email(self._local_email)
            if found is None:
                raise
            return found

    def create_user(
        self, email: str, *, display_name: str = "", plan: str = "free", external_id: str | None = None
    ) -> User:
        """Create a user on a plan and grant the plan's first period of credits.

        >>> ana = wb.accounts.create_user("ana@example.com", plan="premium")
        """
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise InvalidInput(f"'{email}' is not an email address.")
        if plan not in PLANS:
            raise InvalidInput(f"Unknown plan '{plan}'; choose one of: {', '.join(PLANS)}.")
        user_id = "u_" + uuid.uuid4().hex[:16]
        allowance = self.allowance(plan)

        def work(cur: Tx) -> None:
            if cur.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
                raise InvalidInput(f"A user with the email {email} already exists.")
            cur.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, now())",
                [user_id, email, display_name or email.split("@")[0], plan, external_id],
            )
            self._insert(cur, user_id, "period", allowance, "plan", note=f"{plan} plan allowance")

        self._db.write(work)
        return self.get_user(user_id)

    def get_user(self, user_id: str) -> User:
        """A user by id."""
        row = self._db.query_one("SELECT * FROM users WHERE id = ?", [user_id])
        if row is None:
            raise NotFound(f"No user with id {user_id}.")
        return _user(row)

    def find_by_email(self, email: str) -> User | None:
        """A user by email, or None."""
        row = self._db.query_one("SELECT * FROM users WHERE email = ?", [email.strip().lower()])
        return _user(row) if row else None

    def find_by_external_id(self, external_id: str) -> User | None:
        """A user by the id an identity provider (Clerk) gave them, or None."""
        row = self._db.query_one("SELECT * FROM users WHERE external_id = ?", [external_id])
        return _user(row) if row else None

    def sign_in(self, external_id: str, email: str, name: str = "", *, plan: str | None = None) -> User:
        """The user an identity provider (Clerk) vouches for: created on first sign-in, updated after.

        ``email`` and ``name`` follow the provider (a changed address or name is
        written back); ``plan`` is applied when the provider knows it (Clerk's
        plan claims), else the user keeps theirs (new users start free). A
        person already known by email but not yet linked (created by an admin
        or the CLI) is linked to the provider's id; an email that belongs to
        another provider id is refused, so a recycled address never hands over
        someone else's library.
        """
        external_id = external_id.strip()
        email = email.strip().lower()
        if not external_id or len(external_id) > 200:
            raise InvalidInput("The sign-in carried no user id.")
        if "@" not in email or len(email) > 320:
            raise InvalidInput(f"'{email}' is not an email address.")
        if plan is not None and plan not in PLANS:
            raise InvalidInput(f"Unknown plan '{plan}'; choose one of: {', '.join(PLANS)}.")
        display_name = (name.strip() or email.split("@")[0])[:200]
        new_id = "u_" + uuid.uuid4().hex[:16]

        def work(cur: Tx) -> tuple[str, bool]:
            # One transaction: two first requests of the same person racing create one user.
            row = cur.execute("SELECT id, email, display_name, plan FROM users WHERE external_id = ?",
                              [external_id]).fetchone()
            by_email = cur.execute("SELECT id, external_id FROM users WHERE email = ?", [email]).fetchone()
            if row is None and by_email is not None:
                if by_email[1] not in (None, "", external_id):
                    raise Forbidden(f"The email {email} belongs to another account. Ask the workbench's "
                                    "administrator to move it.")
                cur.execute("UPDATE users SET external_id = ? WHERE id = ?", [external_id, by_email[0]])
                row = cur.execute("SELECT id, email, display_name, plan FROM users WHERE id = ?",
                                  [by_email[0]]).fetchone()
            if row is None:
                chosen = plan or "free"
                cur.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, now())",
                            [new_id, email, display_name, chosen, external_id])
                self._insert(cur, new_id, "period", self.allowance(chosen), "plan", note=f"{chosen} plan allowance")
                return new_id, False
            user_id, old_email, old_name, old_plan = row
            if email != old_email:
                if by_email is not None and by_email[0] != user_id:
                    raise Forbidden(f"The email {email} belongs to another account.")
                cur.execute("UPDATE users SET email = ? WHERE id = ?", [email, user_id])
            if name.strip() and display_name != old_name:
                cur.execute("UPDATE users SET display_name = ? WHERE id = ?", [display_name, user_id])
            upgraded = plan is not None and plan != old_plan
            if upgraded:
                cur.execute("UPDATE users SET plan = ? WHERE id = ?", [plan, user_id])
            return user_id, upgraded

        user_id, plan_changed = self._db.write(work)
        user = self.get_user(user_id)
        if plan_changed:
            self.renew_period(user)
        return user

    def set_plan(self, user: User, plan: str) -> User:
        """Move a user to another plan; an upgrade tops the balance up to the new allowance."""
        if plan not in PLANS:
            raise InvalidInput(f"Unknown plan '{plan}'; choose one of: {', '.join(PLANS)}.")
        self._db.execute("UPDATE users SET plan = ? WHERE id = ?", [plan, user.id])
        updated = self.get_user(user.id)
        self.renew_period(updated)
        return updated

    # -- plans -------------------------------------------------------------
    def allowance(self, plan: str) -> int:
        """Credits a plan grants per billing period."""
        return self._settings.premium_allowance if plan == "premium" else self._settings.free_allowance

    def price(self, action: str) -> int:
        """What an AI action costs, from the price list in the settings."""
        if action not in self._settings.prices:
            raise InvalidInput(f"'{action}' is not on the price list.")
        return self._settings.prices[action]

    def require_premium(self, user: User, feature: str) -> None:
        """Raise :class:`PremiumRequired` unless the user is on the premium plan."""
        if not user.premium:
            name = PREMIUM_FEATURES.get(feature, feature)
            raise PremiumRequired(
                f"{name[0].upper() + name[1:]} are part of the premium plan. "
                "Upgrade on the Account page (or `workbench credits plan <email> premium`) to use them."
            )

    def renew_period(self, user: User) -> int:
        """Start a billing period: top the balance up to the plan's allowance. Returns credits added."""
        target = self.allowance(user.plan)

        def work(cur: Tx) -> int:
            balance = self._balance(cur, user.id)
            top_up = max(0, target - balance)
            if top_up:
                self._insert(cur, user.id, "period", top_up, "plan", note=f"{user.plan} period renewal")
            return top_up

        return self._db.write(work)

    # -- credits -----------------------------------------------------------
    def balance(self, user: User) -> int:
        """The user's current credit balance."""
        _signed_in(user)
        return int(self._db.scalar("SELECT coalesce(max(credits), 0) FROM credit_balances WHERE user_id = ?",
                                   [user.id]))

    def grant(self, user: User, amount: int, *, note: str = "granted by admin") -> int:
        """Add credits (an admin action); returns the new balance."""
        if amount <= 0:
            raise InvalidInput("A grant must be a positive number of credits.")
        self._db.write(lambda cur: self._insert(cur, user.id, "grant", amount, "admin", note=note))
        return self.balance(user)

    def reserve(
        self, user: User, action: str, *, units: int = 1, idempotency_key: str | None = None,
        amount: int | None = None,
    ) -> Reservation:
        """Hold the price of ``units`` of an action; refuses when the balance does not cover it.

        ``amount`` holds an explicit total instead (a Magic Board reserves its
        plan and every frame at once). The same ``idempotency_key`` returns the
        same reservation instead of charging twice.
        """
        _signed_in(user)
        if self._limits is not None:
            self._limits.check(user.id, "ai")  # how fast, besides how much (credits)
        if amount is None:
            amount = self.price(action) * units
        if amount <= 0:
            raise InvalidInput("A reservation must hold at least one credit.")
        reservation_id = "r_" + uuid.uuid4().hex[:16]

        def work(cur: Tx) -> Reservation:
            if idempotency_key:
                row = cur.execute(
                    "SELECT reservation_id, -amount FROM credit_ledger"
                    " WHERE user_id = ? AND idempotency_key = ? AND entry = 'reserve'",
                    [user.id, idempotency_key],
                ).fetchone()
                if row:
                    return Reservation(row[0], user.id, action, int(row[1]))
            balance = self._balance(cur, user.id)
            if balance < amount:
                raise InsufficientCredits(
                    f"This needs {amount} credit{'s' if amount != 1 else ''} and you have {balance}. "
                    + ("Upgrade to premium for 100 credits per period." if user.plan != "premium"
                       else "Your credits renew with the next billing period."),
                    needed=amount,
                    balance=balance,
                )
            self._insert(cur, user.id, "reserve", -amount, action, reservation_id=reservation_id,
                         idempotency_key=idempotency_key)
            return Reservation(reservation_id, user.id, action, amount)

        return self._db.write(work)

    def commit(self, reservation: Reservation, *, used: int | None = None) -> None:
        """Keep ``used`` credits of a reservation (all by default) and refund the rest."""

        def work(cur: Tx) -> None:
            stored = self._stored(cur, reservation)
            if self._settled(cur, stored):
                return
            kept = stored.amount if used is None else max(0, min(used, stored.amount))
            self._insert(cur, stored.user_id, "commit", 0, stored.action, reservation_id=stored.id,
                         note=f"{kept} used")
            if kept < stored.amount:
                self._insert(cur, stored.user_id, "refund", stored.amount - kept, stored.action,
                             reservation_id=stored.id, note="unused part refunded")

        self._db.write(work)

    def refund(self, reservation: Reservation, *, note: str = "AI call failed") -> None:
        """Give back every credit of a reservation (idempotent)."""

        def work(cur: Tx) -> None:
            stored = self._stored(cur, reservation)
            if self._settled(cur, stored):
                return
            self._insert(cur, stored.user_id, "refund", stored.amount, stored.action,
                         reservation_id=stored.id, note=note)

        self._db.write(work)

    def refund_abandoned(self, *, before: datetime) -> int:
        """Refund every reservation made before ``before`` that was never committed or refunded.

        A process that dies during an AI call (SIGKILL, a lost node) leaves its
        reservation open; the workbench calls this at start-up with the moment
        it opened the database, so only reservations of a dead process are
        refunded. Returns how many were refunded.
        """

        def work(cur: Tx) -> int:
            rows = cur.execute(
                "SELECT r.reservation_id, r.user_id, r.action, -r.amount FROM credit_ledger r"
                " WHERE r.entry = 'reserve' AND r.created_at < ? AND NOT EXISTS ("
                "  SELECT 1 FROM credit_ledger s WHERE s.reservation_id = r.reservation_id"
                "  AND s.entry IN ('commit', 'refund'))", [before]).fetchall()
            for reservation_id, user_id, action, amount in rows:
                self._insert(cur, user_id, "refund", int(amount), action, reservation_id=reservation_id,
                             note="refunded: the workbench stopped during this action")
            return len(rows)

        return self._db.write(work)

    @contextmanager
    def spend(
        self, user: User, action: str, *, units: int = 1, idempotency_key: str | None = None
    ) -> Iterator[Reservation]:
        """Reserve credits for the block; commit when it finishes, refund when it raises."""
        reservation = self.reserve(user, action, units=units, idempotency_key=idempotency_key)
        try:
            yield reservation
        except BaseException as error:
            self.refund(reservation, note=f"refunded: {type(error).__name__}")
            raise
        self.commit(reservation)

    def ledger(self, user: User, *, limit: int = 500) -> list[LedgerEntry]:
        """The user's ledger, oldest first."""
        _signed_in(user)
        rows = self._db.query(
            "SELECT id, entry, amount, action, reservation_id, note, created_at FROM credit_ledger"
            " WHERE user_id = ? ORDER BY created_at, id LIMIT ?",
            [user.id, limit],
        )
        return [LedgerEntry(**row) for row in rows]

    # -- internals -----------------------------------------------------------
    @staticmethod
    def _balance(cur: Tx, user_id: str) -> int:
        # The balance row, not a sum of the ledger: every entry updates this row in its own
        # transaction, so two processes spending at once conflict here and one is retried.
        return int(cur.scalar("SELECT coalesce(max(credits), 0) FROM credit_balances WHERE user_id = ?", [user_id]))

    @staticmethod
    def _stored(cur: Tx, reservation: Reservation) -> Reservation:
        """The reservation as the ledger holds it: a caller's object only names it (its user, action and
        amount could be forged to mint credits)."""
        row = cur.execute("SELECT user_id, action, -amount FROM credit_ledger WHERE reservation_id = ? "
                          "AND entry = 'reserve'", [reservation.id]).fetchone()
        if row is None:
            raise NotFound(f"No credit reservation {reservation.id}.")
        return Reservation(reservation.id, str(row[0]), str(row[1]), int(row[2]))

    @staticmethod
    def _settled(cur: Tx, reservation: Reservation) -> bool:
        row = cur.execute(
            "SELECT count(*) FROM credit_ledger WHERE reservation_id = ? AND entry IN ('commit', 'refund')",
            [reservation.id],
        ).fetchone()
        return bool(row and row[0])

    @staticmethod
    def _insert(
        cur: Tx,
        user_id: str,
        entry: str,
        amount: int,
        action: str,
        *,
        reservation_id: str | None = None,
        idempotency_key: str | None = None,
        note: str = "",
    ) -> None:
        cur.execute(
            "INSERT INTO credit_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
            [_entry_id(), user_id, entry, amount, action, reservation_id, idempotency_key, note],
        )
        # Always touch the balance row, even for a zero entry (a commit): a writer that read
        # the balance and another that changed it cannot both commit.
        changed = cur.scalar("UPDATE credit_balances SET credits = credits + ?, updated_at = now() WHERE user_id = ?",
                             [amount, user_id])
        if not changed:
            cur.execute("INSERT INTO credit_balances VALUES (?, ?, now())", [user_id, amount])
