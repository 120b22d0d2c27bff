"""Clerk's browser script, on pages of a Clerk-mode workbench only (the embedded default stays offline)."""

from __future__ import annotations

from typing import Any

import param
from panel.custom import JSComponent

from server.design import STATIC

__all__ = ["ClerkSession", "CLERK_JS_PATH"]

# Clerk serves its browser bundle from each instance's Frontend API (the session token's issuer).
CLERK_JS_PATH = "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"


class ClerkSession(JSComponent):
    """Loads Clerk's browser script, which keeps the ``__session`` cookie fresh while the page is open."""

    script_url = param.String(default="", doc="Clerk's browser script on the instance's Frontend API.")
    publishable_key = param.String(default="", doc="The instance's publishable key (pk_...).")

    _esm = STATIC / "clerk-session.js"

    def __init__(self, *, frontend_api: str, publishable_key: str, **params: Any) -> None:
        super().__init__(script_url=frontend_api.rstrip("/") + CLERK_JS_PATH, publishable_key=publishable_key,
                         width=0, height=0, margin=0, **params)
