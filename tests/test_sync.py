"""Sync over real HTTP against the sandbox, through the real asana SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.sync_support import assert_store_matches, make_settings, store_project_set, sync, with_projects
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import SyncRun, SyncState, Task, TaskHistory

TODAY = date(2026, 11, 25)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=3, projects=3, tasks_per_project=40, subtask_ratio=0.4, today=TODAY)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace) as srv:
        yield srv


def test_full_sync_copies_the_workspace_exactly(store: Store, server: SandboxServer, workspace: Workspace) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    assert {p.mode for p in result.projects} == {"full"}
    assert_store_matches(store, workspace)
    with store.read() as session:
        states = list(session.scalars(select(SyncState)))
        assert len(states) == 3 and all(s.events_sync_token for s in states)
        run = session.get(SyncRun, result.run_id)
        assert run is not None and run.outcome == "ok" and run.requests == result.requests


def test_second_run_with_nothing_changed_makes_one_request_per_project(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    sync(store, settings)
    again = sync(store, settings)
    assert again.outcome == "ok"
    assert {p.mode for p in again.projects} == {"unchanged"}
    assert again.requests <= len(workspace.projects)
    assert again.tasks_upserted == 0


def test_incremental_picks_up_edits_completions_deletions_moves_and_subtasks(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    sync(store, settings)
    p1, p2, p3 = list(workspace.projects)
    members = workspace.project_member_gids(p1)
    open_tasks = [g for g in members if not workspace.tasks[g].completed]
    slipped = open_tasks[0]
    old_due = workspace.tasks[slipped].due_on or TODAY
    workspace.edit_task(slipped, due_on=date.fromordinal(old_due.toordinal() + 7).isoformat(), name="Renamed")
    workspace.complete_task(open_tasks[1])
    with_children = next(g for g in members if workspace.tasks[g].subtask_gids)
    workspace.delete_task(with_children)
    moved = open_tasks[2] if open_tasks[2] != with_children else open_tasks[3]
    workspace.move_task(moved, p1, p2)
    parent = next(g for g in workspace.project_member_gids(p3) if g in workspace.tasks)
    new_sub = workspace.add_subtask(parent, name="New subtask", due_on="2026-12-01")
    workspace.add_subtask(new_sub.gid, name="Grandchild")
    workspace.remove_from_project(workspace.project_member_gids(p2)[-1], p2)
    workspace.add_task(p3, name="Fresh task")

    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    assert_store_matches(store, workspace)
    assert result.tasks_deleted >= 1
    with store.read() as session:
        history = {(h.task_gid, h.field) for h in session.scalars(select(TaskHistory))}
        assert (slipped, "due_on") in history
        assert (open_tasks[1], "completed") in history
        assert (moved, "project") in history
        deleted = session.get(Task, with_children)
        assert deleted is not None and deleted.deleted_at is not None  # a tombstone, not a gap
    assert moved in store_project_set(store, p2) and moved not in store_project_set(store, p1)


def test_a_full_sync_makes_few_requests(store: Store) -> None:
    """P projects of N tasks without subtasks: at most P·⌈N/100⌉ + P + 5 requests."""
    ws = generate_workspace(seed=5, projects=4, tasks_per_project=250, subtask_ratio=0, with_dependencies=False,
                            today=TODAY)
    with SandboxServer(ws) as srv:
        settings = make_settings(srv.base_url, store.url, ws)
        result = sync(store, settings)
        assert result.outcome == "ok"
        p, n = 4, 250
        assert result.requests <= p * math.ceil(n / 100) + p + 5, result.requests
        again = sync(store, settings)
        assert again.requests <= p


def test_expired_event_token_falls_back_to_a_full_pass(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    sync(store, settings)
    gid = workspace.project_member_gids(next(iter(workspace.projects)))[0]
    workspace.edit_task(gid, name="Changed while the token expired")
    workspace.expire_sync_tokens()
    result = sync(store, settings)
    assert result.outcome == "ok"
    assert {p.mode for p in result.projects} == {"full"}
    assert_store_matches(store, workspace)


def test_faults_on_a_fifth_of_requests_still_end_with_an_exact_copy(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    server.faults.seed(1)
    server.faults.error_rate = 0.2
    settings = make_settings(server.base_url, store.url, workspace)
    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    assert result.retries > 0
    for gid in workspace.project_member_gids(next(iter(workspace.projects)))[:5]:
        workspace.complete_task(gid)
    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    server.faults.error_rate = 0.0
    assert_store_matches(store, workspace)


def test_projects_can_be_named_and_unknown_ones_fail_before_writing(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    settings = with_projects(make_settings(server.base_url, store.url, workspace), (first.name,))
    result = sync(store, settings)
    assert [p.gid for p in result.projects] == [first.gid]
    bad = with_projects(settings, ("No such project",))
    from tpmsync.sync import SyncError

    with pytest.raises(SyncError, match="no project named 'No such project'"):
        sync(store, bad)
    with pytest.raises(SyncError, match="not found"):
        sync(store, with_projects(settings, ("999999999",)))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 1


def test_a_wrong_token_fails_with_one_line_and_touches_nothing(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    from dataclasses import replace

    from tpmsync.asana.client import AsanaAuthError

    settings = make_settings(server.base_url, store.url, workspace)
    bad = replace(settings, asana=replace(settings.asana, token="wrong"))
    with pytest.raises(AsanaAuthError, match="401") as caught:
        sync(store, bad)
    assert "\n" not in str(caught.value)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
