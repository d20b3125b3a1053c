"""`status` over MCP on a large store: the time from the client's call to its parsed answer.

Builds the store of `bench_status.py` (20 projects × 5,000 member tasks + 10 % subtasks, about
110,000 tasks, synced from the sandbox on 127.0.0.1) and refreshes the KPI snapshots as
`tpmsync sync` does. Then starts `tpmsync mcp` as its own process, over stdio and over streamable
HTTP on 127.0.0.1, and times tool calls made with the SDK's `Client` (the process start and the
first call, which imports the store layer, are timed apart). Today's status document is kept in
the server's memory until the store changes, and the server re-reads it within seconds of a
change: one row reads it from the store on every call (a `max_items` not asked for before), the
last one asks a few seconds after the store changed (the script stores a snapshot again, as the
end of a sync does). CPU seconds of the server and of the client are measured beside wall time:
the machine may be shared. The goal of issue 12: a `status` call answers in under
0.3 s.

    .venv/bin/python bench/bench_mcp.py            # 20 × 5,000
    .venv/bin/python bench/bench_mcp.py --quick    # 4 × 1,000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import psutil
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def build_store(workdir: Path, projects: int, tasks: int) -> tuple[Path, int, float]:
    from benchlib import synced_store

    from tpmsync.status import refresh_snapshots

    synced = synced_store(workdir, seed=17, projects=projects, tasks=tasks, subtask_ratio=0.1)
    refresh_snapshots(synced.store, synced.settings)
    synced.store.dispose()
    return synced.config, synced.tasks, synced.sync_seconds


def refresh(config: Path) -> None:
    """Today's KPI snapshots of a kept store (it may have been built on another day)."""
    from tpmsync.config import load_settings
    from tpmsync.status import refresh_snapshots
    from tpmsync.store.db import open_store

    settings = load_settings(config, env={})
    store = open_store(settings.database_url)
    refresh_snapshots(store, settings)
    store.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


Row = tuple[str, float, float, float | None, float | None, str]
CHANGE_WAIT_SECONDS = 5.0


def toucher(config: Path) -> Callable[[], None]:
    """Store one of today's KPI snapshots again, as the end of a sync does (the server sees a change)."""
    from tpmsync.config import load_settings
    from tpmsync.store.fastread import sqlite_path

    path = sqlite_path(load_settings(config, env={}).database_url)

    def touch() -> None:
        with sqlite3.connect(str(path)) as conn:
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")  # as SQLAlchemy stores it
            conn.execute(
                "UPDATE kpi_snapshots SET computed_at = ? WHERE rowid = (SELECT max(rowid) FROM kpi_snapshots)", (now,)
            )
        conn.close()

    return touch


class Clock:
    """Wall time, and the CPU time of this process (the client) and of the server process."""

    def __init__(self, server_pid: int | None) -> None:
        self.server = psutil.Process(server_pid) if server_pid else None

    def now(self) -> tuple[float, float, float]:
        cpu = self.server.cpu_times() if self.server else None
        return time.perf_counter(), time.process_time(), (cpu.user + cpu.system) if cpu else 0.0


async def timed(
    clock: Clock,
    runs: int,
    label: str,
    call: Callable[[int], Awaitable[Any]],
    before: Callable[[], Awaitable[None]] | None = None,
) -> Row:
    """`call` `runs` times (after `before`, which is not timed)."""
    walls, clients, servers = [], [], []
    size = 0
    for n in range(runs):
        if before is not None:
            await before()
        wall, client_cpu, server_cpu = clock.now()
        result = await call(n)
        after = clock.now()
        walls.append(after[0] - wall)
        clients.append(after[1] - client_cpu)
        servers.append(after[2] - server_cpu)
        assert not result.is_error, result.content
        size = len(json.dumps(result.structured_content))
    server = statistics.median(servers) if clock.server else None
    return label, statistics.median(walls), min(walls), server, statistics.median(clients), f"{size / 1e6:.2f} MB"


async def measure(
    client: Client, runs: int, started: float, server_pid: int | None, touch: Callable[[], None]
) -> list[Row]:
    """Rows of (what, median s, best s, server CPU s, client CPU s, size) for the first call and each tool."""
    clock = Clock(server_pid)
    ready = time.perf_counter() - started
    rows: list[Row] = [("start + connect", ready, ready, None, None, "")]
    rows.append(await timed(clock, 1, "first status call", lambda _: client.call_tool("status", {})))
    first = await client.call_tool("status", {"projects": []})
    name = first.structured_content["projects"][0]["name"] if first.structured_content else ""
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("status", "status (all projects)", {}),
        ("status", "status (one project)", {"projects": [name]}),
        ("project_detail", "project_detail", {"project": name}),
        ("explain_verdict", "explain_verdict", {"project": name}),
    ]
    for tool, label, arguments in calls:
        rows.append(await timed(clock, runs, label, lambda _, t=tool, a=arguments: client.call_tool(t, a)))
    # a max_items not asked for before: read from the store, as the first call after a sync does
    rows.append(await timed(clock, runs, "status, read from the store (not in memory)",
                            lambda n: client.call_tool("status", {"max_items": 4 + n})))

    async def change() -> None:
        touch()
        await anyio.sleep(CHANGE_WAIT_SECONDS)

    label = f"status {CHANGE_WAIT_SECONDS:.0f} s after the store changed"
    rows.append(await timed(clock, 3, label, lambda _: client.call_tool("status", {}), before=change))
    return rows


def over_stdio(config: Path, runs: int) -> list[Row]:
    params = StdioServerParameters(command=PY, args=["-m", "tpmsync", "--config", str(config), "mcp"], cwd=str(ROOT))
    return _session(params, runs, None, None, toucher(config))


def over_http(config: Path, runs: int) -> list[Row]:
    port = free_port()
    proc = subprocess.Popen(
        [PY, "-m", "tpmsync", "--config", str(config), "mcp", "--http", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 60:
                    raise SystemExit("tpmsync mcp --http did not start") from None
                time.sleep(0.05)
        return _session(f"http://127.0.0.1:{port}/mcp", runs, started, proc.pid, toucher(config))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _session(
    server: StdioServerParameters | str, runs: int, started: float | None, pid: int | None, touch: Callable[[], None]
) -> list[Row]:
    begin = started if started is not None else time.perf_counter()

    async def main() -> list[Row]:
        async with Client(server, read_timeout_seconds=120) as client:
            # over stdio the server is this process's child
            children = psutil.Process().children(recursive=True)
            return await measure(client, runs, begin, pid or (children[-1].pid if children else None), touch)

    run: Callable[[], Awaitable[list[Row]]] = main
    return anyio.run(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", metavar="DIR", help="Build the store in DIR and keep it; reuse it when it is there.")
    args = parser.parse_args()
    projects, tasks = (4, 1000) if args.quick else (20, 5000)
    os.environ.pop("TPMSYNC_ASANA_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.keep and (workdir / "built.json").is_file():
            config, total, sync_s = workdir / "tpmsync.toml", *json.loads((workdir / "built.json").read_text())
            refresh(config)
        else:
            config, total, sync_s = build_store(workdir, projects, tasks)
            (workdir / "built.json").write_text(json.dumps([total, sync_s]))
        tables = {"stdio": over_stdio(config, args.runs), "streamable HTTP": over_http(config, args.runs)}
    print(f"# tpmsync mcp benchmark — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print(f"Store: {projects} projects × {tasks:,} member tasks ({total:,} tasks with subtasks) in SQLite, "
          f"synced in {sync_s:.1f} s, KPI snapshots current. Median and best of {args.runs} calls; "
          f"load average {os.getloadavg()[0]:.1f} at the end.")
    for transport, rows in tables.items():
        print()
        print(f"| {transport} | median s | best s | server CPU s | client CPU s | answer |")
        print("|---|---|---|---|---|---|")
        for label, median, best, server, client, size in rows:
            print(f"| {label} | {median:.3f} | {best:.3f} | {_cpu(server)} | {_cpu(client)} | {size} |")


def _cpu(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.3f}"


if __name__ == "__main__":
    main()
