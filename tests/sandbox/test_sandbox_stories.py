"""Stories, section moves and the generated history: in the workspace, and over real HTTP through
the official ``asana`` SDK (``StoriesApi``, ``SectionsApi``, ``EventsApi``, ``POST /batch``)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asana
import pytest
from asana.rest import ApiException
from sandbox_support import TODAY, Clock
from sqlalchemy import select

from tests.sync_support import make_settings, sync
from tpmsync.kpi.dependencies import compute_dependencies
from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.sandbox import InvalidRequest, SandboxServer, Workspace, generate_workspace
from tpmsync.sandbox.events import InvalidSyncToken
from tpmsync.sandbox.history import BOUNCING_ROUND_TRIPS
from tpmsync.sandbox.model import Story
from tpmsync.store.db import Store
from tpmsync.store.models import TaskProject

DEMO = {"seed": 7, "projects": 6, "tasks_per_project": 80, "subtask_ratio": 0.3}  # `tpmsync demo`'s workspace


def _token(ws: Workspace, resource: str) -> str:
    with pytest.raises(InvalidSyncToken) as missing:
        ws.read_events(resource, None)
    return missing.value.fresh_token


def _board(ws: Workspace, project: str) -> dict[str, str]:
    return {ws.sections[g].name: g for g in ws.projects[project].section_gids}


def _open_in(ws: Workspace, project: str, section: str) -> str:
    return next(g for g in ws.project_member_gids(project)
                if not ws.tasks[g].completed and len(ws.tasks[g].memberships) == 1
                and ws.tasks[g].memberships[0].section_gid == section)


# ---------------------------------------------------------------------------- the workspace

def test_a_section_move_records_a_story_and_events_but_not_modified_at(workspace: Workspace, clock: Clock) -> None:
    project = next(iter(workspace.projects))
    board = _board(workspace, project)
    gid = _open_in(workspace, project, board["Backlog"])
    task = workspace.tasks[gid]
    modified, before = task.modified_at, len(workspace.stories_for(gid))
    token = _token(workspace, project)
    clock.advance(hours=2)
    workspace.move_to_section(gid, board["In progress"])
    assert task.memberships[0].section_gid == board["In progress"]
    assert task.modified_at == modified
    story = workspace.stories_for(gid)[-1]
    assert len(workspace.stories_for(gid)) == before + 1
    assert (story.resource_subtype, story.created_at, story.old_section_gid, story.new_section_gid,
            story.created_by_gid) == ("section_changed", clock.current, board["Backlog"], board["In progress"],
                                      workspace.me_gid)
    name = workspace.projects[project].name
    assert workspace.story_text(story) == f'moved this task from "Backlog" to "In progress" in {name}'
    events, token, _ = workspace.read_events(project, token)
    assert [(e.action, e.resource.resource_type, e.resource.gid, e.parent and e.parent.gid) for e in events] == [
        ("removed", "task", gid, board["Backlog"]),
        ("added", "task", gid, board["In progress"]),
        ("added", "story", story.gid, gid),
    ]
    assert events[2].resource.resource_subtype == "section_changed"
    workspace.move_to_section(gid, board["In progress"])  # already there: nothing happens
    assert workspace.read_events(project, token)[0] == [] and len(workspace.stories_for(gid)) == before + 1


def test_a_move_in_one_project_of_a_multi_homed_task_is_that_projects_only(workspace: Workspace) -> None:
    shared = next(t for t in workspace.tasks.values() if len(t.memberships) == 2 and not t.completed)
    home, other = (m.project_gid for m in shared.memberships)
    target = next(s for s in workspace.projects[home].section_gids if s != shared.memberships[0].section_gid)
    tokens = {p: _token(workspace, p) for p in (home, other)}
    workspace.move_to_section(shared.gid, target)
    assert shared.memberships[0].section_gid == target
    assert shared.memberships[1] == workspace.tasks[shared.gid].memberships[1]
    seen = {p: [(e.action, e.resource.resource_type) for e in workspace.read_events(p, tokens[p])[0]]
            for p in (home, other)}
    assert seen[home] == [("removed", "task"), ("added", "task"), ("added", "story")]
    assert seen[other] == [("added", "story")]  # the story is the task's; the sections are not
    outsider = next(g for g in workspace.project_member_gids(other) if home not in workspace.tasks[g].project_gids)
    with pytest.raises(InvalidRequest, match="is not in project"):
        workspace.move_to_section(outsider, target)


def test_completion_assignment_and_projects_leave_stories(workspace: Workspace, clock: Clock) -> None:
    p1, p2, _ = workspace.projects
    gid = _open_in(workspace, p1, workspace.projects[p1].section_gids[0])
    other = next(u for u in workspace.users if u != workspace.tasks[gid].assignee_gid)
    start = len(workspace.stories_for(gid))
    workspace.complete_task(gid)
    clock.advance(minutes=5)
    workspace.complete_task(gid, completed=False)
    workspace.edit_task(gid, assignee=other)
    workspace.edit_task(gid, assignee=None)
    workspace.add_to_project(gid, p2)
    workspace.remove_from_project(gid, p2)
    new = workspace.stories_for(gid)[start:]
    assert [s.resource_subtype for s in new] == ["marked_complete", "marked_incomplete", "assigned", "unassigned",
                                                 "added_to_project", "removed_from_project"]
    assert new[2].assignee_gid == other and new[4].project_gid == p2
    assert [workspace.story_text(s) for s in new[:2]] == ["marked this task complete", "marked incomplete"]
    workspace.edit_task(gid, name="Renamed")  # a field without a story kind of its own
    assert len(workspace.stories_for(gid)) == start + 6
    workspace.delete_task(gid)
    assert not any(s.task_gid == gid for s in workspace.stories.values())


# ---------------------------------------------------------------------------- the generated history

def _replay(ws: Workspace, project: str, gid: str) -> tuple[str | None, list[Story]]:
    """The section a task's stories leave it in within ``project`` (``None``: no move there)."""
    board = set(ws.projects[project].section_gids)
    moves = [s for s in ws.stories_for(gid) if s.resource_subtype == "section_changed"
             and s.new_section_gid in board]
    for before, after in itertools.pairwise(moves):
        assert after.old_section_gid == before.new_section_gid, "moves chain up"
    return (moves[-1].new_section_gid if moves else None), moves


def test_the_generated_history_leads_every_task_to_where_it_is_now() -> None:
    ws = generate_workspace(**DEMO, today=TODAY)  # type: ignore[arg-type]
    midnight = datetime.combine(TODAY, time(), UTC)
    created_in_progress = moved_back = reopened = 0
    for gid, task in ws.tasks.items():
        stories = ws.stories_for(gid)
        assert [s.created_at for s in stories] == sorted(s.created_at for s in stories)
        assert all(task.created_at <= s.created_at < midnight for s in stories)
        done = [s for s in stories if s.resource_subtype == "marked_complete"]
        undone = [s for s in stories if s.resource_subtype == "marked_incomplete"]
        if task.completed:
            assert done[-1].created_at == task.completed_at and not undone
        else:
            assert len(done) == len(undone)
            reopened += bool(undone)
        for membership in task.memberships:
            board = _board(ws, membership.project_gid)
            last, moves = _replay(ws, membership.project_gid, gid)
            assert last in (None, membership.section_gid)
            if membership.section_gid == board["Done"]:
                assert moves and moves[-1].created_at <= (task.completed_at or midnight) + timedelta(minutes=1)
            if membership.section_gid in (board["In progress"], board["Review"]) and not moves:
                created_in_progress += 1
            if moves and moves[0].old_section_gid == board["In progress"]:
                created_in_progress += 1
            moved_back += any(m.new_section_gid == board["Backlog"] for m in moves)
            if membership.project_gid != task.memberships[0].project_gid:
                added = [s for s in stories if s.resource_subtype == "added_to_project"]
                assert [s.project_gid for s in added] == [membership.project_gid]
                assert all(m.created_at >= added[0].created_at for m in moves)
    assert created_in_progress > 5 and moved_back > 5 and reopened > 0
    longest = max(ws.tasks, key=lambda g: len(ws.story_index(g)))
    assert len(ws.story_index(longest)) == 1 + 2 * BOUNCING_ROUND_TRIPS > 100
    counts = Counter(s.resource_subtype for s in ws.stories.values())
    assert counts["section_changed"] > counts["marked_complete"] > 100


def test_history_is_deterministic_and_leaves_every_other_field_and_gid_alone() -> None:
    with_history = generate_workspace(seed=11, projects=3, tasks_per_project=30, today=TODAY)
    again = generate_workspace(seed=11, projects=3, tasks_per_project=30, today=TODAY)
    without = generate_workspace(seed=11, projects=3, tasks_per_project=30, today=TODAY, history=False)
    assert [(s.gid, s.task_gid, s.created_at, s.resource_subtype, s.new_section_gid)
            for s in with_history.stories.values()] == [
        (s.gid, s.task_gid, s.created_at, s.resource_subtype, s.new_section_gid) for s in again.stories.values()]
    assert not without.stories and list(with_history.tasks) == list(without.tasks)
    changed_hands = 0
    for gid, task in with_history.tasks.items():
        plain = without.tasks[gid]
        assert (task.name, task.created_at, task.modified_at, task.completed_at, task.due_on, task.start_on,
                task.memberships, task.dependency_gids, task.custom_values) == (
            plain.name, plain.created_at, plain.modified_at, plain.completed_at, plain.due_on, plain.start_on,
            plain.memberships, plain.dependency_gids, plain.custom_values)
        if task.assignee_gid != plain.assignee_gid:
            assert not task.completed and task.assignee_gid is not None and plain.assignee_gid is not None
            changed_hands += 1
    assert changed_hands > 0
    assert [b.estimate.value for b in with_history.budgets.values()] == [
        b.estimate.value for b in without.budgets.values()]


def _inputs(ws: Workspace, gids: set[str], estimate: str) -> list[TaskInput]:
    out = []
    for gid in sorted(gids):
        t = ws.tasks[gid]
        value = t.custom_values.get(estimate)
        out.append(TaskInput(gid=gid, name=t.name, completed=t.completed, due=t.due_on, start=t.start_on,
                             assignee_gid=t.assignee_gid, parent_gid=t.parent_gid,
                             estimate_hours=value if isinstance(value, float) else None,
                             dependency_gids=t.dependency_gids))
    return out


def test_one_person_is_overloaded_across_projects_and_owns_critical_path_work() -> None:
    """The people numbers by hand (estimated hours of open work overdue or due within 14 days
    against 32 hours a week), the critical path from tpmsync's own dependency KPIs."""
    ws = generate_workspace(**DEMO, today=TODAY)  # type: ignore[arg-type]
    estimate = ws.get_custom_field("Estimated hours").gid
    capacity = 32 * 14 / 7
    horizon_end = TODAY + timedelta(days=13)
    task_set = {g for p in ws.projects for g in ws.project_task_gids(p)}
    load: Counter[str] = Counter()
    projects_of: dict[str, set[str]] = {}
    for gid in task_set:
        t = ws.tasks[gid]
        if t.completed or t.assignee_gid is None or t.due_on is None or t.due_on > horizon_end:
            continue
        value = t.custom_values.get(estimate)
        load[t.assignee_gid] += value if isinstance(value, float) else 0.0
        projects_of.setdefault(t.assignee_gid, set()).update(m.project_gid for m in t.memberships)
    (person, hours), (_, runner_up) = load.most_common(2)
    assert hours > 1.5 * capacity and runner_up < capacity
    assert len(projects_of[person]) >= 3
    critical_owned = 0
    for project in ws.projects:
        kpis = compute_dependencies(_inputs(ws, ws.project_task_gids(project), estimate), [], TODAY)
        critical_owned += sum(t.assignee_gid == person for t in kpis.critical_path)
    assert critical_owned >= 2
    milestones = [t for t in ws.tasks.values() if t.resource_subtype == "milestone"]
    assert len(milestones) >= 6 and any(m.dependency_gids for m in milestones)


# ---------------------------------------------------------------------------- over HTTP, through the SDK

def test_stories_page_through_the_sdk_with_opt_fields(workspace: Workspace, client: Any) -> None:
    stories_api = asana.StoriesApi(client)
    bouncing = max(workspace.tasks, key=lambda g: len(workspace.story_index(g)))
    expected = workspace.stories_for(bouncing)
    assert len(expected) > 100
    first = stories_api.get_stories_for_task(bouncing, {}, full_payload=True)
    assert len(first["data"]) == 100 and first["next_page"]["offset"]
    assert set(first["data"][0]) == {"gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"}
    rest = stories_api.get_stories_for_task(bouncing, {"offset": first["next_page"]["offset"]}, full_payload=True)
    assert rest["next_page"] is None
    assert [s["gid"] for s in first["data"] + rest["data"]] == [s.gid for s in expected]
    fields = "resource_subtype,type,new_section.name,old_section.name,created_at"
    iterated = list(stories_api.get_stories_for_task(bouncing, {"opt_fields": fields, "limit": 30}))
    assert len(iterated) == len(expected)
    second = iterated[1]
    assert set(second) == {"gid", "resource_type", "resource_subtype", "type", "new_section", "old_section",
                           "created_at"}
    assert second["type"] == "system" and second["resource_type"] == "story"
    assert second["new_section"] == {"gid": expected[1].new_section_gid, "resource_type": "section",
                                     "name": "Review"}
    complete = next(s for s in workspace.stories.values() if s.resource_subtype == "marked_complete")
    shown = stories_api.get_stories_for_task(complete.task_gid, {"opt_fields": fields})
    assert all("new_section" not in s for s in shown if s["resource_subtype"] == "marked_complete")
    with pytest.raises(ApiException) as missing:
        stories_api.get_stories_for_task("1", {}, full_payload=True)
    assert missing.value.status == 404


def test_a_section_move_over_http_is_in_the_events_and_not_in_modified_since(
        workspace: Workspace, client: Any, clock: Clock) -> None:
    project = next(iter(workspace.projects))
    board = _board(workspace, project)
    gid = _open_in(workspace, project, board["In progress"])
    events_api = asana.EventsApi(client)
    with pytest.raises(ApiException) as first:
        events_api.get_events(project, {}, full_payload=True)
    token = json.loads(first.value.body)["sync"]
    since = clock.current.isoformat()
    clock.advance(minutes=10)
    asana.SectionsApi(client).add_task_for_section(board["Review"], {"body": {"data": {"task": gid}}})
    task = asana.TasksApi(client).get_task(gid, {"opt_fields": "memberships.section.name,modified_at"})
    assert task["memberships"][0]["section"]["name"] == "Review"
    fresh = list(asana.TasksApi(client).get_tasks({"project": project, "modified_since": since}))
    assert gid not in {t["gid"] for t in fresh}
    page = events_api.get_events(project, {"sync": token}, full_payload=True)
    assert [(e["action"], e["resource"]["resource_type"], e["parent"]["resource_type"]) for e in page["data"]] == [
        ("removed", "task", "section"), ("added", "task", "section"), ("added", "story", "task")]
    assert page["data"][1]["parent"]["name"] == "Review" and page["data"][2]["resource"]["resource_subtype"] == (
        "section_changed")
    stories = list(asana.StoriesApi(client).get_stories_for_task(gid, {"opt_fields": "new_section.name,created_at"}))
    assert stories[-1]["new_section"]["name"] == "Review"
    assert stories[-1]["created_at"].startswith(clock.current.strftime("%Y-%m-%dT%H:%M:%S"))
    with pytest.raises(ApiException) as elsewhere:
        other = next(p for p in workspace.projects if p != project)
        asana.SectionsApi(client).add_task_for_section(workspace.projects[other].section_gids[1],
                                                       {"body": {"data": {"task": gid}}})
    assert elsewhere.value.status == 400


def test_stories_come_through_the_batch_api_ten_tasks_a_request(workspace: Workspace, call: Any) -> None:
    gids = [g for g in workspace.tasks if workspace.story_index(g)][:10]
    actions = [{"relative_path": f"/tasks/{g}/stories", "method": "get",
                "options": {"fields": ["resource_subtype", "new_section", "created_at"], "limit": 100}}
               for g in gids]
    reply = call("POST", "/batch", {"data": {"actions": actions}})
    assert reply.status == 200
    for gid, result in zip(gids, reply.json["data"], strict=True):
        assert result["status_code"] == 200
        assert [s["gid"] for s in result["body"]["data"]] == [s.gid for s in workspace.stories_for(gid)][:100]


def test_admin_move_to_section_and_the_garbage_after_fault(workspace: Workspace, server: SandboxServer,
                                                           call: Any) -> None:
    project = next(iter(workspace.projects))
    board = _board(workspace, project)
    gid = _open_in(workspace, project, board["Backlog"])
    moved = call("POST", "/_sandbox/mutate", {"op": "move_to_section",
                                              "args": {"gid": gid, "section_gid": board["Review"]}})
    assert moved.status == 200 and moved.json["data"]["memberships"][0]["section"]["name"] == "Review"
    assert workspace.stories_for(gid)[-1].new_section_gid == board["Review"]
    wrong = call("POST", "/_sandbox/mutate", {"op": "move_to_section", "args": {"gid": gid, "section_gid": "1"}})
    assert wrong.status == 404
    faults = call("POST", "/_sandbox/faults", {"garbage_after": {"route": "POST /status_updates", "n": 1}})
    assert faults.json["garbage_after"] == {"POST /status_updates": 1}
    assert call("GET", f"/tasks/{gid}").status == 200  # other routes answer normally
    body = {"data": {"parent": project, "status_type": "on_track", "text": "Fine"}}
    lost = call("POST", "/status_updates", body)
    assert lost.status == 200 and not lost.raw.startswith(b"{")
    assert len(workspace.status_updates_for(project)) == 1  # carried out all the same
    assert call("POST", "/status_updates", body).status == 201
    assert call("POST", "/_sandbox/faults", {"garbage_after": {"route": "status_updates"}}).status == 400


def test_history_dates_fit_the_generation_day() -> None:
    ws = generate_workspace(seed=3, projects=2, tasks_per_project=25, today=date(2026, 1, 5))
    assert ws.stories and all(s.created_at < datetime(2026, 1, 5, tzinfo=UTC) for s in ws.stories.values())
    assert min(s.created_at for s in ws.stories.values()) > datetime(2025, 9, 1, tzinfo=UTC)


def test_todays_incremental_sync_catches_a_section_move_through_the_events(store: Store) -> None:
    """Runs on SQLite and PostgreSQL: the move changes no modified_at, so only the events tell
    the sync; it asks for the task again and stores its new section."""
    ws = generate_workspace(seed=5, projects=2, tasks_per_project=30, subtask_ratio=0.2, today=TODAY)
    project = next(iter(ws.projects))
    board = _board(ws, project)
    gid = _open_in(ws, project, board["Backlog"])
    with SandboxServer(ws) as server:
        settings = make_settings(server.base_url, store.url, ws)
        assert sync(store, settings).outcome == "ok"
        ws.move_to_section(gid, board["In progress"])
        result = sync(store, settings)
    assert result.outcome == "ok", result.error
    with store.read() as session:
        row = session.scalars(select(TaskProject).where(TaskProject.task_gid == gid,
                                                        TaskProject.project_gid == project)).one()
        assert row.section_gid == board["In progress"]
