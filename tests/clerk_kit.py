"""Clerk, stood in for locally: RS256 session tokens minted with a key made here, and a local
HTTP server answering the Backend API calls the workbench makes (sessions and users).

The workbench reaches the fake only through ``clerk-backend-api`` (its ``server_url`` is the
``WORKBENCH_AUTH__CLERK_API_URL`` setting), so the SDK's own request building and response
parsing run for real; only Clerk's servers are replaced.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://clerk.workbench.test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
SECRET_KEY = "sk_test_local_fake"


def mint(sub: str, sid: str, *, party: str, key: Any = KEY, algorithm: str = "RS256", ttl: int = 60,
         **claims: Any) -> str:
    """A Clerk-shaped session JWT (claims as Clerk's v2 session tokens carry them)."""
    now = int(time.time())
    body = {"sub": sub, "sid": sid, "iss": ISSUER, "azp": party, "iat": now - 2, "nbf": now - 2, "exp": now + ttl,
            "v": 2, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm,
                      headers={"kid": "ins_test"})


@dataclass
class Person:
    """A Clerk user with one session."""

    user_id: str
    session_id: str
    email: str
    first_name: str
    last_name: str = ""
    status: str = "active"
    banned: bool = False
    locked: bool = False
    deleted: bool = False


def _stamp() -> int:
    return int(time.time() * 1000)


def _session_json(person: Person) -> dict[str, Any]:
    now = _stamp()
    return {"object": "session", "id": person.session_id, "user_id": person.user_id, "client_id": "client_1",
            "status": person.status, "last_active_at": now, "expire_at": now + 86_400_000,
            "abandon_at": now + 86_400_000, "updated_at": now, "created_at": now}


def _user_json(person: Person) -> dict[str, Any]:
    now = _stamp()
    email_id = "idn_" + person.user_id
    return {
        "id": person.user_id, "object": "user", "external_id": None, "primary_email_address_id": email_id,
        "primary_phone_number_id": None, "primary_web3_wallet_id": None, "username": None,
        "first_name": person.first_name, "last_name": person.last_name, "has_image": False, "public_metadata": {},
        "email_addresses": [{"object": "email_address", "id": email_id, "email_address": person.email,
                             "reserved": False, "verification": None, "linked_to": [], "created_at": now,
                             "updated_at": now}],
        "phone_numbers": [], "web3_wallets": [], "passkeys": [], "password_enabled": True,
        "two_factor_enabled": False, "totp_enabled": False, "backup_code_enabled": False, "mfa_enabled_at": None,
        "mfa_disabled_at": None, "external_accounts": [], "saml_accounts": [], "enterprise_accounts": [],
        "last_sign_in_at": now, "banned": person.banned, "locked": person.locked,
        "lockout_expires_in_seconds": None, "verification_attempts_remaining": None, "updated_at": now,
        "created_at": now, "delete_self_enabled": True, "create_organization_enabled": True, "last_active_at": now,
        "legal_accepted_at": None,
    }


@dataclass
class FakeClerk:
    """Clerk's Backend API for the people it knows; records every call it answers."""

    people: dict[str, Person] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def add(self, person: Person) -> Person:
        self.people[person.user_id] = person
        return person

    def by_session(self, session_id: str) -> Person | None:
        return next((p for p in self.people.values() if p.session_id == session_id), None)

    def answer(self, method: str, path: str, authorization: str) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path))
        if authorization != f"Bearer {SECRET_KEY}":
            return 401, _errors("authentication_invalid", "Invalid secret key")
        if match := re.fullmatch(r"/v1/sessions/([^/]+)(/revoke)?", path):
            person = self.by_session(match[1])
            if person is None or person.deleted:
                return 404, _errors("resource_not_found", "No session")
            if match[2] and method == "POST":
                person.status = "revoked"
            return 200, _session_json(person)
        if match := re.fullmatch(r"/v1/users/([^/]+)", path):
            found = self.people.get(match[1])
            if found is None or found.deleted:
                return 404, _errors("resource_not_found", "No user")
            return 200, _user_json(found)
        return 404, _errors("resource_not_found", f"no route {path}")


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "long_message": message, "code": code}]}


def serve_fake(fake: FakeClerk) -> Iterator[FakeClerk]:
    """Run ``fake`` on a loopback port for the duration of a fixture."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, body = fake.answer(self.command, self.path.split("?")[0], self.headers.get("Authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clerk_settings(home: Any, fake: FakeClerk, **auth: Any) -> Any:
    """Settings of a workbench served in Clerk mode on a free loopback port, trusting ``fake`` (no samples)."""
    from workbench.settings import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return Settings(home=home, server={"port": port, "public_url": url}, library={"load_samples": False},
                    auth=clerk_auth(fake, url, **auth))


def clerk_auth(fake: FakeClerk, public_url: str, **overrides: Any) -> dict[str, Any]:
    """``Settings(auth=...)`` for a workbench that trusts the local key and asks ``fake``."""
    return {"mode": "clerk", "clerk_jwt_key": PUBLIC_PEM, "clerk_issuer": ISSUER,
            "clerk_authorized_parties": [public_url], "clerk_secret_key": SECRET_KEY, "clerk_api_url": fake.url,
            "clerk_sign_in_url": "https://accounts.workbench.test/sign-in", "clerk_publishable_key": "pk_test_local",
            **overrides}
