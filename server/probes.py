"""What Kubernetes and Prometheus ask the web workbench: ``/readyz`` and ``/metrics``.

- ``/readyz``: 200 when the metadata store answers a query, the blob and
  vector stores can be listed and the board event bus is listening (always, in
  process; PostgreSQL's LISTEN connection is up with several replicas);
  otherwise 503 with a JSON body naming what
  failed. Each check runs off the event loop and is given 2 s, so a store that
  hangs makes the probe fail fast instead of holding a Tornado request open.
  (``/healthz``, "the process answers", stays in ``server.media``.)
- ``/metrics``: Prometheus text exposition. HTTP requests by route and status
  with their latency (recorded by :func:`log_request`, the Tornado
  ``log_function`` this module provides), open Bokeh sessions, the embed queue
  and the age of its oldest job, failed jobs, rows per table, AI calls and credits
  spent by action, embedding latency (upload to searchable) -- these read from the
  metadata store through :mod:`workbench.stats`, cached a few seconds -- plus search
  latency and errors by type (recorded in this process by :func:`observe_search` /
  :func:`timed_search` and :func:`count_error`, which the pages call), and the
  process collectors (CPU, memory, open files, GC).

``/metrics`` answers only requests that did not come through a proxy (no
``X-Forwarded-For``, ``X-Real-IP`` or ``Forwarded`` header): Prometheus scrapes
the pod directly, while anything arriving through the ingress gets a 404, so
the public address never shows the library's size or the request mix.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from tornado.web import RequestHandler

from workbench.app import Workbench
from workbench.logs import new_request_id, request_id, user_id
from workbench.stats import ai_usage, embedding_latency, jobs, oldest_pending_job_age, row_counts

__all__ = ["probe_patterns", "log_request", "ReadyHandler", "MetricsHandler", "readiness", "CHECK_TIMEOUT_SECONDS",
           "HTTP_REGISTRY", "observe_search", "timed_search", "count_error"]

log = logging.getLogger(__name__)
access = logging.getLogger("tornado.access")

#: How long one readiness check may take before the probe calls it failed.
CHECK_TIMEOUT_SECONDS = 2.0
_COUNTS_TTL_SECONDS = 5.0
_PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")

#: Request metrics are per process (one Tornado application), not per workbench.
HTTP_REGISTRY = CollectorRegistry(auto_describe=True)
_REQUESTS = Counter("workbench_http_requests", "HTTP requests answered, by route (handler) and status.",
                    ["route", "method", "status"], registry=HTTP_REGISTRY)
_LATENCY = Histogram("workbench_http_request_duration_seconds", "Time to answer an HTTP request, by route.",
                     ["route"], registry=HTTP_REGISTRY,
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
_ERRORS = Counter("workbench_http_errors", "HTTP answers with a 5xx status, by route.", ["route"],
                  registry=HTTP_REGISTRY)
_SEARCH = Histogram("workbench_search_duration_seconds", "Time to answer a search, by kind (text, image, similar).",
                    ["kind"], registry=HTTP_REGISTRY,
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
_FAILURES = Counter("workbench_errors", "Errors shown to people or logged, by type (the exception's class).",
                    ["type"], registry=HTTP_REGISTRY)
for _collector in (ProcessCollector, PlatformCollector, GCCollector):
    _collector(registry=HTTP_REGISTRY)


def observe_search(seconds: float, kind: str = "text") -> None:
    """Record one search that took ``seconds`` (``kind``: text, image, similar, combined)."""
    _SEARCH.labels(kind).observe(seconds)


@contextmanager
def timed_search(kind: str = "text") -> Iterator[None]:
    """Time the block as one search of ``kind``; a search that raises is counted too (its time is real).

    >>> with timed_search("text"):                       # doctest: +SKIP
    ...     hits = wb.search.by_text(me, "rain", limit=24)
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_search(time.perf_counter() - started, kind)


def count_error(error: BaseException | str) -> None:
    """Count one error by its type: an exception (its class name, e.g. ``InsufficientCredits``) or a name.

    Class names keep the label set small and fixed; messages never become labels (they quote user input).
    """
    _FAILURES.labels(error if isinstance(error, str) else type(error).__name__).inc()


def log_request(handler: RequestHandler) -> None:
    """Tornado ``log_function``: count and time the request, and write one access log line.

    Pass it to the Tornado application (``pn.serve(..., log_function=log_request)``). The
    route label is the handler's class, not the path, so image ids never become labels.
    """
    route = type(handler).__name__
    status = handler.get_status()
    seconds = handler.request.request_time()
    _REQUESTS.labels(route, handler.request.method or "", str(status)).inc()
    _LATENCY.labels(route).observe(seconds)
    if status >= 500:
        _ERRORS.labels(route).inc()
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    # The path without its query: share-link tokens travel in ?token=...
    access.log(level, "%s %s %d %.1fms", handler.request.method, handler.request.path, status, seconds * 1000,
               extra={"route": route, "status": status, "duration_ms": round(seconds * 1000, 1),
                      "request_id": request_id.get() or new_request_id(handler.request.headers.get("X-Request-ID")),
                      "user_id": user_id.get() or _user_id_of(handler)})


def _user_id_of(handler: RequestHandler) -> str | None:
    """The workbench id of whoever the auth hooks resolved for this request, if they did.

    Read from Tornado's cache of ``current_user`` only: asking ``current_user`` here would run
    the sign-in check again for a request that is already answered.
    """
    resolved = handler.__dict__.get("_current_user")
    person = getattr(resolved, "user", resolved)  # an Identity holds a User; a User is itself
    found = getattr(person, "id", None)
    return found if isinstance(found, str) else None


def _proxied(handler: RequestHandler) -> bool:
    return any(handler.request.headers.get(name) for name in _PROXY_HEADERS)


# -- readiness ---------------------------------------------------------------
def _metadata(wb: Workbench) -> str:
    return f"schema version {wb.db.version()}"


def _blobs(wb: Workbench) -> str:
    fs, root = wb.blobs.fs, wb.blobs.root
    if wb.blobs.protocol in ("file", "local"):
        if not fs.isdir(root):
            raise FileNotFoundError(f"the blob folder {root} is missing (is the volume mounted?)")
        return "folder present"
    try:
        fs.invalidate_cache(root)  # a cached listing proves nothing
        fs.ls(root, detail=False)
    except FileNotFoundError:
        # The service answered: the prefix holds no blob yet (a new library).
        return "reachable, empty"
    return "reachable"


def _vectors(wb: Workbench) -> str:
    return f"{len(wb.vectors.table_names())} table(s)"


def _events(wb: Workbench) -> str:
    # Where several replicas share the metadata, a replica that cannot hear the others' board
    # changes would show stale boards: it is not ready until its LISTEN connection is back.
    health = wb.bus.health()
    if not health.listening:
        raise ConnectionError(f"not listening for board events ({health.last_error or 'reconnecting'})")
    return f"{health.kind}, listening" + (f", {health.reconnects} reconnect(s)" if health.reconnects else "")


_CHECKS: dict[str, Callable[[Workbench], str]] = {"metadata": _metadata, "blobs": _blobs, "vectors": _vectors,
                                                 "events": _events}


class _Readiness:
    """Runs the checks of one workbench; a check still hanging from an earlier probe is not started again."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def _run(self, name: str, check: Callable[[Workbench], str]) -> str:
        try:
            return check(self.wb)
        finally:
            with self._lock:
                self._running.discard(name)

    async def one(self, name: str, check: Callable[[Workbench], str]) -> dict[str, Any]:
        started = time.perf_counter()
        with self._lock:
            if name in self._running:  # a thread per probe piling up on a hung store helps nobody
                return {"ok": False, "detail": "an earlier check has not answered yet"}
            self._running.add(name)
        try:
            detail = await asyncio.wait_for(asyncio.to_thread(self._run, name, check), CHECK_TIMEOUT_SECONDS)
            ok = True
        except TimeoutError:
            ok, detail = False, f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
        except Exception as error:  # the probe reports; it never raises
            ok, detail = False, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}

    async def all(self) -> dict[str, dict[str, Any]]:
        results = await asyncio.gather(*(self.one(name, check) for name, check in _CHECKS.items()))
        return dict(zip(_CHECKS, results, strict=True))


async def readiness(wb: Workbench) -> dict[str, dict[str, Any]]:
    """Every readiness check of ``wb``: ``{"metadata": {"ok": True, "detail": ..., "ms": ...}, ...}``."""
    return await _Readiness(wb).all()


class ReadyHandler(RequestHandler):
    """``/readyz``: 200 when every store answers, else 503 naming what failed."""

    def initialize(self, readiness: _Readiness) -> None:
        self.readiness = readiness

    async def get(self) -> None:
        token = request_id.set(new_request_id(self.request.headers.get("X-Request-ID")))
        try:
            checks = await self.readiness.all()
        finally:
            request_id.reset(token)
        failed = sorted(name for name, check in checks.items() if not check["ok"])
        if failed:
            log.warning("not ready: %s", "; ".join(f"{n}: {checks[n]['detail']}" for n in failed))
        self.set_status(503 if failed else 200)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        if _proxied(self):  # through the ingress: the answer, not the store paths and errors behind it
            self.write(json.dumps({"ready": not failed}))
            return
        self.write(json.dumps({"ready": not failed, "failed": failed, "checks": checks}))


# -- metrics -------------------------------------------------------------------
class _WorkbenchCollector(Collector):
    """The workbench's own gauges, read from the metadata store at most every few seconds."""

    def __init__(self, wb: Workbench, sessions: Callable[[], int | None]) -> None:
        self.wb = wb
        self.sessions = sessions
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any]:
        db = self.wb.db  # every read is a workbench.stats function: no SQL in server/
        return {"queue": jobs(db), "oldest": oldest_pending_job_age(db), "counts": row_counts(db),
                "ai": ai_usage(db), "embedding": embedding_latency(db)}

    def _values(self) -> dict[str, Any]:
        with self._lock:  # one scrape reads; a scrape a second later reuses it
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > _COUNTS_TTL_SECONDS:
                self._cached = (now, self._read())
            return self._cached[1]

    def collect(self) -> Iterator[Metric]:
        values = self._values()
        queue = GaugeMetricFamily("workbench_jobs", "Background jobs waiting, running or failed, by kind and status.",
                                  labels=["kind", "status"])
        for job in values["queue"]:
            queue.add_metric([job.kind, job.status], job.count)
        yield queue
        yield GaugeMetricFamily("workbench_oldest_pending_job_age_seconds",
                                "Age of the oldest job still waiting (0 when none waits).", value=values["oldest"])
        rows = GaugeMetricFamily("workbench_rows", "Rows per table (images, boards, ...).", labels=["table"])
        for table, count in values["counts"].items():
            rows.add_metric([table], count)
        yield rows
        yield from self._ai(values["ai"])
        latency = values["embedding"]
        buckets = [(repr(bound), count) for bound, count in latency.buckets] + [("+Inf", latency.count)]
        yield HistogramMetricFamily("workbench_embedding_latency_seconds",
                                    "Time from upload to searchable (embed job queued to vector stored).",
                                    buckets=buckets, sum_value=latency.total_seconds)
        open_sessions = self.sessions()
        if open_sessions is not None:
            yield GaugeMetricFamily("workbench_open_sessions", "Open Bokeh sessions (browser tabs) on this process.",
                                    value=open_sessions)


    @staticmethod
    def _ai(usage: list[Any]) -> Iterator[CounterMetricFamily]:
        calls = CounterMetricFamily("workbench_ai_calls", "AI calls by action and outcome (answered, refunded, "
                                    "pending), from the credit ledger.", labels=["action", "outcome"])
        spent = CounterMetricFamily("workbench_ai_credits_spent", "Credits kept by answered AI calls, by action.",
                                    labels=["action"])
        by_action: dict[str, int] = {}
        for use in usage:
            calls.add_metric([use.action, use.outcome], use.calls)
            by_action[use.action] = by_action.get(use.action, 0) + use.credits
        for action, credits in by_action.items():
            spent.add_metric([action], credits)
        yield calls
        yield spent


class MetricsHandler(RequestHandler):
    """``/metrics``: Prometheus text format, refused (404) to requests that came through a proxy."""

    def initialize(self, registry: CollectorRegistry, sessions: dict[str, Any]) -> None:
        self.registry = registry
        sessions.setdefault("application", self.application)  # the Bokeh application counts its sessions

    async def get(self) -> None:
        if _proxied(self):
            self.set_status(404)
            self.write("not found")
            return
        body = await asyncio.to_thread(lambda: generate_latest(HTTP_REGISTRY) + generate_latest(self.registry))
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.set_header("Cache-Control", "no-store")
        self.write(body)


def _session_counter(holder: dict[str, Any]) -> Callable[[], int | None]:
    def count() -> int | None:
        app = holder.get("application")
        if app is None or not hasattr(app, "app_paths"):  # not a Bokeh server (tests' own Application)
            return None
        return sum(len(app.get_sessions(path)) for path in app.app_paths)

    return count


def probe_patterns(wb: Workbench) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """Tornado routes for ``/readyz`` and ``/metrics``, to add to ``pn.serve(extra_patterns=...)``."""
    holder: dict[str, Any] = {}
    registry = CollectorRegistry()  # no auto-describe: it would collect (and cache) at registration
    registry.register(_WorkbenchCollector(wb, _session_counter(holder)))
    return [
        (r"/readyz", ReadyHandler, {"readiness": _Readiness(wb)}),
        (r"/metrics", MetricsHandler, {"registry": registry, "sessions": holder}),
    ]
