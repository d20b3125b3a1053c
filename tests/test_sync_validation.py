"""Validated input: a record that does not match Asana's shape is rejected whole, in one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from tests.sync_support import TOKEN, assert_store_matches, make_settings, sync, with_projects
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import Task

TODAY = date(2026, 11, 25)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=9, projects=1, tasks_per_project=25, subtask_ratio=0.3, today=TODAY)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def stored(store: Store) -> set[str]:
    with store.read() as session:
        return set(session.scalars(select(Task.gid)))


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("completed", "false", "completed"),
        ("completed", "yes", "completed"),
        ("name", 12345, "name"),
        ("num_subtasks", "many", "num_subtasks"),
        ("memberships", "Website relaunch", "memberships"),
        ("due_on", "next week", "due_on"),
        ("custom_fields", [{"gid": "77", "number_value": "12"}], "custom_fields.0.number_value"),
    ],
)
def test_a_record_not_matching_asanas_shape_is_rejected_whole_and_the_run_says_partial(
    store: Store, server: SandboxServer, workspace: Workspace, field: str, value: object, named: str
) -> None:
    p1 = next(iter(workspace.projects))
    settings = with_projects(make_settings(server.base_url, store.url, workspace), (p1,))
    victim = next(g for g in workspace.project_member_gids(p1) if not workspace.tasks[g].completed)
    server.faults.corrupt_task(victim, field, value)
    first = sync(store, settings)
    assert first.outcome == "partial"
    assert first.error is not None and "\n" not in first.error
    assert first.error.startswith("GET /tasks: rejected task ") and victim in first.error
    assert f"field {named} " in first.error
    assert victim not in stored(store)  # nothing of it written
    others = workspace.project_task_gids(p1) - {victim} - set(workspace.descendant_gids(victim))
    assert others <= stored(store)  # the rest of the page is in

    server.faults.clear()
    second = sync(store, settings)  # Asana answers right again: the next plain sync repairs it
    assert second.outcome == "ok", second.error
    assert_store_matches(store, workspace, [p1])
