"""Complete data whatever happened before: interrupted runs, tasks joining a project, stale
outside dependencies, partial listings. Real HTTP against the sandbox, SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from tests.sync_support import TOKEN, assert_store_matches, make_settings, sync, with_projects
from tpmsync.config import Settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import Task, UnreadableTask
from tpmsync.sync import NoProgress, ProjectResult

TODAY = date(2026, 11, 25)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=9, projects=3, tasks_per_project=25, subtask_ratio=0.3, today=TODAY)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def outside_dependencies(ws: Workspace, projects: list[str]) -> set[str]:
    inside = set().union(*(ws.project_task_gids(p) for p in projects))
    return {d for g in inside for d in ws.tasks[g].dependency_gids} - inside


def stored(store: Store) -> dict[str, Task]:
    with store.read() as session:
        return {t.gid: t for t in session.scalars(select(Task))}


class StopAnsweringAfterTheProjects(NoProgress):
    """Interrupts a run right after its projects are in: the server stops answering."""

    def __init__(self, server: SandboxServer, projects: int) -> None:
        self.server = server
        self.left = projects

    def project_finished(self, result: ProjectResult) -> None:
        self.left -= 1
        if self.left == 0:
            self.server.faults.error_rate = 1.0


def test_an_interrupted_first_sync_is_completed_by_the_next_plain_sync(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    projects = list(workspace.projects)[:2]
    outside = outside_dependencies(workspace, projects)
    assert outside, "the workspace must have tasks outside the projects that project tasks depend on"
    settings = with_projects(make_settings(server.base_url, store.url, workspace, max_retries=1), tuple(projects))
    first = sync(store, settings, progress=StopAnsweringAfterTheProjects(server, len(projects)))
    assert first.outcome != "ok"
    assert not outside <= set(stored(store))  # the interruption left them undone
    server.faults.clear()

    second = sync(store, settings)
    assert second.outcome == "ok", second.error
    rows = stored(store)
    assert outside <= set(rows)
    for gid in outside:
        assert rows[gid].completed == workspace.tasks[gid].completed
    assert_store_matches(store, workspace, projects)


def test_a_task_entering_a_project_brings_its_whole_subtree(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    p1, p2, p3 = list(workspace.projects)
    settings = with_projects(make_settings(server.base_url, store.url, workspace), (p1, p2))
    outside = sorted(outside_dependencies(workspace, [p1, p2]) - workspace.project_task_gids(p3))
    assert outside, "an orphan task that tracked tasks depend on"
    untracked = [g for g in workspace.project_member_gids(p3) if not workspace.tasks[g].subtask_gids]
    multi_homed, moved_in, added = untracked[:3]
    orphan = outside[0]
    workspace.remove_from_project(added, p3)  # a task in no project
    for parent in (multi_homed, moved_in, added, orphan):
        child = workspace.add_subtask(parent, name=f"Child of {parent}")
        workspace.add_subtask(child.gid, name="Grandchild")
    first = sync(store, settings)
    assert first.outcome == "ok", first.error
    assert orphan in stored(store)  # known as an outside dependency, its subtasks not

    workspace.add_to_project(multi_homed, p1)
    workspace.move_task(moved_in, p3, p2)
    workspace.add_to_project(added, p1)
    workspace.add_to_project(orphan, p2)
    second = sync(store, settings)
    assert second.outcome == "ok", second.error
    assert {p.mode for p in second.projects} == {"incremental"}
    assert_store_matches(store, workspace, [p1, p2])



def test_one_bad_project_name_stops_only_that_project(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    p1, p2, _p3 = list(workspace.projects)
    names = (workspace.projects[p1].name, "No such project", p2)
    result = sync(store, with_projects(make_settings(server.base_url, store.url, workspace), names))
    assert result.outcome == "partial"
    assert result.error is not None and result.error.startswith("no project named 'No such project'")
    assert [p.error is None for p in result.projects] == [True, True, False]
    assert_store_matches(store, workspace, [p1, p2])


def test_open_outside_dependencies_are_refreshed_at_most_every_outside_refresh_minutes(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    projects = list(workspace.projects)[:2]
    settings = with_projects(make_settings(server.base_url, store.url, workspace), tuple(projects))
    outside = sorted(g for g in outside_dependencies(workspace, projects) if not workspace.tasks[g].completed)
    assert outside
    start = datetime.now(UTC).replace(tzinfo=None)
    assert sync(store, settings, clock=lambda: start).outcome == "ok"
    workspace.complete_task(outside[0])  # outside the tracked projects: no event reaches them

    soon = sync(store, settings, clock=lambda: start + timedelta(minutes=59))
    assert soon.requests == len(projects)  # one request per project when nothing changed
    assert stored(store)[outside[0]].completed is False

    later = sync(store, settings, clock=lambda: start + timedelta(minutes=61))
    assert later.outcome == "ok"
    assert later.requests == len(projects) + math.ceil(len(outside) / 10)  # the batch API, ten a request
    assert stored(store)[outside[0]].completed is True
    again = sync(store, settings, clock=lambda: start + timedelta(minutes=62))
    assert again.requests == len(projects)


def test_a_partial_answer_never_mass_deletes(store: Store) -> None:
    ws = generate_workspace(seed=2, projects=1, tasks_per_project=250, subtask_ratio=0, with_dependencies=False,
                            today=TODAY)
    project = next(iter(ws.projects))
    with SandboxServer(ws, token=TOKEN) as srv:
        settings = make_settings(srv.base_url, store.url, ws)
        assert sync(store, settings).outcome == "ok"
        srv.faults.short_listing_next(1)  # the listing ends after its first page of 100
        srv.faults.batch_missing_next(150)  # and asking for the rest answers 404 once
        result = sync(store, settings, full=True)
        assert result.outcome == "ok", result.error
        assert result.tasks_deleted == 0
        assert_store_matches(store, ws)
        # a real deletion of many tasks is still recorded: Asana says gone twice
        doomed = ws.project_member_gids(project)[:100]
        for gid in doomed:
            ws.delete_task(gid)
        gone = sync(store, settings, full=True)
        assert gone.tasks_deleted == 100
        assert_store_matches(store, ws)


def unreadable(store: Store) -> dict[str, datetime]:
    with store.read() as session:
        return {row.gid: row.checked_at for row in session.scalars(select(UnreadableTask))}


def two_projects_no_refresh(server: SandboxServer, store: Store, workspace: Workspace) -> Settings:
    """The first two projects, with outside dependencies the store holds never due for a refresh."""
    p1, p2, _p3 = list(workspace.projects)
    settings = make_settings(server.base_url, store.url, workspace, outside_refresh_minutes=100_000)
    return with_projects(settings, (p1, p2))


def test_an_outside_dependency_asana_will_not_show_is_asked_for_weekly_or_when_newly_depended_on(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    p1, p2, _p3 = list(workspace.projects)
    settings = two_projects_no_refresh(server, store, workspace)  # every batch request below is for the hidden one
    hidden = sorted(outside_dependencies(workspace, [p1, p2]))[0]
    workspace.hide_task(hidden)  # in a project the token cannot see: 403
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def sync_at(after: timedelta) -> int:
        """Sync at `start + after`; the number of batch requests it made."""
        server.stats.reset()
        result = sync(store, settings, clock=lambda: start + after)
        assert result.outcome == "ok", result.error
        assert result.requests == server.stats.total
        return server.stats[("POST", "/batch")]

    assert sync_at(timedelta(0)) >= 1
    assert hidden not in stored(store) and unreadable(store) == {hidden: start}
    for idle in (timedelta(minutes=5), timedelta(hours=2), timedelta(days=6, hours=23)):
        assert sync_at(idle) == 0, idle  # remembered: no request for it
        assert server.stats.total == 2  # one events request per project
    week = timedelta(days=7, minutes=1)
    assert sync_at(week) == 1  # a week on, asked once more, still 403
    assert unreadable(store) == {hidden: start + week}
    assert sync_at(week + timedelta(minutes=1)) == 0

    dependent = sorted(g for g in workspace.project_member_gids(p1) if hidden not in workspace.tasks[g].dependency_gids)
    workspace.add_dependency(dependent[0], hidden)  # a tracked task newly depends on it: asked at once
    workspace.hide_task(hidden, hidden=False)  # and now it can be read
    assert sync_at(week + timedelta(minutes=2)) >= 1
    assert hidden in stored(store) and unreadable(store) == {}
    assert_store_matches(store, workspace, [p1, p2])


def test_a_deleted_outside_dependency_is_remembered_like_a_hidden_one(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    """404: the task is gone (the sandbox answers the batch action as if deleted)."""
    p1, p2, _p3 = list(workspace.projects)
    settings = two_projects_no_refresh(server, store, workspace)
    outside = sorted(outside_dependencies(workspace, [p1, p2]))
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    assert sync(store, settings, clock=lambda: start).outcome == "ok"
    gone = outside[0]
    with store.write() as session:  # as if its first fetch had been interrupted
        session.execute(delete(Task).where(Task.gid == gone))
    server.faults.batch_missing_next(1)
    server.stats.reset()
    assert sync(store, settings, clock=lambda: start + timedelta(minutes=5)).outcome == "ok"
    assert server.stats[("POST", "/batch")] == 1 and unreadable(store) == {gone: start + timedelta(minutes=5)}
    server.stats.reset()
    assert sync(store, settings, clock=lambda: start + timedelta(minutes=10)).outcome == "ok"
    assert server.stats[("POST", "/batch")] == 0 and server.stats.total == 2
