"""The client against servers that answer otherwise than tpmsync's sandbox: no batch API, 501 and
402 answers, truncated JSON and HTML error pages."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from datetime import date

import pytest

from tests.test_client import Sleeps, client_for, serving
from tpmsync.asana.client import AsanaClient, AsanaError
from tpmsync.sandbox import SandboxServer, Strictness, Workspace, generate_workspace

TOKEN = "sandbox-token"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """The sandbox as it normally answers, on a workspace with subtasks, stories and budgets."""
    ws = generate_workspace(seed=4, projects=2, tasks_per_project=30, subtask_ratio=0.3, today=date(2026, 11, 25))
    with SandboxServer(ws, token=TOKEN) as srv:
        yield srv


def every_batch_call(client: AsanaClient, ws: Workspace) -> dict[str, object]:
    tasks = [*sorted(ws.tasks)[:25], "999999999999"]  # and one that does not exist, one hidden (403)
    parents = sorted(g for g, t in ws.tasks.items() if t.subtask_gids)[:12]
    return {
        "tasks": list(client.tasks_batch(tasks)),
        "subtasks": list(client.subtasks_batch(parents)),
        "stories": list(client.stories_batch(tasks)),
        "budgets": list(client.budgets_batch(sorted(ws.projects))),
    }


@pytest.mark.parametrize("status", [404, 501, 400])
def test_without_the_batch_api_each_resource_is_read_on_its_own_with_the_same_records(
    server: SandboxServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = server.workspace
    workspace.hide_task(sorted(workspace.tasks)[3])
    with client_for(server.base_url, Sleeps()) as client:
        expected = every_batch_call(client, workspace)
    strictness = Strictness(batch=False, missing_status=status)
    sleeps = Sleeps()
    with (
        SandboxServer(workspace, token=TOKEN, strictness=strictness) as plain,
        client_for(plain.base_url, sleeps) as client,
        caplog.at_level(logging.WARNING),
    ):
        assert every_batch_call(client, workspace) == expected
        assert plain.stats[("POST", "/batch")] == 1 and sleeps.calls == []  # asked once, not retried
        assert plain.stats[("GET", "/tasks/{gid}")] == 26
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "POST /batch" in said[0] and str(status) in said[0] and "no batch API" in said[0]


def test_a_501_is_not_retried(server: SandboxServer) -> None:
    workspace = server.workspace
    server.faults.fail_next(1, 501)
    sleeps = Sleeps()
    with client_for(server.base_url, sleeps) as client, pytest.raises(AsanaError, match="answered 501") as caught:
        client.project(next(iter(workspace.projects)))
    assert client.stats.total == 1 and sleeps.calls == [] and caught.value.status == 501


def test_a_402_says_the_plan_lacks_the_feature_and_means_no_budget(server: SandboxServer) -> None:
    workspace = server.workspace
    project = next(iter(workspace.projects))
    with client_for(server.base_url, Sleeps()) as client:
        server.faults.fail_next(1, 402)
        with pytest.raises(AsanaError) as caught:
            list(client.portfolio_items(next(iter(workspace.portfolios))))
        message = str(caught.value)
        assert "402" in message and "plan" in message and "\n" not in message
        server.faults.fail_next(1, 402)
        assert client.budgets(project) == []


ANSWERS = {
    "/api/1.0/users/me": (200, "application/json", b'{"data": {"gid": "1", "name": "Ad'),
    "/api/1.0/projects/1": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "/api/1.0/projects/2": (400, "text/html", b"<html><body>Bad request: header too long</body></html>"),
}


class _Broken(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, kind, body = ANSWERS[self.path.split("?")[0]]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def broken_server() -> Iterator[str]:
    with serving(_Broken) as url:
        yield url


@pytest.mark.parametrize(
    ("gid", "words", "attempts"),
    [
        (None, "which is not JSON", 3),  # truncated JSON: retried (a cut connection), then named
        ("1", "server error 502", 3),  # an HTML error page from a proxy: retried as a 5xx
        ("2", "answered 400 Bad Request '<html><body>Bad request: header too long", 1),  # HTML 4xx: quoted, once
    ],
)
def test_truncated_json_and_html_error_pages_give_one_line(
    broken_server: str, gid: str | None, words: str, attempts: int
) -> None:
    with client_for(broken_server, Sleeps(), max_retries=2) as client:
        client.contacted = True  # past the first contact: the normal retry policy
        with pytest.raises(AsanaError) as caught:
            client.me() if gid is None else client.project(gid)
    message = str(caught.value)
    assert words in message and "\n" not in message, message
    assert client.stats.total == attempts


def test_a_client_waiting_for_its_first_batch_answer_holds_up_no_other_client(server: SandboxServer) -> None:
    """Until a server first answers `POST /batch`, a client sends one batch request at a time
    (a server without the batch API is asked once); another client, of another server or run,
    does not wait for that answer."""
    arrived, release = threading.Event(), threading.Event()

    class Held(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the first batch request of the slow server, held until released
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived.set()
            release.wait(30)
            body = b'{"data": [{"status_code": 404, "body": {}}]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    task = sorted(server.workspace.tasks)[0]
    slow_answers: list[object] = []
    with (
        serving(Held) as slow_url,
        client_for(slow_url, Sleeps()) as slow,
        client_for(server.base_url, Sleeps()) as fast,
    ):
        waiting = threading.Thread(target=lambda: slow_answers.extend(slow.tasks_batch(["1"])))
        waiting.start()
        try:
            assert arrived.wait(10)
            answers: list[object] = []
            other = threading.Thread(target=lambda: answers.extend(fast.tasks_batch([task])))
            other.start()
            other.join(10)
            assert not other.is_alive(), "the other client waited for the slow server's first batch answer"
            assert [gid for gid, record in answers if record is not None] == [task]
        finally:
            release.set()
            waiting.join(10)
    assert slow_answers == [("1", None)]
