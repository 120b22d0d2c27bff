"""How the workbench writes its logs: plain lines for a person, JSON lines for a log collector.

``WORKBENCH_LOG_FORMAT=json`` (the container image sets it) writes one JSON
object per record, for Azure Monitor / Loki / any collector that parses lines::

    {"time": "2026-05-01T12:00:00.123Z", "level": "INFO", "logger": "server.main",
     "message": "metadata: 14 index(es) checked", "request_id": "9f1c..."}

``request_id`` is present when the record was written while a request carrying
one was handled (see :data:`request_id`). Anything else (unset, ``text``) gives
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
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["configure_logging", "JsonFormatter", "request_id", "redact"]

#: The id of the request being handled (``X-Request-ID`` from the ingress), for every record logged meanwhile.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_request_id", default=None)

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
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = str(rid)
        for extra in ("user_id", "route", "status", "duration_ms"):
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
