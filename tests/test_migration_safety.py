"""Migrations all-or-nothing on SQLite too, processes meeting a new database take turns, and long
names do not abort a sync on PostgreSQL (issue 9, item 11)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect

from tests.sync_support import TOKEN, assert_store_matches, make_settings, sync
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.store.db import Store, head_revision, open_store


class Interrupt(Exception):
    pass


def test_a_migration_interrupted_midway_leaves_nothing_behind_and_the_next_open_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    created: list[str] = []

    def die_at_the_fourth_table(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)
            if len(created) == 4:
                raise Interrupt("killed")  # as a SIGKILL would stop it, after three tables

    event.listen(Engine, "before_cursor_execute", die_at_the_fourth_table)
    try:
        with pytest.raises(Interrupt):
            open_store(url)
    finally:
        event.remove(Engine, "before_cursor_execute", die_at_the_fourth_table)
    probe = Store(url)
    try:
        with probe.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # the three tables were rolled back
    finally:
        probe.dispose()
    store = open_store(url)
    try:
        assert store.current_revision() == head_revision()
    finally:
        store.dispose()


OPEN = "import sys; from tpmsync.store.db import open_store; open_store(sys.argv[1]).dispose(); print('ok')"


def test_processes_meeting_a_brand_new_database_take_turns(database_url: str) -> None:
    children = [
        subprocess.Popen([sys.executable, "-c", OPEN, database_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(4)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0 and out.strip() == "ok", err[-2000:]
    store = open_store(database_url)
    try:
        assert store.current_revision() == head_revision()
    finally:
        store.dispose()


@pytest.fixture
def long_names() -> Iterator[SandboxServer]:
    ws = generate_workspace(seed=6, projects=1, tasks_per_project=10, subtask_ratio=0, today=date(2026, 11, 25))
    project = next(iter(ws.projects))
    ws.edit_project(project, name="P" * 1500)
    first = ws.project_member_gids(project)[0]
    ws.edit_task(first, name="T" * 5000)
    with SandboxServer(ws, token=TOKEN) as srv:
        yield srv


def test_names_longer_than_1024_characters_do_not_abort_a_sync(long_names: SandboxServer, store: Store) -> None:
    ws = long_names.workspace
    result = sync(store, make_settings(long_names.base_url, store.url, ws))
    assert result.outcome == "ok", result.error
    with store.read() as session:
        from tpmsync.store.models import Project, Task

        project = session.get(Project, next(iter(ws.projects)))
        task = session.get(Task, ws.project_member_gids(next(iter(ws.projects)))[0])
        assert project is not None and task is not None
        assert project.name.startswith("PPP") and project.name.endswith("…") and len(project.name) == 1024
        assert task.name == "T" * 5000  # a text column: kept whole
    assert_store_matches(store, ws)
