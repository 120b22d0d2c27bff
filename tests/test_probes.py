"""``/readyz`` and ``/metrics`` over real HTTP, on real stores (local disk and Azurite)."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application

from server.media import HealthHandler
from server.probes import CHECK_TIMEOUT_SECONDS, HTTP_REGISTRY, log_request, probe_patterns
from tests.azurite import running_azurite
from tests.helpers import png_bytes
from tests.postgres import running_postgres
from workbench import Settings, Workbench


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Served:
    """A Tornado application with the probe routes, on its own IOLoop thread and a free port."""

    def __init__(self, wb: Workbench) -> None:
        self.port = _free_port()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(wb,), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the probe server did not start"

    def _run(self, wb: Workbench) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = IOLoop.current()
        app = Application([(r"/healthz", HealthHandler, {}), *probe_patterns(wb)], log_function=log_request)
        self.server = HTTPServer(app)
        self.server.listen(self.port, "127.0.0.1")
        self.loop.add_callback(self._ready.set)
        self.loop.start()

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body

    def stop(self) -> None:
        self.loop.add_callback(self.server.stop)
        self.loop.add_callback(self.loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[tuple[Workbench, _Served]]:
    wb = Workbench(Settings(home=tmp_path / "wb", library={"load_samples": False}))
    served = _Served(wb)
    try:
        yield wb, served
    finally:
        served.stop()
        wb.close()


def _ready(served: _Served, **headers: str) -> tuple[int, dict[str, Any]]:
    status, head, body = served.get("/readyz", headers)
    assert head["content-type"] == "application/json"
    return status, json.loads(body)


def test_ready_when_every_store_answers(local) -> None:
    wb, served = local
    status, body = _ready(served)
    assert status == 200 and body["ready"] is True and body["failed"] == []
    assert set(body["checks"]) == {"metadata", "blobs", "vectors", "events"}
    assert body["checks"]["events"]["detail"].startswith("in-process")
    assert body["checks"]["metadata"]["detail"].startswith("schema version ")


def test_not_ready_names_the_store_that_failed(local) -> None:
    wb, served = local
    shutil.rmtree(wb.blobs.root)  # the blob volume is gone
    status, body = _ready(served)
    assert status == 503 and body["failed"] == ["blobs"]
    assert "missing" in body["checks"]["blobs"]["detail"]
    # Through the ingress only the answer is shown, not the paths behind it.
    status, body = _ready(served, **{"X-Forwarded-For": "203.0.113.9"})
    assert status == 503 and body == {"ready": False}


def test_metrics_count_requests_rows_and_jobs(local) -> None:
    wb, served = local
    me = wb.accounts.local_user()
    wb.library.ingest(me, png_bytes(seed=1), filename="a.png")  # not embedded: no worker runs here
    wb.boards.create(me, "Night shoot")
    assert served.get("/healthz")[0] == 200
    status, head, body = served.get("/metrics")
    text = body.decode()
    assert status == 200 and head["content-type"].startswith("text/plain")
    assert 'workbench_rows{table="images"} 1.0' in text
    assert 'workbench_rows{table="boards"} 1.0' in text
    assert 'workbench_jobs{kind="embed",status="pending"} 1.0' in text
    assert "workbench_oldest_pending_job_age_seconds" in text
    assert 'workbench_http_requests_total{method="GET",route="HealthHandler",status="200"}' in text
    assert 'workbench_http_request_duration_seconds_bucket{le="0.005",route="HealthHandler"}' in text
    assert "process_resident_memory_bytes" in text and "python_gc_collections_total" in text


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition, e.g. ``_metric(text, "workbench_ai_calls_total", action="idea")``."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    raise AssertionError(f"no sample {name} {labels} in /metrics")


@pytest.mark.slow  # loads the offline embedder (an embedded picture, a real search)
def test_metrics_show_ai_calls_credits_embedding_latency_search_and_errors(local) -> None:
    from server.probes import count_error, timed_search
    from workbench.errors import InsufficientCredits

    wb, served = local
    me = wb.accounts.local_user()
    wb.library.ingest(me, png_bytes(seed=2), filename="c.png", wait=True)  # embedded: one done embed job
    for _ in range(2):
        with wb.accounts.spend(me, "outline"):  # answered: 2 credits kept each
            pass
    with pytest.raises(RuntimeError), wb.accounts.spend(me, "outline"):
        raise RuntimeError("the AI did not answer")  # refunded: costs nothing
    reservation = wb.accounts.reserve(me, "image")
    wb.accounts.commit(reservation, used=1)  # 2 reserved, 1 kept
    wb.accounts.reserve(me, "idea")  # not settled yet
    # Search and error counts are per process (other tests add to them): compare with before.
    searches_before = HTTP_REGISTRY.get_sample_value("workbench_search_duration_seconds_count", {"kind": "text"}) or 0
    errors_before = HTTP_REGISTRY.get_sample_value("workbench_errors_total", {"type": "InsufficientCredits"}) or 0
    with timed_search("text"):
        wb.search.by_text(me, "rain on a neon street", limit=4)
    count_error(InsufficientCredits("You have 0 credits; an outline costs 2."))
    status, _, body = served.get("/metrics")
    text = body.decode()
    assert status == 200
    assert _metric(text, "workbench_ai_calls_total", action="outline", outcome="answered") == 2
    assert _metric(text, "workbench_ai_calls_total", action="outline", outcome="refunded") == 1
    assert _metric(text, "workbench_ai_calls_total", action="image", outcome="answered") == 1
    assert _metric(text, "workbench_ai_calls_total", action="idea", outcome="pending") == 1
    assert _metric(text, "workbench_ai_credits_spent_total", action="outline") == 4
    assert _metric(text, "workbench_ai_credits_spent_total", action="image") == 1
    assert _metric(text, "workbench_ai_credits_spent_total", action="idea") == 0
    assert _metric(text, "workbench_embedding_latency_seconds_count") == 1
    assert _metric(text, "workbench_embedding_latency_seconds_bucket", le="+Inf") == 1
    assert _metric(text, "workbench_embedding_latency_seconds_sum") > 0
    assert _metric(text, "workbench_search_duration_seconds_count", kind="text") == searches_before + 1
    assert _metric(text, "workbench_errors_total", type="InsufficientCredits") == errors_before + 1


def test_a_failed_job_shows_in_the_job_gauge(local) -> None:
    wb, served = local
    me = wb.accounts.local_user()
    image = wb.library.ingest(me, png_bytes(seed=4), filename="d.png")
    # A job that ran out of attempts, written the way the pipeline marks one (the worker is not run here).
    wb.db.execute("UPDATE outbox SET status = 'failed', last_error = 'decoder crashed' WHERE subject = ?", [image.id])
    text = served.get("/metrics")[2].decode()
    assert _metric(text, "workbench_jobs", kind="embed", status="failed") == 1


def test_metrics_are_not_served_through_the_ingress(local) -> None:
    _, served = local
    assert served.get("/metrics", {"X-Real-IP": "203.0.113.9"})[0] == 404
    assert served.get("/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 404


@pytest.mark.azure
def test_not_ready_once_azurite_stops(tmp_path: Path) -> None:
    azurite = running_azurite()
    connection = azurite.__enter__()
    stopped = False
    settings = Settings(home=tmp_path / "wb", library={"load_samples": False},
                        storage={"blob_url": "az://probes/library"},
                        azure_connection_string=connection)  # type: ignore[arg-type]
    wb = Workbench(settings)
    served = _Served(wb)
    try:
        wb.library.ingest(wb.accounts.local_user(), png_bytes(seed=3), filename="b.png")
        assert _ready(served)[0] == 200
        azurite.__exit__(None, None, None)
        stopped = True
        started = time.monotonic()
        status, body = _ready(served)
        elapsed = time.monotonic() - started
        assert status == 503 and "blobs" in body["failed"]
        assert body["checks"]["metadata"]["ok"] is True
        # Hang guard, not a speed test: the check is cut off at CHECK_TIMEOUT_SECONDS.
        assert elapsed < CHECK_TIMEOUT_SECONDS + 8
    finally:
        served.stop()
        wb.close()
        if not stopped:
            azurite.__exit__(None, None, None)


def test_not_ready_when_postgresql_stops_answering(tmp_path: Path) -> None:
    # A replica on a shared workspace: /readyz asks PostgreSQL (the metadata) and says whether the
    # replica hears the others' board changes; when the server goes away both fail, fast.
    cluster = running_postgres()
    dsn = cluster.__enter__().new_database()
    stopped = False
    wb = Workbench(Settings(home=tmp_path / "wb", library={"load_samples": False},
                            storage={"metadata_backend": "postgres", "metadata_dsn": dsn}))
    served = _Served(wb)
    try:
        deadline = time.monotonic() + 60
        while (answer := _ready(served))[0] != 200:  # the bus connects in the background
            assert time.monotonic() < deadline, answer
            time.sleep(0.2)
        assert answer[1]["checks"]["events"]["detail"].startswith("postgres, listening")
        cluster.__exit__(None, None, None)
        stopped = True
        deadline = time.monotonic() + 60
        while "events" not in (answer := _ready(served))[1]["failed"]:  # the LISTEN loss is noticed
            assert time.monotonic() < deadline, answer
            time.sleep(0.2)
        status, body = answer
        assert status == 503 and "metadata" in body["failed"]
        assert body["checks"]["blobs"]["ok"] is True
    finally:
        served.stop()
        wb.close()
        if not stopped:
            cluster.__exit__(None, None, None)


def test_the_served_workbench_answers_readyz_and_metrics(tmp_path: Path) -> None:
    from server.main import start

    port = _free_port()
    settings = Settings(home=tmp_path / "web", server={"port": port}, library={"load_samples": False})
    running = start(settings, wb=Workbench(settings))
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/readyz", headers={"Host": f"127.0.0.1:{port}"})
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["ready"] is True
        connection.request("GET", "/metrics", headers={"Host": f"127.0.0.1:{port}"})
        answer = connection.getresponse()
        assert answer.status == 200 and b"workbench_http_requests_total" in answer.read()
    finally:
        running.stop()
