"""Two real worker processes against one PostgreSQL schema: exactly one leads; SIGKILL it and the
other takes over within `failover_seconds` and runs the next jobs; the daily report that both ran
reaches the webhook once. Then a worker stopped politely mid-sync finishes it and exits 0."""

from __future__ import annotations

import http.server
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests import day_support
from tests.scheduler.scheduler_support import WorkerProcess, runs, wait_for
from tests.sync_support import TOKEN, make_settings
from tpmsync.jobs import sync_job
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.schedule.leader import LEADER_KEY
from tpmsync.store.db import Store, open_store
from tpmsync.store.models import Delivery

FAILOVER = 3
HOOK_PATH = "/hooks/T0KEN-IN-THE-PATH-9f8e7d"
HOOK_SECRET = "hmac-secret-5b4a39"


class Hook:
    """A webhook receiver on 127.0.0.1 that counts the POSTs it gets."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str]]] = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.posts.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{HOOK_PATH}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.close()


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=5, projects=2, tasks_per_project=30, today=day_support.today())


@pytest.fixture
def sandbox(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as server:
        yield server


@pytest.fixture
def pg_store(pg_schema_url: str) -> Iterator[Store]:
    """The PostgreSQL store of the test (the `store` fixture would also run SQLite)."""
    store = open_store(pg_schema_url)
    yield store
    store.dispose()


def leader_locks(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :k "
            "AND objid = hashtext(current_schema())::oid AND objsubid = 2"
        ), {"k": LEADER_KEY}).scalar() or 0)


def write_config(tmp_path: Path, sandbox: SandboxServer, workspace: Workspace, url: str, schedule: str) -> Path:
    projects = ", ".join(f'"{p}"' for p in workspace.projects)
    config = tmp_path / "tpmsync.toml"
    config.write_text(
        f'[asana]\nbase_url = "{sandbox.base_url}"\nworkspace = "{workspace.asana_workspace.gid}"\n'
        f'projects = [{projects}]\nbackoff_base_seconds = 0.01\n'
        f'[database]\nurl = "{url}"\n'
        '[channels.ops-hook]\ntype = "webhook"\nurl_env = "OPS_WEBHOOK_URL"\nsecret_env = "OPS_WEBHOOK_SECRET"\n'
        f"[schedule]\nfailover_seconds = {FAILOVER}\n{schedule}",
        encoding="utf-8",
    )
    return config


@pytest.mark.postgres
def test_one_leader_a_killed_leader_is_replaced_and_the_report_is_delivered_once(
    tmp_path: Path, pg_store: Store, sandbox: SandboxServer, workspace: Workspace, hook: Hook
) -> None:
    schedule = (
        "[schedule.sync]\nevery_seconds = 2\n"
        '[schedule.daily-report]\nevery_seconds = 2\nreport = "daily"\nchannels = ["ops-hook"]\n'
    )
    config = write_config(tmp_path, sandbox, workspace, pg_store.url, schedule)
    sync_job(pg_store, make_settings(sandbox.base_url, pg_store.url, workspace))  # data for the reports
    env = {"TPMSYNC_ASANA_TOKEN": TOKEN, "OPS_WEBHOOK_URL": hook.url, "OPS_WEBHOOK_SECRET": HOOK_SECRET}
    a = WorkerProcess("worker-a", config, env, tmp_path / "a.log")
    b: WorkerProcess | None = None
    try:
        wait_for(a.leads, 20, "worker-a to lead")
        b = WorkerProcess("worker-b", config, env, tmp_path / "b.log")
        wait_for(lambda: b is not None and b.logged(lambda line: "stands by" in str(line.get("msg"))), 20,
                 "worker-b to stand by")
        wait_for(lambda: len(hook.posts) == 1 and len(a.job_runs("sync")) >= 2, 30,
                 "worker-a to deliver the report and sync twice")
        assert b.job_runs() == []
        assert {row.worker for row in runs(pg_store)} == {"worker-a"}
        assert leader_locks(pg_store) == 1  # one session holds the leader lock of this schema

        a.kill()  # SIGKILL: no release, no goodbye
        killed = time.monotonic()
        wait_for(b.leads, FAILOVER + 5, "worker-b to take over")
        took_over = time.monotonic() - killed
        assert took_over < FAILOVER, f"worker-b led {took_over:.1f}s after the kill"
        wait_for(lambda: b is not None and any(r["outcome"] == "ok" for r in b.job_runs("sync")), 20,
                 "worker-b to run the next sync")
        wait_for(lambda: b is not None and any(r["outcome"] == "ok" for r in b.job_runs("daily-report")), 20,
                 "worker-b to run the report job")
        assert b.stop() == 0
    finally:
        for worker in (a, b):
            if worker is not None:
                worker.close()

    assert len(hook.posts) == 1, hook.posts
    path, headers = hook.posts[0]
    assert path == HOOK_PATH
    assert headers["X-Tpmsync-Signature"].startswith("sha256=")
    by_worker = {(row.job, row.worker) for row in runs(pg_store) if row.outcome == "ok"}
    assert {("daily-report", "worker-a"), ("daily-report", "worker-b"), ("sync", "worker-b")} <= by_worker
    with pg_store.read() as session:
        deliveries = list(session.scalars(select(Delivery)))
    assert [(d.channel, d.status, d.attempts) for d in deliveries] == [("ops-hook", "sent", 1)]
    for worker in (a, b):
        assert worker is not None
        text = worker.text()
        for secret in (HOOK_SECRET, "T0KEN-IN-THE-PATH", TOKEN):
            assert secret not in text, f"{secret!r} in {worker.name}'s log"
    assert b is not None and b.logged(lambda line: "stopped" in str(line.get("msg")))


def test_on_sqlite_a_killed_leaders_lease_runs_out_and_the_standby_takes_over(
    tmp_path: Path, sandbox: SandboxServer, workspace: Workspace
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    config = write_config(tmp_path, sandbox, workspace, url, "[schedule.sync]\nevery_seconds = 1\n")
    env = {"TPMSYNC_ASANA_TOKEN": TOKEN, "OPS_WEBHOOK_URL": "http://127.0.0.1:9/unused"}
    a = WorkerProcess("lease-a", config, env, tmp_path / "a.log")
    b: WorkerProcess | None = None
    try:
        wait_for(lambda: a.leads() and a.job_runs("sync"), 20, "lease-a to lead and sync")
        b = WorkerProcess("lease-b", config, env, tmp_path / "b.log")
        wait_for(lambda: b is not None and b.logged(lambda line: "stands by" in str(line.get("msg"))), 20,
                 "lease-b to stand by")
        a.kill()
        killed = time.monotonic()
        wait_for(b.leads, FAILOVER + 5, "lease-b to take over")
        assert time.monotonic() - killed < FAILOVER  # the lease lasts ⅔ of it
        wait_for(lambda: b is not None and b.job_runs("sync"), 10, "lease-b to run the next sync")
        assert b.stop() == 0
    finally:
        for worker in (a, b):
            if worker is not None:
                worker.close()
        store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_finishes_the_job_in_flight_then_exits_cleanly(
    tmp_path: Path, pg_store: Store, sandbox: SandboxServer, workspace: Workspace, stop: signal.Signals
) -> None:
    config = write_config(tmp_path, sandbox, workspace, pg_store.url, "[schedule.sync]\nevery_minutes = 60\n")
    sandbox.faults.latency_ms = 150  # a sync of a few seconds
    worker = WorkerProcess("polite", config, {"TPMSYNC_ASANA_TOKEN": TOKEN}, tmp_path / "w.log")
    try:
        wait_for(lambda: any(row.outcome == "running" for row in runs(pg_store, "sync")), 20, "the sync to start")
        worker.proc.send_signal(stop)  # once: a second signal would stop it at once
        assert worker.wait(timeout=60) == 0
    finally:
        worker.close()
    (row,) = runs(pg_store, "sync")
    assert row.outcome == "ok"
    assert row.finished_at is not None and row.duration_seconds is not None and row.duration_seconds > 0.3
    assert worker.logged(lambda line: f"{stop.name}: finishing the job in flight" in str(line.get("msg")))
    (line,) = worker.job_runs("sync")
    assert line["outcome"] == "ok" and line["duration_s"] > 0.3
    assert worker.logged(lambda line: "stopped" in str(line.get("msg")))
