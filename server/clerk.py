"""Who is this? Clerk session tokens verified with Clerk's own SDK, networkless.

Clerk's browser script keeps a short-lived (about 60 s) session JWT in the
``__session`` cookie; API clients send it as ``Authorization: Bearer``.
:class:`ClerkVerifier` checks it with ``clerk_backend_api``'s
``authenticate_request`` against the instance's PEM public key
(``WORKBENCH_AUTH__CLERK_JWT_KEY``: no call to Clerk per request), the
authorized parties (the ``azp`` claim: which origins may use the token) and,
because the SDK does not check it, the issuer. Anything else is
:class:`NotSignedIn` with the reason.

A verified token only proves the session was valid when the token was minted
(about a minute ago at most). An open websocket outlives its token, so
:class:`ClerkBackend` asks Clerk's Backend API, through the same SDK, whether
the session is still active and its person neither banned, locked nor deleted;
answers are cached for the re-check window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clerk_backend_api import Clerk, models
from clerk_backend_api.models import ClerkBaseError
from clerk_backend_api.security import authenticate_request
from clerk_backend_api.security.types import AuthenticateRequestOptions
from tornado.httputil import HTTPHeaders

from workbench.settings import AuthSettings

__all__ = ["ClerkIdentity", "ClerkVerifier", "ClerkBackend", "NotSignedIn", "Profile"]

log = logging.getLogger(__name__)


class NotSignedIn(Exception):
    """The request carries no valid Clerk session; ``reason`` is Clerk's code (``token-expired``...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ClerkIdentity:
    """The verified person behind a request."""

    external_id: str
    session_id: str
    email: str
    name: str
    plan: str | None
    expires_at: int


@dataclass(frozen=True)
class _Request:
    headers: Mapping[str, str]


def _plan(claims: Mapping[str, Any]) -> str | None:
    # Clerk Billing puts the active plan in "pla" ("u:premium", "o:team") and features in "fea".
    plan = str(claims.get("pla") or "")
    features = str(claims.get("fea") or "")
    if plan:
        return "premium" if plan.split(":", 1)[-1] in ("premium", "pro", "team") else "free"
    if features:
        return "premium" if any(f.split(":", 1)[-1] in ("premium", "magic_boards") for f in features.split(",")) \
            else "free"
    return None


class ClerkVerifier:
    """Verifies Clerk session tokens from request headers (cookie or bearer), without network calls."""

    def __init__(self, settings: AuthSettings) -> None:
        if not settings.clerk_jwt_key or not settings.clerk_issuer or not settings.clerk_authorized_parties:
            raise ValueError("Clerk sign-in needs WORKBENCH_AUTH__CLERK_JWT_KEY (the instance's PEM public key), "
                             "WORKBENCH_AUTH__CLERK_ISSUER and WORKBENCH_AUTH__CLERK_AUTHORIZED_PARTIES.")
        self._issuer = settings.clerk_issuer.rstrip("/")
        self._options = AuthenticateRequestOptions(
            jwt_key=settings.clerk_jwt_key,
            authorized_parties=list(settings.clerk_authorized_parties),
            accepts_token=["session_token"],  # no API keys or machine tokens in the browser app
        )

    def verify(self, headers: Mapping[str, str]) -> ClerkIdentity:
        """The person whose valid Clerk session these request headers carry; else :class:`NotSignedIn`."""
        state = authenticate_request(_Request(HTTPHeaders(dict(headers))), self._options)
        if not state.is_signed_in or state.payload is None:
            reason = state.reason.value[0] if state.reason else "signed-out"
            raise NotSignedIn(reason, state.message or "Not signed in.")
        claims = state.payload
        if str(claims.get("iss", "")).rstrip("/") != self._issuer:
            raise NotSignedIn("token-invalid-issuer", "The session token was issued by another Clerk instance.")
        subject, session = claims.get("sub"), claims.get("sid")
        if not isinstance(subject, str) or not subject or not isinstance(session, str) or not session:
            raise NotSignedIn("token-invalid", "The session token names no user or session.")
        return ClerkIdentity(
            external_id=subject, session_id=session, email=str(claims.get("email") or ""),
            name=str(claims.get("name") or ""), plan=_plan(claims), expires_at=int(claims.get("exp") or 0),
        )


@dataclass(frozen=True)
class Profile:
    """What Clerk's Backend API says about a person."""

    email: str
    name: str
    blocked: str | None  # why they may not act ("banned", "locked"), or None


class ClerkBackend:
    """Clerk's Backend API through ``clerk_backend_api``: is a session still good, who is this person.

    Every answer is cached for ``clerk_revalidate_seconds``, so a page full of
    open websockets costs one call per person per window. When Clerk cannot be
    reached the last answer stands (an outage must not sign everyone out); a
    session never confirmed is given the benefit of its verified token.
    """

    def __init__(self, settings: AuthSettings) -> None:
        if not settings.clerk_secret_key:
            raise ValueError("Clerk sign-in needs WORKBENCH_AUTH__CLERK_SECRET_KEY (the Backend API secret key, "
                             "sk_...), to notice signed-out, revoked or banned sessions on open pages.")
        self._sdk = Clerk(bearer_auth=settings.clerk_secret_key.get_secret_value(),
                          server_url=settings.clerk_api_url.rstrip("/"), timeout_ms=5000)
        self.window = float(settings.clerk_revalidate_seconds)
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[float, str | None]] = {}  # sid -> (checked at, why it ended)

    def session_problem(self, session_id: str, external_id: str, *, fresh: bool = False) -> str | None:
        """Why this Clerk session may no longer act ("signed out", "banned"...), or None while it is fine."""
        now = time.monotonic()
        with self._lock:
            cached = self._sessions.get(session_id)
        if cached and not fresh and now - cached[0] < self.window:
            return cached[1]
        try:
            problem = self._ask(session_id, external_id)
        except Exception as error:  # noqa: BLE001 - network or Clerk trouble: keep the last answer
            log.warning("Clerk Backend API unreachable for session %s: %s", session_id, error)
            return cached[1] if cached else None
        with self._lock:
            self._sessions[session_id] = (now, problem)
        return problem

    def _ask(self, session_id: str, external_id: str) -> str | None:
        try:
            session = self._sdk.sessions.get(session_id=session_id)
        except ClerkBaseError as error:
            if _status(error) == 404:
                return "signed out"
            raise
        if session.user_id != external_id:
            return "signed out"
        status = str(getattr(session.status, "value", session.status))
        if status != "active":
            return {"revoked": "signed out by an administrator", "ended": "signed out", "removed": "signed out",
                    "expired": "session expired", "abandoned": "session expired"}.get(status, f"session {status}")
        profile = self.profile(external_id)
        return profile.blocked if profile else "account deleted"

    def profile(self, external_id: str) -> Profile | None:
        """The person's primary email, name and whether they are blocked; None when Clerk deleted them."""
        try:
            user: models.User = self._sdk.users.get(user_id=external_id)
        except ClerkBaseError as error:
            if _status(error) == 404:
                return None
            raise
        emails = user.email_addresses or []
        primary = next((e for e in emails if e.id == user.primary_email_address_id), emails[0] if emails else None)
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or (user.username or "")
        blocked = "banned" if user.banned else "locked" if user.locked else None
        return Profile(email=primary.email_address if primary else "", name=name, blocked=blocked)

    def revoke(self, session_id: str) -> None:
        """End a Clerk session (sign-out from this app signs the browser out of Clerk too)."""
        try:
            self._sdk.sessions.revoke(session_id=session_id)
        except Exception as error:  # noqa: BLE001 - the local sign-out still happens
            log.warning("could not revoke Clerk session %s: %s", session_id, error)
        with self._lock:
            self._sessions[session_id] = (time.monotonic(), "signed out")


def _status(error: Exception) -> int:
    response = getattr(error, "raw_response", None)
    return int(getattr(response, "status_code", 0) or getattr(error, "status_code", 0) or 0)
