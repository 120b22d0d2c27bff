"""How the workbench writes its logs: plain lines for a person, JSON lines for a log collector.

``WORKBENCH_LOG_FORMAT=json`` (the container image sets it) writes one JSON
object per record, for Azure Monitor / Loki / any collector that parses lines::

    {"time": "2026-05-01T12:00:00.123Z", "level": "INFO", "logger": "server.main",
     "message": "metadata: 14 index(es) checked", "request_id": "9f1c..."}

``request_id`` and ``user_id`` are present when the record was written while a
request was handled for someone: the server binds them per request (the
``X-Request-ID`` the ingress sends, or a fresh one, and the signed-in person's
workbench id, never their e-mail or token) with :func:`bind` or
:func:`log_context`; :class:`ContextFilter` copies them onto every record, for
any handler. Anything else (unset, ``text``) gives
plain ``time level logger: message`` lines. ``WORKBENCH_LOG_LEVEL`` sets the
level of the workbench's own loggers (default ``INFO``); other libraries stay
at ``WARNING`` so Bokeh and Tornado do not drown ours.

Logs never carry credentials: the formatter masks values that look like bearer
tokens, JWTs, connection-string keys and OpenAI keys, whoever logged them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["configure_logging", "JsonFormatter", "ContextFilter", "request_id", "user_id", "bind", "log_context",
           "new_request_id", "redact"]

#: The id of the request being handled (``X-Request-ID`` from the ingress), for every record logged meanwhile.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_request_id", default=None)
#: The workbench id of the person the request or session acts for (``User.id``; never an e-mail or a token).
user_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_user_id", default=None)

# An id a client sends is echoed into logs: keep it to a plain token so it cannot forge log lines.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(sent: str | None = None) -> str:
    """``sent`` (an ``X-Request-ID`` header) when it is a plain id, else a fresh random one.

    >>> new_request_id("9f1c2d")
    '9f1c2d'
    """
    if sent and _REQUEST_ID.match(sent):
        return sent
    return uuid.uuid4().hex


def bind(*, request: str | None = None, user: str | None = None) -> None:
    """Tag every record logged from here on in the current context (one Tornado request runs in its own
    task, so this lasts until that request ends) with a request id and/or a user id.

    >>> bind(request=new_request_id(), user="u_1234")      # doctest: +SKIP
    """
    if request is not None:
        request_id.set(request)
    if user is not None:
        user_id.set(user)


@contextmanager
def log_context(*, request: str | None = None, user: str | None = None) -> Iterator[None]:
    """Tag the records logged inside the block with a request id and/or a user id, then restore the previous ones.

    >>> with log_context(user="u_1234"):                     # doctest: +SKIP
    ...     log.info("board exported")   # -> {"message": "board exported", "user_id": "u_1234", ...}
    """
    tokens = [(var, var.set(value)) for var, value in ((request_id, request), (user_id, user)) if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Copy the bound request and user ids onto each record (``record.request_id``, ``record.user_id``).

    A record that already carries one (``extra={"request_id": ...}``) keeps it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id), ("user_id", user_id)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True

_OURS = ("server", "workbench", "store")
_PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Shapes of secrets that must never reach a log line, whichever library wrote it.
_SECRETS = [
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(?i)(AccountKey|SharedAccessSignature|sig|password)=([^;&\s]+)"), r"\1=[redacted]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), "[redacted-key]"),
    (re.compile(r"(?i)(__session|__client)=([^;\s]+)"), r"\1=[redacted]"),
]


def redact(text: str) -> str:
    """``text`` with anything shaped like a token, key or session cookie masked.

    >>> redact("Authorization: Bearer abc.def.ghi123")
    'Authorization: Bearer [redacted]'
    """
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, var in (("request_id", request_id), ("user_id", user_id)):
            value = getattr(record, name, None) or var.get()
            if value:
                entry[name] = redact(str(value))
        for extra in ("route", "status", "duration_ms"):
            if hasattr(record, extra):
                entry[extra] = getattr(record, extra)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(fmt: str | None = None, level: str | None = None, *, stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (default stderr) as JSON or plain lines.

    ``fmt`` and ``level`` default to ``WORKBENCH_LOG_FORMAT`` and
    ``WORKBENCH_LOG_LEVEL``. Calling it again replaces the previous set-up,
    so the CLI can call it once per command.

    >>> configure_logging("json", "DEBUG")
    """
    fmt = (fmt or os.environ.get("WORKBENCH_LOG_FORMAT") or "text").strip().lower()
    level_name = (level or os.environ.get("WORKBENCH_LOG_LEVEL") or "INFO").strip().upper()
    ours = logging.getLevelName(level_name)
    if not isinstance(ours, int):
        from workbench.errors import InvalidInput

        raise InvalidInput(f"WORKBENCH_LOG_LEVEL is '{level_name}'; use DEBUG, INFO, WARNING or ERROR.")
    if fmt not in ("json", "text"):
        from workbench.errors import InvalidInput

        raise InvalidInput(f"WORKBENCH_LOG_FORMAT is '{fmt}'; use 'json' or 'text'.")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else _PlainFormatter(_PLAIN))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in _OURS:
        logging.getLogger(name).setLevel(ours)
    # One access line per request for the collector (server.probes.log_request writes it, with the
    # route and request id); a developer's console keeps only the warnings, as before.
    logging.getLogger("tornado.access").setLevel(ours if fmt == "json" else logging.WARNING)
