"""Clerk session tokens through the real ``clerk-backend-api`` SDK, minted here with a local RS256 key.

No network and no fake of our code: the tokens are real JWTs signed by a key
pair this test generates; the SDK verifies them against its public half, as
it would against a Clerk instance's JWT public key.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.clerk import ClerkVerifier, NotSignedIn
from workbench.settings import AuthSettings

ISSUER = "https://clerk.workbench.test"
PARTY = "https://workbench.test"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "user_2abc", "sid": "sess_9xyz", "iss": ISSUER, "azp": PARTY, "iat": now - 5, "nbf": now - 5,
            "exp": now + 60, "email": "ana@studio.test", "name": "Ana Film", "pla": "u:premium", "v": 2}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any = KEY, algorithm: str = "RS256", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers={"kid": "ins_test"})


def _unsigned(**overrides: Any) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(**overrides))}."


def _hs256_with_public_key() -> str:
    # The classic algorithm confusion: HMAC keyed with the public key the server trusts.
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    signature = hmac.new(PUBLIC_PEM.encode(), header + b"." + body, hashlib.sha256).digest()
    return (header + b"." + body + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


@pytest.fixture(scope="module")
def verifier() -> ClerkVerifier:
    return ClerkVerifier(AuthSettings(mode="clerk", clerk_jwt_key=PUBLIC_PEM, clerk_issuer=ISSUER,
                                      clerk_authorized_parties=[PARTY]))


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"theme=dark; __session={token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_cookie_and_a_valid_bearer_name_the_person(verifier: ClerkVerifier) -> None:
    for headers in (cookie(mint()), bearer(mint())):
        who = verifier.verify(headers)
        assert (who.external_id, who.session_id, who.email, who.name, who.plan) == \
            ("user_2abc", "sess_9xyz", "ana@studio.test", "Ana Film", "premium")
    assert verifier.verify(bearer(mint(pla="u:free_user"))).plan == "free"
    assert verifier.verify(bearer(mint(pla=None))).plan is None


REFUSED: dict[str, Callable[[], dict[str, str]]] = {
    "expired": lambda: cookie(mint(exp=int(time.time()) - 120, iat=int(time.time()) - 180)),
    "not yet valid": lambda: bearer(mint(nbf=int(time.time()) + 600)),
    "issued in the future": lambda: bearer(mint(iat=int(time.time()) + 600)),
    "wrong signature": lambda: cookie(mint(key=OTHER_KEY)),
    "alg none": lambda: bearer(_unsigned()),
    "HS256 keyed with the public key": lambda: bearer(_hs256_with_public_key()),
    "wrong authorized party": lambda: cookie(mint(azp="https://evil.example")),
    "wrong issuer": lambda: bearer(mint(iss="https://clerk.someone-else.test")),
    "no subject": lambda: bearer(mint(sub=None)),
    "missing": lambda: {"Cookie": "theme=dark"},
    "garbage": lambda: bearer("not.a.jwt"),
    "a machine token": lambda: bearer("mt_" + "a" * 40),
}


# Clerk's reason code for each (the issuer is our own check: the SDK leaves it out).
REASONS = {
    "expired": "token-expired",
    "not yet valid": "token-not-active-yet",
    "issued in the future": "token-not-active-yet",
    "wrong signature": "token-invalid-signature",
    "alg none": "token-invalid",
    "HS256 keyed with the public key": "token-invalid",
    "wrong authorized party": "token-invalid-authorized-parties",
    "wrong issuer": "token-invalid-issuer",
    "no subject": "token-invalid",
    "missing": "session-token-missing",
    "garbage": "token-invalid",
    "a machine token": "token-type-not-supported",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_every_bad_token_is_refused_with_its_reason(verifier: ClerkVerifier, case: str) -> None:
    with pytest.raises(NotSignedIn) as refused:
        verifier.verify(REFUSED[case]())
    assert refused.value.reason == REASONS[case] and str(refused.value)


def test_clerk_mode_needs_its_key_issuer_and_parties() -> None:
    with pytest.raises(ValueError, match="CLERK_JWT_KEY"):
        ClerkVerifier(AuthSettings(mode="clerk", clerk_issuer=ISSUER, clerk_authorized_parties=[PARTY]))
