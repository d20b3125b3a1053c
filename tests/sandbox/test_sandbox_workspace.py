"""The sample workspace generator and the workspace's mutations and events, without HTTP."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sandbox_support import TODAY, Clock

from tpmsync.sandbox import InvalidRequest, NotFoundError, Workspace, generate_workspace
from tpmsync.sandbox.events import InvalidSyncToken
from tpmsync.sandbox.model import Task


def _fingerprint(ws: Workspace) -> list[tuple[object, ...]]:
    return [
        (t.gid, t.name, t.completed_at, t.due_on, t.start_on, t.assignee_gid, t.parent_gid, t.memberships,
         t.dependency_gids, sorted(t.custom_values.items()), t.resource_subtype, t.actual_time_minutes)
        for t in ws.tasks.values()
    ]


def _depth(ws: Workspace, task: Task) -> int:
    depth = 0
    while task.parent_gid is not None:
        task = ws.tasks[task.parent_gid]
        depth += 1
    return depth


def test_same_seed_and_day_give_the_same_workspace_and_another_seed_does_not() -> None:
    first = generate_workspace(seed=11, projects=3, tasks_per_project=30, today=TODAY)
    again = generate_workspace(seed=11, projects=3, tasks_per_project=30, today=TODAY)
    other = generate_workspace(seed=12, projects=3, tasks_per_project=30, today=TODAY)
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other)


@pytest.mark.parametrize("tasks", [1, 4, 17, 120])
def test_without_subtasks_and_dependencies_every_project_has_exactly_n_member_tasks(tasks: int) -> None:
    ws = generate_workspace(seed=2, projects=4, tasks_per_project=tasks, subtask_ratio=0,
                            with_dependencies=False, today=TODAY)
    for gid in ws.projects:
        assert len(ws.project_member_gids(gid)) == tasks
        assert ws.project_task_gids(gid) == set(ws.project_member_gids(gid))
    assert all(t.parent_gid is None and not t.dependency_gids for t in ws.tasks.values())


def test_generated_workspace_has_the_variety_kpis_need() -> None:
    ws = generate_workspace(seed=1, projects=6, tasks_per_project=60, today=TODAY)
    tasks = list(ws.tasks.values())
    names = {f.name: f for f in ws.custom_fields.values()}
    assert names["Estimated hours"].type == names["Actual hours"].type == "number"
    assert names["Priority"].type == "enum" and names["Risk note"].type == "text"
    assert len(ws.teams) == 2 and len(ws.users) >= 6
    (portfolio,) = ws.portfolios.values()
    assert 1 <= len(portfolio.project_gids) < len(ws.projects)

    open_tasks = [t for t in tasks if not t.completed]
    assert any(t.due_on and t.due_on < TODAY for t in open_tasks), "some overdue"
    assert any(t.due_on and TODAY <= t.due_on <= TODAY + timedelta(days=7) for t in open_tasks), "some due soon"
    assert any(t.due_on is None for t in tasks) and any(t.start_on for t in tasks)
    done = [t for t in tasks if t.completed_at is not None]
    midnight_days = {t.completed_at.date() for t in done if t.completed_at}
    assert min(midnight_days) >= TODAY - timedelta(weeks=8) and max(midnight_days) < TODAY
    assert any(t.due_on and t.completed_at and t.completed_at.date() > t.due_on for t in done), "some late"
    assert any(t.due_on and t.completed_at and t.completed_at.date() < t.due_on for t in done), "some early"
    assert all(t.created_at <= t.modified_at and (t.completed_at is None or t.created_at <= t.completed_at)
               for t in tasks)

    assert any(t.resource_subtype == "milestone" for t in tasks)
    assert any(t.actual_time_minutes for t in tasks)
    assert any(t.num_subtasks > 0 for t in tasks)
    assert max(_depth(ws, t) for t in tasks) == 3
    assert any(len(t.memberships) == 2 for t in tasks), "multi-homed tasks"

    in_project = {g for p in ws.projects for g in ws.project_task_gids(p)}
    project_of = {g: p for p in ws.projects for g in ws.project_task_gids(p)}
    edges = [(t, d) for t in tasks for d in t.dependency_gids]
    assert any(project_of.get(t.gid) and project_of.get(t.gid) == project_of.get(d) for t, d in edges)
    assert any(project_of.get(d) and project_of.get(t.gid) != project_of.get(d) for t, d in edges)
    assert any(d not in in_project for _, d in edges), "dependencies on tasks in no project"
    for task in tasks:
        for dep in task.dependency_gids:
            assert task.gid in ws.tasks[dep].dependent_gids

    budgets = list(ws.budgets.values())
    assert len(budgets) == 3 and {b.budget_type for b in budgets} == {"time", "cost"}
    assert not ws.events.events, "generating emits no events"


def test_a_hundred_thousand_tasks_generate_with_every_project_full() -> None:
    # How long this takes is measured by bench/bench_generate.py, not asserted here.
    ws = generate_workspace(projects=20, tasks_per_project=5000, subtask_ratio=0, today=TODAY)
    assert all(len(ws.member_index(p)) == 5000 for p in ws.projects)


# ---------------------------------------------------------------------------- mutations and events

@pytest.fixture
def ws(clock: Clock) -> Workspace:
    return generate_workspace(seed=3, projects=3, tasks_per_project=20, today=TODAY, now=clock)


def _token(ws: Workspace, resource: str) -> str:
    with pytest.raises(InvalidSyncToken) as missing:
        ws.read_events(resource, None)
    return missing.value.fresh_token


def test_add_task_is_a_member_and_the_project_sees_added(ws: Workspace, clock: Clock) -> None:
    project = next(iter(ws.projects))
    token = _token(ws, project)
    task = ws.add_task(project, name="Fresh", due_on="2026-12-01", assignee="me",
                       custom_fields={"Estimated hours": 5, "Priority": "High"})
    assert task.gid in ws.project_member_gids(project)
    assert task.modified_at == task.created_at == clock.current
    assert task.due_on == date(2026, 12, 1) and task.assignee_gid == ws.me_gid
    assert ws.custom_value(task.gid, "Estimated hours") == 5.0
    events, _, has_more = ws.read_events(project, token)
    assert [(e.action, e.resource.gid, e.parent and e.parent.gid) for e in events] == [("added", task.gid, project)]
    assert not has_more


def test_edit_emits_one_changed_event_per_changed_field_and_touches_modified_at(ws: Workspace, clock: Clock) -> None:
    project = next(iter(ws.projects))
    gid = next(g for g in ws.project_member_gids(project) if not ws.tasks[g].completed)
    token = _token(ws, project)
    clock.advance(hours=1)
    ws.edit_task(gid, name="Renamed", due_on="2027-01-05", notes=ws.tasks[gid].notes)
    events, token, _ = ws.read_events(project, token)
    assert sorted(e.change["field"] for e in events if e.change) == ["due_on", "name"]
    assert ws.tasks[gid].modified_at == clock.current
    ws.complete_task(gid)
    assert ws.tasks[gid].completed_at == clock.current
    events, _, _ = ws.read_events(project, token)
    assert [e.change for e in events] == [{"field": "completed", "action": "changed"}]


def test_subtasks_at_any_depth_reach_the_project_stream(ws: Workspace) -> None:
    project = next(iter(ws.projects))
    member = ws.project_member_gids(project)[0]
    token = _token(ws, project)
    child = ws.add_subtask(member, name="Child")
    grandchild = ws.add_subtask(child.gid, name="Grandchild")
    ws.complete_task(grandchild.gid)
    assert ws.tasks[member].subtask_gids[-1] == child.gid and child.num_subtasks == 1
    assert {child.gid, grandchild.gid} <= ws.project_task_gids(project)
    events, _, _ = ws.read_events(project, token)
    assert [(e.action, e.resource.gid, e.parent and e.parent.gid) for e in events] == [
        ("added", child.gid, member), ("added", grandchild.gid, child.gid), ("changed", grandchild.gid, None),
    ]


def test_delete_takes_subtasks_and_dependency_links_with_it(ws: Workspace) -> None:
    project = next(iter(ws.projects))
    parent = next(g for g in ws.project_member_gids(project) if ws.tasks[g].subtask_gids)
    doomed = {parent, *ws.descendant_gids(parent)}
    other = next(g for g in ws.project_member_gids(project) if g not in doomed)
    ws.add_dependency(other, parent)
    token = _token(ws, project)
    ws.delete_task(parent)
    assert not doomed & set(ws.tasks) and doomed <= ws.deleted_task_gids
    assert parent not in ws.tasks[other].dependency_gids
    assert not doomed & ws.project_task_gids(project)
    events, _, _ = ws.read_events(project, token)
    assert {e.resource.gid for e in events if e.action == "deleted"} == doomed
    with pytest.raises(NotFoundError):
        ws.get_task(parent)


def test_move_remove_and_add_to_project_emit_removed_and_added(ws: Workspace) -> None:
    p1, p2, _ = list(ws.projects)
    gid = ws.project_member_gids(p1)[0]
    t1, t2 = _token(ws, p1), _token(ws, p2)
    ws.move_task(gid, p1, p2)
    assert ws.tasks[gid].project_gids == (p2,)
    (removed,), _, _ = ws.read_events(p1, t1)
    (added,), _, _ = ws.read_events(p2, t2)
    assert (removed.action, removed.parent and removed.parent.gid) == ("removed", p1)
    assert (added.action, added.parent and added.parent.gid) == ("added", p2)
    with pytest.raises(InvalidRequest):
        ws.move_task(gid, p1, p2)


def test_dependencies_link_both_ways_and_project_edits_reach_the_project(ws: Workspace) -> None:
    p1, p2, _ = list(ws.projects)
    a, b = ws.project_member_gids(p1)[0], ws.project_member_gids(p2)[0]
    token = _token(ws, p2)
    ws.add_dependency(a, b)
    assert b in ws.tasks[a].dependency_gids and a in ws.tasks[b].dependent_gids
    ws.remove_dependency(a, b)
    assert b not in ws.tasks[a].dependency_gids and a not in ws.tasks[b].dependent_gids
    ws.edit_project(p2, name="Renamed project", archived=True)
    events, _, _ = ws.read_events(p2, token)
    assert [e.change and e.change["field"] for e in events] == [
        "dependents", "dependents", "name", "archived"]
    with pytest.raises(InvalidRequest):
        ws.add_dependency(a, a)


def test_bad_mutation_arguments_are_invalid_requests(ws: Workspace) -> None:
    project = next(iter(ws.projects))
    with pytest.raises(InvalidRequest):
        ws.add_task(project, colour="red")
    with pytest.raises(InvalidRequest):
        ws.add_task(project, due_on="next tuesday")
    with pytest.raises(InvalidRequest):
        ws.add_task(project, custom_fields={"Priority": "Urgent"})
    with pytest.raises(NotFoundError):
        ws.add_task("999")


def test_more_than_a_hundred_events_come_in_pages_with_has_more(ws: Workspace) -> None:
    project = next(iter(ws.projects))
    token = _token(ws, project)
    for i in range(130):
        ws.add_task(project, name=f"Bulk {i}")
    first, token, more = ws.read_events(project, token)
    second, token, done = ws.read_events(project, token)
    assert (len(first), more, len(second), done) == (100, True, 30, False)
    assert ws.read_events(project, token)[0] == []


def test_expired_or_foreign_tokens_are_rejected_with_a_fresh_one(ws: Workspace) -> None:
    p1, p2, _ = list(ws.projects)
    token = _token(ws, p1)
    with pytest.raises(InvalidSyncToken):
        ws.read_events(p2, token)
    ws.expire_sync_tokens()
    with pytest.raises(InvalidSyncToken) as expired:
        ws.read_events(p1, token)
    assert ws.read_events(p1, expired.value.fresh_token)[0] == []


def test_status_updates_are_stored_and_become_current(ws: Workspace) -> None:
    project = next(iter(ws.projects))
    update = ws.add_status_update(project, status_type="at_risk", title="Weekly", text="Slipping <a bit>")
    assert ws.status_updates_for(project) == [update]
    assert ws.projects[project].current_status_update_gid == update.gid
    assert update.html_text == "<body>Slipping &lt;a bit&gt;</body>"
    with pytest.raises(InvalidRequest):
        ws.add_status_update(project, status_type="fine", text="x")
