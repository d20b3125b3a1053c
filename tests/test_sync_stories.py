"""Stories for flow over real HTTP against the sandbox: only with [flow], only for the tasks that
need them, ten tasks a batch request, section moves caught through the events stream."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import day_support
from tests.sync_support import make_settings, sync
from tpmsync.config import FlowConfig, Settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store, open_store
from tpmsync.store.models import TaskStory, TaskStorySync
from tpmsync.store.stories import load_stories

STARTED = ("In progress", "Review")
WINDOW_DAYS = 42
FLOW_KINDS = {"section_changed", "marked_complete", "marked_incomplete"}
STORIES_ROUTE = ("GET", "/tasks/{gid}/stories")


@pytest.fixture
def workspace() -> Workspace:
    # the first project holds the task with 111 stories (two pages)
    return generate_workspace(seed=7, projects=3, tasks_per_project=40, subtask_ratio=0.2, today=day_support.today())


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace) as srv:
        yield srv


def flow_settings(server: SandboxServer, store: Store, ws: Workspace, **flow: object) -> Settings:
    return replace(make_settings(server.base_url, store.url, ws), flow=FlowConfig(**flow))  # type: ignore[arg-type]


def section_gid(ws: Workspace, project: str, name: str) -> str:
    return next(s.gid for s in ws.sections.values() if s.project_gid == project and s.name == name)


def section_name(ws: Workspace, gid: str | None) -> str | None:
    return ws.sections[gid].name if gid is not None else None


def needing_stories(ws: Workspace, now: datetime) -> set[str]:
    """From the sandbox itself: member tasks open in a started section, or completed within the window."""
    since = now - timedelta(days=WINDOW_DAYS + 1)
    out: set[str] = set()
    with ws.lock:
        for project in ws.projects:
            for gid in ws.project_member_gids(project):
                task = ws.tasks[gid]
                section = next(m.section_gid for m in task.memberships if m.project_gid == project)
                if task.completed:
                    if task.completed_at is not None and task.completed_at >= since:
                        out.add(gid)
                elif section_name(ws, section) in STARTED:
                    out.add(gid)
    return out


def sandbox_flow_stories(ws: Workspace, tasks: set[str]) -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    return {
        gid: [(s.gid, s.resource_subtype, s.new_section_gid, s.old_section_gid)
              for s in ws.stories_for(gid) if s.resource_subtype in FLOW_KINDS]
        for gid in tasks
    }


def stored_flow_stories(store: Store, tasks: set[str]) -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    with store.read() as session:
        stored = load_stories(session, tasks)
    return {gid: [(s.gid, s.kind, s.new_section_gid, s.old_section_gid) for s in stored.get(gid, [])]
            for gid in tasks}


def baseline_requests(tmp_path: Path, server: SandboxServer, ws: Workspace) -> int:
    """The requests of the same first sync without [flow], into a store of its own."""
    other = open_store(f"sqlite:///{tmp_path / 'baseline.db'}")
    try:
        return sync(other, make_settings(server.base_url, other.url, ws)).requests
    finally:
        other.dispose()


def test_a_first_sync_reads_the_stories_of_exactly_the_tasks_that_need_them_ten_a_request(
    store: Store, server: SandboxServer, workspace: Workspace, tmp_path: Path
) -> None:
    without_flow = baseline_requests(tmp_path, server, workspace)
    server.reset_stats()
    result = sync(store, flow_settings(server, store, workspace, started_sections=STARTED, window_days=WINDOW_DAYS))
    assert result.outcome == "ok", result.error
    needed = needing_stories(workspace, datetime.now(UTC))
    projects = len(workspace.projects)
    story_requests = result.requests - without_flow
    # each project batches its own tasks (a partly filled batch each), plus one GET for the 111-story task
    assert math.ceil(len(needed) / 10) <= story_requests <= math.ceil(len(needed) / 10) + projects + 1, (
        story_requests, len(needed))
    assert server.stats[STORIES_ROUTE] == 1  # the second page of the bouncing task, read on its own
    with store.read() as session:
        marked = set(session.scalars(select(TaskStorySync.task_gid)))
        stored_tasks = set(session.scalars(select(TaskStory.task_gid).distinct()))
    assert marked == needed
    assert stored_tasks <= needed
    assert stored_flow_stories(store, needed) == sandbox_flow_stories(workspace, needed)
    bouncing = max(needed, key=lambda gid: len(workspace.stories_for(gid)))
    assert len(stored_flow_stories(store, {bouncing})[bouncing]) > 100

    server.reset_stats()
    idle = sync(store, flow_settings(server, store, workspace, started_sections=STARTED, window_days=WINDOW_DAYS))
    assert idle.requests <= projects
    assert {p.mode for p in idle.projects} == {"unchanged"}


def test_no_story_is_read_without_flow_or_for_a_project_with_no_started_section(
    store: Store, server: SandboxServer, workspace: Workspace, tmp_path: Path
) -> None:
    without_flow = sync(store, make_settings(server.base_url, store.url, workspace))
    assert server.stats[STORIES_ROUTE] == 0
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(TaskStory)) == 0
        assert session.scalar(select(func.count()).select_from(TaskStorySync)) == 0
    other = open_store(f"sqlite:///{tmp_path / 'no-started.db'}")
    try:
        settings = flow_settings(server, other, workspace, started_sections=("Doing",))
        assert sync(other, settings).requests == without_flow.requests  # no batch for stories at all
        first = next(iter(workspace.projects))
        overridden = flow_settings(server, other, workspace, started_sections=("Doing",),
                                   project_started_sections={first: ("In progress",)})
        sync(other, overridden)  # only the first project has a started section now
        with other.read() as session:
            marked = set(session.scalars(select(TaskStorySync.task_gid)))
        assert marked and all(any(m.project_gid == first for m in workspace.tasks[g].memberships) for g in marked)
    finally:
        other.dispose()


def test_incremental_sync_catches_section_moves_and_completions_and_rereads_only_those(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    settings = flow_settings(server, store, workspace, started_sections=STARTED, window_days=WINDOW_DAYS)
    sync(store, settings)
    ws = workspace
    project = next(iter(ws.projects))
    members = sorted(ws.project_member_gids(project))

    def in_section(name: str) -> list[str]:
        gid = section_gid(ws, project, name)
        return [t for t in members if not ws.tasks[t].completed
                and any(m.project_gid == project and m.section_gid == gid for m in ws.tasks[t].memberships)]

    started_now = in_section("Backlog")[0]  # Backlog → In progress: needs stories now
    to_review = in_section("In progress")[0]  # In progress → Review: stays needed, a new story
    finished = in_section("Review")[0]  # Review → Done and completed
    back_out = in_section("In progress")[1]  # In progress → Backlog: not needed any more
    ws.move_to_section(started_now, section_gid(ws, project, "In progress"))
    ws.move_to_section(to_review, section_gid(ws, project, "Review"))
    ws.move_to_section(finished, section_gid(ws, project, "Done"))
    ws.complete_task(finished)
    ws.move_to_section(back_out, section_gid(ws, project, "Backlog"))

    server.reset_stats()
    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    # back_out is out of flow's sight now, but its stored history must say it left "In progress"
    changed = {started_now, to_review, finished, back_out}
    assert stored_flow_stories(store, changed) == sandbox_flow_stories(ws, changed)
    assert stored_flow_stories(store, {started_now})[started_now][-1][1:3] == (
        "section_changed", section_gid(ws, project, "In progress"))
    assert stored_flow_stories(store, {back_out})[back_out][-1][1:3] == (
        "section_changed", section_gid(ws, project, "Backlog"))
    # four tasks' stories: one batch request, and one more for the tasks the project pass re-reads
    assert server.stats[("POST", "/batch")] == 2, server.stats.by_route
    assert {p.gid for p in result.projects if p.stories} == {project}

    server.reset_stats()
    idle = sync(store, settings)
    assert idle.requests <= len(ws.projects)


def test_a_full_pass_rereads_a_task_that_moved_while_the_events_were_lost(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    settings = flow_settings(server, store, workspace, started_sections=STARTED, window_days=WINDOW_DAYS)
    sync(store, settings)
    ws = workspace
    project = next(iter(ws.projects))
    review = section_gid(ws, project, "Review")
    task = next(t for t in sorted(ws.project_member_gids(project)) if not ws.tasks[t].completed and any(
        m.project_gid == project and m.section_gid == section_gid(ws, project, "In progress")
        for m in ws.tasks[t].memberships))
    ws.move_to_section(task, review)
    ws.expire_sync_tokens()
    result = sync(store, settings)
    assert result.outcome == "ok" and {p.mode for p in result.projects} == {"full"}
    assert stored_flow_stories(store, {task}) == sandbox_flow_stories(ws, {task})
    assert stored_flow_stories(store, {task})[task][-1][2] == review
