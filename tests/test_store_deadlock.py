"""A deadlock victim is written again: projects are synced side by side, two of them may write the
same rows (a task in both), and PostgreSQL then rolls one transaction back whole (SQLSTATE 40P01).
A project's row is written the same way.

PostgreSQL itself raises the error here: a statement trigger fails the first `fail` writes of the
tasks table with `deadlock_detected`, counted by a sequence (a sequence is not rolled back with
the transaction, so the count survives the victim's rollback).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tpmsync.store import sync_state
from tpmsync.store.db import Store, open_store
from tpmsync.store.models import Project, Task
from tpmsync.store.rows import TaskRows
from tpmsync.sync.mapping import map_project, map_task

pytestmark = pytest.mark.postgres

PAGE = json.loads((Path(__file__).parent / "data" / "tasks_page.json").read_text())
PROJECT = "1200000000000002"
NOW = datetime(2026, 11, 20, 9)


@pytest.fixture
def pg_store(pg_schema_url: str) -> Iterator[Store]:
    store = open_store(pg_schema_url)
    sync_state.write_project(store, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=NOW)
    sync_state.write_tasks(store, rows(), now=NOW, run_id=1, known_projects={PROJECT})
    try:
        yield store
    finally:
        store.dispose()


def rows() -> list[TaskRows]:
    return [map_task(r) for r in copy.deepcopy(PAGE["data"])]


def fail_writes(store: Store, fail: int, table: str = "tasks") -> None:
    """The next `fail` statements writing `table` are deadlock victims."""
    with store.write() as session:
        session.execute(text("CREATE SEQUENCE victims"))
        session.execute(
            text(
                "CREATE FUNCTION deadlock_victim() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF nextval('victims') <= {fail} THEN "
                "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END IF; "
                "RETURN NULL; END $$"
            )
        )
        session.execute(
            text(
                f"CREATE TRIGGER deadlock_victim BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION deadlock_victim()"
            )
        )


def victims(store: Store) -> int:
    with store.read() as session:
        return int(session.execute(text("SELECT last_value FROM victims")).scalar_one())


def test_tombstones_that_lose_a_deadlock_are_written_again(pg_store: Store) -> None:
    gid = PAGE["data"][0]["gid"]
    fail_writes(pg_store, 2)
    assert sync_state.write_tombstones(pg_store, [gid], now=NOW, run_id=2) >= 1
    assert victims(pg_store) >= 3  # two victims, then the write that went through
    with pg_store.read() as session:
        assert session.scalar(select(Task.deleted_at).where(Task.gid == gid)) == NOW


def test_a_page_of_tasks_that_loses_a_deadlock_is_written_again(pg_store: Store) -> None:
    fail_writes(pg_store, 1)
    assert sync_state.write_tasks(pg_store, rows(), now=NOW, run_id=2, known_projects={PROJECT}) == len(PAGE["data"])


def test_a_project_that_loses_a_deadlock_is_written_again(pg_store: Store) -> None:
    fail_writes(pg_store, 1, table="projects")
    sync_state.write_project(pg_store, map_project({"gid": PROJECT, "name": "Website relaunch v2"}), now=NOW)
    assert victims(pg_store) >= 2
    with pg_store.read() as session:
        assert session.scalar(select(Project.name).where(Project.gid == PROJECT)) == "Website relaunch v2"


def test_a_write_that_keeps_losing_is_raised_and_leaves_the_store_as_it_was(pg_store: Store) -> None:
    gid = PAGE["data"][0]["gid"]
    fail_writes(pg_store, 1000)
    with pytest.raises(OperationalError, match="deadlock detected"):
        sync_state.write_tombstones(pg_store, [gid], now=NOW, run_id=2)
    assert victims(pg_store) == sync_state.DEADLOCK_RETRIES + 1
    with pg_store.read() as session:
        assert session.scalar(select(Task.deleted_at).where(Task.gid == gid)) is None
