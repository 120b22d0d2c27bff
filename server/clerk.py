"""Who is this? Clerk session tokens verified with Clerk's own SDK, networkless.

Clerk's browser script keeps a short-lived (about 60 s) session JWT in the
``__session`` cookie; API clients send it as ``Authorization: Bearer``.
:class:`ClerkVerifier` checks it with ``clerk_backend_api``'s
``authenticate_request`` against the instance's PEM public key
(``WORKBENCH_AUTH__CLERK_JWT_KEY``: no call to Clerk per request), the
authorized parties (the ``azp`` claim: which origins may use the token) and,
because the SDK does not check it, the issuer. Anything else is
:class:`NotSignedIn` with the reason.

This is the verification half of Clerk sign-in; wiring it into the Panel auth
hooks (every page, the websocket upgrade and the media handlers) is the next
step of issue #16.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clerk_backend_api.security import authenticate_request
from clerk_backend_api.security.types import AuthenticateRequestOptions
from tornado.httputil import HTTPHeaders

from workbench.settings import AuthSettings

__all__ = ["ClerkIdentity", "ClerkVerifier", "NotSignedIn"]


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
