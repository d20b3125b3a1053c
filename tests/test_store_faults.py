"""Storage faults end in one line and exit code 3, with the store as it was (issue 9, item 10)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, select, text

from tests.sync_support import TOKEN, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store, StoreError, fault_of, open_store
from tpmsync.store.models import SyncState, Task
from tpmsync.sync import NoProgress

TODAY = date(2026, 11, 25)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=5, projects=2, tasks_per_project=30, subtask_ratio=0.2, today=TODAY)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def run_cli(args: list[str], config: Path | None = None, **env: str) -> Any:
    environment = {"TPMSYNC_ASANA_TOKEN": TOKEN, **env}
    if config is not None:
        environment["TPMSYNC_CONFIG"] = str(config)
    return CliRunner().invoke(main, args, env=environment)


def one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"this is not a database\n" * 200, b"SQLite format 3\x00" + b"\xff" * 4080])
def test_a_file_that_is_not_a_tpmsync_sqlite_store_gives_one_line_and_is_left_alone(
    tmp_path: Path, server: SandboxServer, workspace: Workspace, content: bytes
) -> None:
    db = tmp_path / "tpmsync.db"
    db.write_bytes(content)
    before = digest(db)
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, f"sqlite:///{db}")
    for command in (["sync"], ["status"]):
        result = run_cli(command, config)
        line = one_line_error(result.output)
        assert result.exit_code == 3, (command, result.output)
        assert str(db) in line and "not a tpmsync SQLite database" in line, line
        assert digest(db) == before


def test_postgres_urls_are_accepted_and_unsupported_ones_say_what_is(pg_schema_url: str) -> None:
    store = open_store(pg_schema_url.replace("postgresql+psycopg://", "postgres://"))
    try:
        assert store.dialect == "postgresql"
        with store.read() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        store.dispose()
    result = run_cli(["--database-url", "mysql://me@127.0.0.1/tpmsync", "status"])
    line = one_line_error(result.output)
    assert result.exit_code == 3
    assert "uses mysql" in line and "sqlite:///" in line and "postgresql://" in line


def test_a_full_disk_stops_the_sync_with_one_line_and_a_consistent_store(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    db = tmp_path / "tpmsync.db"
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, f"sqlite:///{db}")
    assert run_cli(["sync"], config).exit_code == 0
    store = open_store(f"sqlite:///{db}")
    with store.read() as session:
        pages = int(session.execute(text("PRAGMA page_count")).scalar() or 0)
        cursors = {s.project_gid: s.events_sync_token for s in session.scalars(select(SyncState))}
        tasks_before = set(session.scalars(select(Task.gid)))
    store.dispose()
    project = next(iter(workspace.projects))
    for n in range(300):
        workspace.add_task(project, name=f"Padding {n} " + "x" * 200, notes="y" * 2000)

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is full

    event.listen(Engine, "connect", no_room)
    try:
        result = run_cli(["sync"], config)
    finally:
        event.remove(Engine, "connect", no_room)
    line = one_line_error(result.output)
    assert result.exit_code == 3
    assert "disk is full" in line and str(db) in line
    store = open_store(f"sqlite:///{db}")
    try:
        with store.read() as session:
            state = session.get(SyncState, project)
            assert state is not None and state.events_sync_token == cursors[project]  # it reads them again
            assert set(session.scalars(select(Task.gid))) == tasks_before
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        store.dispose()


class DeleteTheFile(NoProgress):
    def __init__(self, path: Path) -> None:
        self.path = path

    def tasks_saved(self, gid: str, count: int) -> None:
        if self.path.exists():
            self.path.unlink()


def test_a_database_file_deleted_mid_sync_fails_the_run(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    db = tmp_path / "store.db"
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(StoreError, match="was deleted or replaced during the sync") as caught:
            sync(store, make_settings(server.base_url, store.url, workspace), progress=DeleteTheFile(db))
        assert caught.value.exit_code == 3 and str(db) in str(caught.value)
    finally:
        store.dispose()


class KillTheConnections(NoProgress):
    """Terminates every PostgreSQL connection of the store once the first page is saved."""

    def __init__(self, admin_url: str, pids: set[int]) -> None:
        self.admin_url = admin_url
        self.pids = pids
        self.done = False

    def tasks_saved(self, gid: str, count: int) -> None:
        if self.done:
            return
        self.done = True
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for pid in sorted(self.pids):
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
def test_a_postgres_connection_killed_mid_sync_names_the_cause(
    pg_schema_url: str, server: SandboxServer, workspace: Workspace
) -> None:
    from tests.conftest import PG_URL

    store = Store(pg_schema_url)
    pids: set[int] = set()

    def remember(dbapi_connection: Any, _record: Any) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    event.listen(store.engine, "connect", remember)
    store.ensure_schema()
    try:
        settings = make_settings(server.base_url, store.url, workspace, sync_workers=1)
        with pytest.raises(Exception) as caught:
            sync(store, settings, progress=KillTheConnections(PG_URL.replace("+psycopg", ""), pids))
        fault = caught.value if isinstance(caught.value, StoreError) else fault_of(caught.value, store.url)
        assert fault is not None, repr(caught.value)
        message = str(fault)
        assert message.startswith("lost the connection to PostgreSQL"), message
        assert "unlock" not in message and "\n" not in message
    finally:
        store.dispose()
