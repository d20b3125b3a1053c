"""After a sync of some projects, the snapshot refresh computes only what that sync can have changed.

Three sandbox projects synced from generation order: the second one's open milestone waits on
an open task of the first (milestone networks cross projects); the third reads nothing of the
first. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests import day_support
from tests.sync_support import make_settings, sync
from tpmsync.config import FlowConfig, Settings
from tpmsync.jobs import sync_job
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.status import compute_status, fingerprint, refresh_snapshots
from tpmsync.store.db import Store
from tpmsync.store.snapshots import current_people, current_snapshots


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    return generate_workspace(seed=8, projects=3, tasks_per_project=30, with_dependencies=False, today=today)


@pytest.fixture
def settings(server: SandboxServer, store: Store, workspace: Workspace) -> Settings:
    return replace(make_settings(server.base_url, store.url, workspace), flow=FlowConfig())


def open_tasks(ws: Workspace, project: str, assignee: str | None = None) -> list[str]:
    """Open member tasks, not milestones, of one project only (not shared with another), assigned
    to `assignee` (None: to nobody, so that nobody's workload changes with them), by gid."""
    return sorted(
        (gid for gid in ws.project_member_gids(project)
         if not ws.tasks[gid].completed and len(ws.tasks[gid].memberships) == 1
         and ws.tasks[gid].resource_subtype != "milestone" and ws.tasks[gid].assignee_gid == assignee),
        key=int,
    )


def stored(store: Store, settings: Settings, gids: list[str], today: date) -> dict[str, dict[str, object]]:
    """Today's current snapshots (the fast `tpmsync status` path answers only when all are)."""
    with store.read() as session:
        current = current_snapshots(session, gids, today, fingerprint(settings))
    assert current is not None
    return {project["gid"]: project for project in current}


def test_a_sync_of_one_project_recomputes_it_and_the_projects_whose_milestones_wait_on_it(
    store: Store, settings: Settings, workspace: Workspace, today: date
) -> None:
    first, second, third = workspace.projects  # generation order: each shares a few tasks with the one before
    milestone = next(gid for gid in workspace.project_member_gids(second)
                     if workspace.tasks[gid].resource_subtype == "milestone")
    workspace.complete_task(milestone, completed=False)
    waited_on, other = open_tasks(workspace, first)[:2]
    workspace.add_dependency(milestone, waited_on)
    gids = list(workspace.projects)
    assert sync_job(store, settings).outcome == "ok"
    before = stored(store, settings, gids, today)

    # The first project changes: the task the milestone waits on slips by 30 days, another is done.
    slipped = workspace.tasks[waited_on].due_on or today
    workspace.edit_task(waited_on, due_on=(slipped + timedelta(days=30)).isoformat())
    workspace.complete_task(other)
    result = sync(store, settings, projects=[first])
    assert result.outcome == "ok"
    written = set().union(*(project.seen for project in result.projects))
    computed = refresh_snapshots(store, settings, run_id=result.run_id, synced={first}, written=written)

    assert {project["gid"] for project in computed} == {first, second}
    after = stored(store, settings, gids, today)  # every snapshot current: the third one re-stamped
    assert after[third] == before[third]
    assert after[first] != before[first]
    # Whatever was reused is what a refresh of everything computes now, people included.
    everything, people = compute_status(store, settings, today)
    assert {project["gid"]: project for project in everything} == after
    with store.read() as session:
        assert current_people(session, today, fingerprint(settings)) == people

    # An overloaded owner of the third project's critical path finishes work in the first project:
    # the third project's verdict reads their load, so it is computed again too.
    path = set(after[third]["dependencies"]["critical_path"])
    owner = next(p for p in people if p["overloaded"] and path.intersection(p["critical_task_gids"]))
    workspace.complete_task(open_tasks(workspace, first, owner["gid"])[0])
    result = sync(store, settings, projects=[first])
    written = set().union(*(project.seen for project in result.projects))
    computed = refresh_snapshots(store, settings, run_id=result.run_id, synced={first}, written=written)
    assert {project["gid"] for project in computed} == {first, second, third}

    # Through the job: a sync of the third project alone leaves every snapshot current.
    after = stored(store, settings, gids, today)
    workspace.complete_task(open_tasks(workspace, third)[0])
    assert sync_job(store, settings, projects=[third]).outcome == "ok"
    final = stored(store, settings, gids, today)
    assert final[first] == after[first] and final[second] == after[second]
    assert final[third] != after[third]


def test_a_task_of_two_projects_deleted_in_a_sync_of_one_recomputes_the_other(
    store: Store, settings: Settings, workspace: Workspace, today: date
) -> None:
    """The sync of the first project tombstones a task that is also a member of the third (which
    reads nothing else of the first): the third's counts change although the task is gone from
    every task set the refresh looks at."""
    first, _second, third = workspace.projects
    shared = workspace.add_task(first, name="Shared", assignee=None).gid  # nobody's load changes with it
    workspace.add_to_project(shared, third)
    gids = list(workspace.projects)
    assert sync_job(store, settings).outcome == "ok"
    before = stored(store, settings, gids, today)

    workspace.delete_task(shared)
    assert sync_job(store, settings, projects=[first]).outcome == "ok"
    after = stored(store, settings, gids, today)
    assert after[third]["tasks"]["open"] == before[third]["tasks"]["open"] - 1
    everything, _people = compute_status(store, settings, today)
    assert {project["gid"]: project for project in everything} == after
