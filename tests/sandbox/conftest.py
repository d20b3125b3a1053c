"""Fixtures for the sandbox tests: a small generated workspace on a controllable clock, a running
server, real ``asana`` SDK clients pointed at it, and a raw HTTP helper."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any

import asana
import pytest
from sandbox_support import TODAY, Clock, Reply

from tpmsync.sandbox import SandboxServer, Workspace, generate_workspace


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(clock: Clock) -> Workspace:
    return generate_workspace(seed=7, projects=3, tasks_per_project=40, today=TODAY, now=clock)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace) as running:
        yield running


@pytest.fixture
def make_client(server: SandboxServer) -> Iterator[Callable[..., Any]]:
    """``make_client(token=None, retries=False)`` → an ``asana.ApiClient`` on the sandbox; all are
    closed (sockets and thread pool) at teardown."""
    clients: list[Any] = []

    def make(token: str | None = None, retries: bool = False) -> Any:
        configuration = asana.Configuration()
        configuration.host = server.base_url
        configuration.access_token = server.token if token is None else token
        if not retries:
            configuration.retry_strategy = False
        client = asana.ApiClient(configuration)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.rest_client.pool_manager.clear()
        client.pool.close()
        client.pool.join()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture
def call(server: SandboxServer) -> Callable[..., Reply]:
    """``call(method, path, body=None, token=...)``: one raw HTTP request; ``path`` below the API
    root unless it starts with ``/_sandbox/``."""

    def request(method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        url = path if path.startswith("/_sandbox/") else "/api/1.0" + path
        all_headers = {"Authorization": f"Bearer {server.token if token is None else token}", **(headers or {})}
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request(method, url, body=payload, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    return request
