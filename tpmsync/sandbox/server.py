"""A local Asana-compatible HTTP server over a sandbox `Workspace`.

    with SandboxServer(generate_workspace(seed=1)) as server:
        configuration = asana.Configuration()
        configuration.host = server.base_url          # http://127.0.0.1:PORT/api/1.0
        configuration.access_token = server.token

API requests live under ``/api/1.0`` and need ``Authorization: Bearer <token>``; they are
counted in `SandboxServer.stats` and subject to `SandboxServer.faults`; ``strictness`` (a
`Strictness`) makes it answer as another Asana-compatible server may (fewer keys, other timestamp
forms, no batch or events API).  Admin endpoints under
``/_sandbox/`` (no auth, no faults, not counted) let another process drive a running server:

    GET  /_sandbox/stats          {"total": n, "by_route": {"GET /tasks": n, ...}}
    POST /_sandbox/reset_stats
    GET  /_sandbox/faults         current fault settings
    POST /_sandbox/faults         {"latency_ms", "error_rate", "retry_after", "seed", "clear",
                                   "fail_next": n | {"n", "status"}, "garbage_next": n,
                                   "garbage_after": {"route": "POST /status_updates", "n": n}}
    POST /_sandbox/mutate         {"op": "complete_task", "args": {"gid": "..."}} → {"data": ...}
                                  ({"op": "move_to_section", "args": {"gid", "section_gid"}} moves
                                  a task on its project's board)
    GET  /_sandbox/workspace      gids and names of the workspace, users, teams, projects, fields
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit

from tpmsync.sandbox.admin import admin_response
from tpmsync.sandbox.api import dispatch, route_template
from tpmsync.sandbox.control import Faults, Stats
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.paging import ApiRequest, ApiResponse, error_body
from tpmsync.sandbox.strict import Strictness
from tpmsync.sandbox.workspace import Workspace

HOST = "127.0.0.1"
API_ROOT = "/api/1.0"
ADMIN_ROOT = "/_sandbox/"
JSON_TYPE = "application/json; charset=UTF-8"
GARBAGE_BODY = b"<html><body><h1>502 Bad Gateway</h1>upstream hiccup</body></html>"
FAULT_MESSAGES = {
    429: "You have made too many requests recently. Please, be chill.",
    500: "Server Error",
}


class SandboxServer:
    """The sandbox HTTP server.  ``port=0`` picks a free port; bound at construction, serving
    after `start` (or ``with``); `stop` closes every connection."""

    def __init__(self, workspace: Workspace | None = None, *, port: int = 0, token: str = "sandbox-token",
                 fault_seed: int = 0, strictness: Strictness | None = None) -> None:
        self.workspace = workspace if workspace is not None else generate_workspace()
        self.token = token
        self.faults = Faults(seed=fault_seed)
        self.strictness = strictness or Strictness()
        self._stats = Stats()
        self._httpd = _HTTPServer((HOST, port), self)
        self._thread: threading.Thread | None = None
        self._state = threading.Lock()
        self._serving = False
        self._stopped = False

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` — the admin endpoints live under ``/_sandbox/`` here."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root for ``asana.Configuration().host``: ``http://127.0.0.1:PORT/api/1.0``."""
        return self.root_url + API_ROOT

    @property
    def stats(self) -> Stats:
        """Request counters: ``.total``, ``[("GET", "/tasks")]``, ``.by_route``, ``.log``."""
        return self._stats

    def reset_stats(self) -> None:
        self._stats.reset()

    @property
    def log(self) -> list[tuple[str, str, dict[str, str]]]:
        """Recent API requests (bounded) as (method, path below the API root, query dict)."""
        return self._stats.log

    def start(self) -> Self:
        """Serve in a background thread; returns self."""
        with self._state:
            if self._stopped:
                raise RuntimeError("a stopped SandboxServer cannot be restarted")
            if self._thread is None and not self._serving:
                self._serving = True
                self._thread = threading.Thread(target=self._httpd.serve_forever,
                                                kwargs={"poll_interval": 0.02},
                                                name=f"sandbox-{self.port}", daemon=True)
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop` is called from another thread (or Ctrl-C)."""
        with self._state:
            if self._stopped or self._serving:
                raise RuntimeError("this SandboxServer is already serving or stopped")
            self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and the listening socket.  Idempotent;
        from another thread it also ends a blocking `serve_forever`."""
        with self._state:
            if self._stopped:
                return
            serving, thread = self._serving, self._thread
        if serving:
            self._httpd.shutdown()
        if thread is not None:
            thread.join()
        self._close()

    def _close(self) -> None:
        with self._state:
            if self._stopped:
                return
            self._stopped = True
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_changed = threading.Condition()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_changed:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._connections_changed:
            self._connections.discard(request)
            self._connections_changed.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-request is normal (and `close_connections` does it on
        purpose); anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self, timeout: float = 2.0) -> None:
        """Wake every handler thread blocked on an idle keep-alive connection and wait for the
        threads to close their sockets."""
        with self._connections_changed:
            for sock in list(self._connections):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._connections_changed.wait_for(lambda: not self._connections, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tpmsync-sandbox"
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    @property
    def sandbox(self) -> SandboxServer:
        return cast(_HTTPServer, self.server).sandbox

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and benchmarks read `SandboxServer.stats` instead."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw_body = self._read_body()
        path = parts.path
        if path == API_ROOT or path.startswith(API_ROOT + "/"):
            self._api(path[len(API_ROOT):] or "/", query, raw_body)
        elif path.startswith(ADMIN_ROOT):
            status, body = admin_response(self.sandbox, self.command, path[len(ADMIN_ROOT):], raw_body)
            self._send_json(status, body)
        else:
            self._send_json(404, error_body(404, f"{path}: Not found; the API lives under {API_ROOT}"))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _api(self, path: str, query: dict[str, str], raw_body: bytes) -> None:
        sandbox = self.sandbox
        template = route_template(self.command, path)
        sandbox.stats.record(self.command, template, path, query)
        fault = sandbox.faults.decide()
        if fault.latency_s:
            time.sleep(fault.latency_s)
        if fault.garbage:
            self._send(200, GARBAGE_BODY, "text/html; charset=UTF-8")
            return
        if fault.status is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            message = FAULT_MESSAGES.get(fault.status, HTTPStatus(fault.status).phrase)
            self._send_json(fault.status, error_body(fault.status, message), headers)
            return
        if self.headers.get("Authorization") != f"Bearer {sandbox.token}":
            self._send_json(401, {"errors": [{"message": "Not Authorized"}]})
            return
        if sandbox.strictness.refuses(self.command, template):
            status = sandbox.strictness.missing_status
            self._send_json(status, error_body(status, f"{self.command} {path}: No matching route for request"))
            return
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            self._send_json(400, error_body(400, "Could not parse request data, invalid JSON"))
            return
        request = ApiRequest(sandbox.workspace, self.command, path, sandbox.strictness.query(query), body,
                             sandbox.base_url)
        try:
            response = dispatch(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = ApiResponse(500, error_body(500, "Server Error"))
        if response.status < 400 and sandbox.faults.take_garbage_after(self.command, template):
            self._send(200, GARBAGE_BODY, "text/html; charset=UTF-8")
            return
        shaped = sandbox.faults.shape(self.command, template, response.body)
        self._send_json(response.status, sandbox.strictness.apply(shaped), response.headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, separators=(",", ":")).encode(), JSON_TYPE, headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        """Status line, headers and body in one write (one segment, no Nagle stall)."""
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
