"""tpmsync's Asana client: its own retry policy, rate limiter and error messages, over real HTTP."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

from tpmsync.asana.client import AsanaAuthError, AsanaClient, AsanaError, AsanaNotFound, RateLimiter
from tpmsync.config import AsanaSettings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace

TOKEN = "sandbox-token"


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return generate_workspace(seed=2, projects=2, tasks_per_project=120, subtask_ratio=0.0, today=date(2026, 11, 25))


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(base_url: str, sleeps: Sleeps, **overrides: object) -> AsanaClient:
    values: dict[str, object] = {"token": TOKEN, "base_url": base_url, "max_retries": 3, "backoff_base_seconds": 1.0}
    values.update(overrides)
    return AsanaClient(AsanaSettings(**values), sleep=sleeps)  # type: ignore[arg-type]


def test_pages_follow_next_page_until_the_end(server: SandboxServer, workspace: Workspace) -> None:
    project = next(iter(workspace.projects))
    with client_for(server.base_url, Sleeps()) as client:
        pages = list(client.project_tasks(project))
        assert [len(p) for p in pages] == [100, 20]
        assert {t["gid"] for p in pages for t in p} == set(workspace.project_member_gids(project))
        assert client.stats.total == 2


def test_429_waits_for_retry_after(server: SandboxServer) -> None:
    server.faults.retry_after = 7
    server.faults.fail_next(1, 429)
    sleeps = Sleeps()
    with client_for(server.base_url, sleeps) as client:
        assert client.me()["gid"]
        assert sleeps.calls == [7.0]
        assert client.stats.total == 2 and client.stats.retries == 1


def test_5xx_backs_off_exponentially_with_jitter(server: SandboxServer) -> None:
    server.faults.fail_next(3, 500)
    sleeps = Sleeps()
    with client_for(server.base_url, sleeps) as client:
        client.me()
    assert len(sleeps.calls) == 3
    for attempt, waited in enumerate(sleeps.calls, start=1):
        assert 0 <= waited <= 2 ** (attempt - 1)


def test_a_write_is_not_retried_on_a_server_error_but_reads_in_a_batch_are(
    server: SandboxServer, workspace: Workspace
) -> None:
    import asana

    project = next(iter(workspace.projects))
    sleeps = Sleeps()
    body = {"data": {"actions": [{"method": "get", "relative_path": f"/projects/{project}"}]}}
    with client_for(server.base_url, sleeps) as client:
        batch = asana.BatchAPIApi(client.api)
        server.faults.fail_next(1, 500)
        with pytest.raises(AsanaError, match="500"):
            client.call("POST /batch", lambda t: batch.create_batch_request(body, {}, full_payload=True),
                        idempotent=False)
        assert client.stats.total == 1 and sleeps.calls == []
        server.faults.fail_next(1, 500)
        assert [gid for gid, _ in client.budgets_batch([project])] == [project]  # GETs only: safe to repeat
        assert client.stats.total == 3


def test_fatal_4xx_are_not_retried_and_say_what_to_do(server: SandboxServer) -> None:
    sleeps = Sleeps()
    with client_for(server.base_url, sleeps, token="nope") as client, pytest.raises(AsanaAuthError) as caught:
        client.me()
    assert "TPMSYNC_ASANA_TOKEN" in str(caught.value) and sleeps.calls == []
    with client_for(server.base_url, sleeps) as client, pytest.raises(AsanaNotFound, match="404"):
        client.project("424242")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound for the whole test but never listening, so that no
    other process takes it meanwhile and no connect to it can meet itself (a TCP self-connect)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def test_an_unreachable_host_is_retried_then_named(closed_port: int) -> None:
    sleeps = Sleeps()
    with (
        client_for(f"http://127.0.0.1:{closed_port}/api/1.0", sleeps, max_retries=2) as client,
        pytest.raises(AsanaError, match=r"cannot reach http://127.0.0.1:\d+/api/1.0 .*gave up after 3 attempts"),
    ):
        client.me()
    assert len(sleeps.calls) == 2


class ManualClock:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_spaces_requests_to_the_configured_rate() -> None:
    clock = ManualClock()
    limiter = RateLimiter(60, 50, clock=clock, sleep=clock.sleep)  # one a second, a burst of ten
    for _ in range(30):
        limiter.acquire()
        limiter.release()
    assert clock.now == pytest.approx(20.0, abs=0.01)


def test_every_call_has_a_timeout(server: SandboxServer) -> None:
    server.faults.latency_ms = 1500
    sleeps = Sleeps()
    with (
        client_for(server.base_url, sleeps, timeout_seconds=0.2, max_retries=1) as client,
        pytest.raises(AsanaError, match="gave up after 2 attempts"),
    ):
        client.me()
    assert client.stats.total == 2


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><html><head><title>Welcome to nginx!</title></head><body>It works</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering with `handler`; yields the /api/1.0 URL below it."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/api/1.0"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def html_server() -> Iterator[str]:
    with serving(_Html) as url:
        yield url


@pytest.mark.parametrize("answer", ["closed port", "html"])
def test_a_wrong_base_url_is_reported_within_seconds_with_what_was_answered(
    answer: str, html_server: str, closed_port: int
) -> None:
    """Default retry settings and real sleeps: a URL that never answered like Asana's API is named
    within a few seconds, not after 25-50 s of backing off."""
    base_url = f"http://127.0.0.1:{closed_port}/api/1.0" if answer == "closed port" else html_server
    started = time.monotonic()
    with AsanaClient(AsanaSettings(token="t", base_url=base_url)) as client, pytest.raises(AsanaError) as caught:
        client.me()
    assert time.monotonic() - started < 6.0
    message = str(caught.value)
    assert base_url in message and "is asana.base_url" in message and "\n" not in message
    if answer == "closed port":
        assert "connection refused" in message
    else:
        assert "Welcome to nginx" in message and "not JSON" in message


def test_the_token_bucket_charges_a_batch_request_by_its_actions(server: SandboxServer, workspace: Workspace) -> None:
    """Asana counts each action of a batch against the rate limit; so does the client."""
    clock = ManualClock()
    limiter = RateLimiter(60, 50, clock=clock, sleep=clock.sleep)  # one a second, a burst of ten
    for _ in range(3):
        limiter.acquire(10)  # three batch requests of ten actions: thirty requests' worth
        limiter.release()
    limiter.acquire()
    limiter.release()
    assert clock.now == pytest.approx(21.0, abs=0.01)  # as thirty-one single requests would

    with client_for(server.base_url, Sleeps(), requests_per_minute=60) as client:
        client.limiter = RateLimiter(60, 50, clock=clock, sleep=clock.sleep)
        start = clock.now
        assert len(list(client.tasks_batch(sorted(workspace.tasks)[:30]))) == 30
        assert client.stats.by_endpoint["POST /batch"] == 3
        # a burst of ten, then the second batch waits 1 s and the third the 10 s of its ten actions
        assert clock.now - start == pytest.approx(11.0, abs=0.01)
