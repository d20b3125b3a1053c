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


WRONG_SHAPES = [  # (field, value served, field named in the line)
    ("completed", "false", "completed"),
    ("completed", "yes", "completed"),
    ("name", 12345, "name"),
    ("num_subtasks", "many", "num_subtasks"),
    ("memberships", "Website relaunch", "memberships"),
    ("due_on", "next week", "due_on"),
    ("custom_fields", [{"gid": "77", "number_value": "12"}], "custom_fields.0.number_value"),
]


def test_a_record_not_matching_asanas_shape_is_rejected_whole_and_the_run_says_partial(
    store: Store, server: SandboxServer, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    p1 = next(iter(workspace.projects))
    settings = with_projects(make_settings(server.base_url, store.url, workspace), (p1,))
    victims = [g for g in workspace.project_member_gids(p1) if not workspace.tasks[g].completed][: len(WRONG_SHAPES)]
    for victim, (field, value, _named) in zip(victims, WRONG_SHAPES, strict=True):
        server.faults.corrupt_task(victim, field, value)
    with caplog.at_level("WARNING", logger="tpmsync.sync.context"):
        first = sync(store, settings)
    assert first.outcome == "partial"
    assert first.error is not None and "\n" not in first.error
    assert first.error.startswith("GET /tasks: rejected task ")
    assert first.error.endswith(f"(+{len(WRONG_SHAPES) - 1} more rejected records, see the log)")
    rejected = {r.getMessage() for r in caplog.records if "rejected task" in r.getMessage()}
    for victim, (_field, _value, named) in zip(victims, WRONG_SHAPES, strict=True):
        line = next(m for m in rejected if f"rejected task {victim}:" in m)
        assert line.startswith("GET /tasks: ") and f"field {named} " in line and "\n" not in line
    have = stored(store)
    assert not set(victims) & have  # nothing of them written
    dropped = set(victims).union(*(workspace.descendant_gids(v) for v in victims))
    assert workspace.project_task_gids(p1) - dropped <= have  # the rest of each page is in

    server.faults.clear()
    second = sync(store, settings)  # Asana answers right again: the next plain sync repairs it
    assert second.outcome == "ok", second.error
    assert_store_matches(store, workspace, [p1])
