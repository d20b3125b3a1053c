"""Bad input and bad luck: killed syncs, two syncs at once, wrong tokens, broken answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.sync_support import TOKEN, assert_store_matches, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.lock import LockBusy, SyncLock
from tpmsync.store.models import SyncRun, Task

TODAY = date(2026, 11, 25)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=9, projects=2, tasks_per_project=30, subtask_ratio=0.3, today=TODAY)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def write_config(tmp_path: Path, server: SandboxServer, ws: Workspace, database_url: str,
                 projects: list[str] | None = None, extra: str = "") -> Path:
    return sandbox_config(tmp_path / "tpmsync.toml", server.base_url, ws, database_url, projects=projects,
                          asana_extra=f"backoff_base_seconds = 0.001\n{extra}")


def task_count(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Task)) or 0


def test_a_sync_killed_mid_page_is_completed_by_the_next_run(
    tmp_path: Path, store: Store, database_url: str
) -> None:
    ws = generate_workspace(seed=4, projects=3, tasks_per_project=400, subtask_ratio=0.2, today=TODAY)
    with SandboxServer(ws, token=TOKEN) as srv:
        srv.faults.latency_ms = 150
        config = write_config(tmp_path, srv, ws, database_url, extra="sync_workers = 1\n")
        env = {**os.environ, "TPMSYNC_CONFIG": str(config), "TPMSYNC_ASANA_TOKEN": TOKEN}
        log = tmp_path / "child.log"
        with log.open("w") as out:
            child = subprocess.Popen([sys.executable, "-m", "tpmsync", "sync"], env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while task_count(store) < 100 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        assert child.poll() is None, f"the sync ended before it could be killed: {log.read_text()}"
        child.send_signal(signal.SIGKILL)
        child.wait()
        partial = task_count(store)
        assert 0 < partial < len(ws.tasks)
        srv.faults.latency_ms = 0
        result = sync(store, make_settings(srv.base_url, store.url, ws))
        assert result.outcome == "ok"
        assert_store_matches(store, ws)
        with store.read() as session:
            outcomes = [r.outcome for r in session.scalars(select(SyncRun).order_by(SyncRun.id))]
        assert outcomes == ["interrupted", "ok"]


def test_a_second_sync_exits_saying_another_one_runs(
    tmp_path: Path, store: Store, database_url: str, server: SandboxServer, workspace: Workspace
) -> None:
    config = write_config(tmp_path, server, workspace, database_url)
    lock = SyncLock(store)
    lock.acquire()
    try:
        result = CliRunner().invoke(main, ["--config", str(config), "sync"], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
        assert result.exit_code == 1
        assert "another tpmsync sync is running" in result.output
        with pytest.raises(LockBusy):
            SyncLock(store).acquire(wait_seconds=0.3)
    finally:
        lock.release()
    assert task_count(store) == 0


@pytest.mark.parametrize(
    ("case", "exit_code", "message"),
    [
        ("wrong token", 1, "Asana rejected the token (401"),
        ("unknown project", 1, "no project named 'Nope'"),
        ("malformed config", 2, "asana.projects must be a list"),
        ("no token", 1, "no Asana token"),
    ],
)
def test_bad_input_gives_one_line_a_non_zero_exit_and_an_untouched_store(
    tmp_path: Path, store: Store, database_url: str, server: SandboxServer, workspace: Workspace,
    case: str, exit_code: int, message: str,
) -> None:
    config = write_config(tmp_path, server, workspace, database_url,
                          projects=["Nope"] if case == "unknown project" else None)
    if case == "malformed config":
        config.write_text(config.read_text().replace("projects = [", "projects = 5\nx = ["), encoding="utf-8")
    env = {"TPMSYNC_ASANA_TOKEN": "wrong" if case == "wrong token" else TOKEN, "ASANA_ACCESS_TOKEN": ""}
    if case == "no token":
        env["TPMSYNC_ASANA_TOKEN"] = ""
    result = CliRunner().invoke(main, ["--config", str(config), "sync"], env=env)
    assert result.exit_code == exit_code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert task_count(store) == 0


def test_garbage_and_server_errors_are_retried(store: Store, server: SandboxServer, workspace: Workspace) -> None:
    server.faults.garbage_next(2)
    server.faults.fail_next(2, 503)
    result = sync(store, make_settings(server.base_url, store.url, workspace))
    assert result.outcome == "ok"
    assert result.retries >= 4
    assert_store_matches(store, workspace)


def test_a_server_that_stays_down_gives_up_with_a_clear_message(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    from tpmsync.asana.client import AsanaError

    server.faults.fail_next(100, 500)
    with pytest.raises(AsanaError, match=r"server error 500; gave up after 3 attempts"):
        sync(store, make_settings(server.base_url, store.url, workspace, max_retries=2))
    assert task_count(store) == 0
