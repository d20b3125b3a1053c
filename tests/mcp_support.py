"""Helpers for MCP tests: `tpmsync mcp` as a real subprocess, talked to with the SDK's own client."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
SECRET_NAMES = ("TPMSYNC_ASANA_TOKEN", "ASANA_ACCESS_TOKEN")


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any Asana token, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def stdio_params(config: Path, env: dict[str, str], cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "tpmsync", "--config", str(config), "mcp"], env=env, cwd=str(cwd)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def http_server(config: Path, env: dict[str, str], cwd: Path) -> Iterator[str]:
    """`tpmsync mcp --http 127.0.0.1:PORT` running; yields its URL, stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tpmsync", "--config", str(config), "mcp", "--http", f"127.0.0.1:{port}"],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"tpmsync mcp --http exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:  # an HTTP answer, not just a connection: a connect to a port nobody listens on yet
                # can meet itself (TCP self-connect, when the port chosen for it is that very port)
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                try:
                    probe.request("GET", "/")
                    probe.getresponse().read()
                finally:
                    probe.close()
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise AssertionError("tpmsync mcp --http did not listen within 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def run_client(server: StdioServerParameters | str, body: Callable[[Client], Awaitable[T]]) -> T:
    """Connect the SDK's `Client` to `server` (stdio parameters or an HTTP URL) and run `body`."""

    async def main() -> T:
        async with Client(server, read_timeout_seconds=60) as client:
            return await body(client)

    return anyio.run(main)


def structured(result: CallToolResult) -> dict[str, Any]:
    """The answer of a successful call; its text (what older clients read) is the same JSON."""
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    (text,) = result.content
    assert isinstance(text, TextContent) and json.loads(text.text) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)
