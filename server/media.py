"""HTTP endpoints next to the Panel app: pictures, and the probes a load balancer asks.

Pictures are served by the service layer, which decides who may see what:

- ``/media/thumb/<image id>`` and ``/media/original/<image id>``: an image of the
  acting user's library (their own, team or public), as ``workbench.search``
  links them;
- ``/media/board/<board id>/<image id>?grant=...`` (``&original=1`` for the
  full picture): a picture seen through a board, which anyone who may open
  the board may see, including a share-link holder. A link holder's page does
  not put the share token itself in every picture URL (where it would end up
  in logs, the browser history of a copied image link and proxies): it puts a
  *grant*, the token sealed with the server's key (Fernet: encrypted and
  authenticated, valid 12 hours). The handler opens it and the boards domain
  still decides, so a revoked link stops its pictures at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from tornado.web import RequestHandler

from server.identity import Gate
from workbench.accounts import User
from workbench.app import Workbench
from workbench.errors import Forbidden, NotFound, WorkbenchError

__all__ = ["seal_grant", "open_grant", "GRANT_SECONDS", "media_patterns", "HealthHandler", "ThumbnailHandler", "OriginalHandler", "BoardImageHandler"]

log = logging.getLogger(__name__)


GRANT_SECONDS = 12 * 3600
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff"})


def _fernet(wb: Workbench) -> Fernet:
    from server.main import session_secret  # the key that signs sessions also seals grants

    digest = hashlib.sha256(b"workbench media grant\0" + session_secret(wb.settings).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_grant(wb: Workbench, share_token: str) -> str:
    """A share token sealed for picture URLs (opaque, tamper-proof, valid GRANT_SECONDS)."""
    return _fernet(wb).encrypt(share_token.encode()).decode()


def open_grant(wb: Workbench, grant: str) -> str | None:
    """The share token inside a grant, or None for a forged, damaged or expired one."""
    try:
        return _fernet(wb).decrypt(grant.encode(), ttl=GRANT_SECONDS).decode()
    except (InvalidToken, ValueError):
        return None


def _mime(data: bytes) -> str:
    """The picture type from its first bytes (the blob store keeps bytes, not types)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return "application/octet-stream"


class HealthHandler(RequestHandler):
    """``/healthz``: the process answers."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("ok")


class _PictureHandler(RequestHandler):
    """Shared plumbing: who is asking, and turning service errors into HTTP statuses."""

    def initialize(self, wb: Workbench) -> None:
        self.wb = wb

    async def requester(self) -> User | None:
        """The acting user of this request, from the one identity seam (None: not signed in)."""
        identity = await asyncio.to_thread(Gate.of(self.wb).identify, self.request)
        return identity.user

    async def signed_in(self) -> User | None:
        """The acting user, or None after answering 401 (library pictures need an account)."""
        user = await self.requester()
        if user is None:
            self._refuse(401, "Sign in to see this picture.")
        return user

    async def send_picture(self, read: Any, *args: Any, **kwargs: Any) -> None:
        try:
            # Blob reads may go to Azure: keep them off the event loop that serves every session.
            answer = await asyncio.to_thread(read, *args, **kwargs)
        except NotFound as error:
            self._refuse(404, str(error))
            return
        except Forbidden as error:
            self._refuse(403, str(error))
            return
        except WorkbenchError as error:
            self._refuse(400, str(error))
            return
        stored, data = answer if isinstance(answer, tuple) else (None, answer)
        data = bytes(data)
        # The stored type when the bytes agree with it (intake decoded them), else what the bytes are.
        sniffed = _mime(data)
        self.set_header("Content-Type", stored if stored in PICTURE_TYPES and stored == sniffed else sniffed)
        # Access is checked per request, so shared caches must not keep a copy.
        self.set_header("Cache-Control", "private, max-age=300")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.write(data)


    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.write(message)


class ThumbnailHandler(_PictureHandler):
    """``/media/thumb/<image id>``"""

    async def get(self, image_id: str) -> None:
        user = await self.signed_in()
        if user is not None:
            await self.send_picture(self.wb.library.thumbnail, user, image_id)


class OriginalHandler(_PictureHandler):
    """``/media/original/<image id>``"""

    async def get(self, image_id: str) -> None:
        user = await self.signed_in()
        if user is not None:
            library = self.wb.library

            def read() -> tuple[str, bytes]:
                return library.get(user, image_id).mime, library.original(user, image_id)

            await self.send_picture(read)


class BoardImageHandler(_PictureHandler):
    """``/media/board/<board id>/<image id>?grant=...&original=1``"""

    async def get(self, board_id: str, image_id: str) -> None:
        grant = self.get_query_argument("grant", None) or None
        token = open_grant(self.wb, grant) if grant else None
        if grant and token is None:
            self._refuse(403, "This picture link has expired; reload the board.")
            return
        original = self.get_query_argument("original", "") in ("1", "true")
        # A link holder in local mode acts anonymously, as on the board page (see server.auth.acting_user).
        user = None if token and not Gate.of(self.wb).clerk else await self.requester()
        await self.send_picture(self.wb.boards.board_image, user, board_id, image_id, token=token, original=original)


def media_patterns(wb: Workbench) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """Tornado routes for pictures and probes, to pass to ``pn.serve(extra_patterns=...)``."""
    args = {"wb": wb}
    return [
        (r"/healthz", HealthHandler, {}),
        (r"/media/thumb/([A-Za-z0-9_\-]+)", ThumbnailHandler, args),
        (r"/media/original/([A-Za-z0-9_\-]+)", OriginalHandler, args),
        (r"/media/board/([A-Za-z0-9_\-]+)/([A-Za-z0-9_\-]+)", BoardImageHandler, args),
    ]
