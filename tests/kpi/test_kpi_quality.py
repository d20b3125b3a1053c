"""Data-quality findings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from tpmsync.kpi import TaskInput
from tpmsync.kpi.quality import compute_quality


def test_open_tasks_without_due_date_or_assignee() -> None:
    tasks = [
        TaskInput("both", "Nothing set"),
        TaskInput("due", "Has due", due=date(2026, 12, 1)),
        TaskInput("who", "Has assignee", assignee_gid="u1"),
        TaskInput("done", "Completed, nothing set", completed=True),
    ]
    quality = compute_quality(tasks, ())
    assert [t.gid for t in quality.open_without_due] == ["both", "who"]
    assert [t.gid for t in quality.open_without_assignee] == ["both", "due"]


def test_completed_parent_with_open_direct_subtasks() -> None:
    tasks = [
        TaskInput("parent", "Parent", completed=True),
        TaskInput("open-child", "Open child", parent_gid="parent"),
        TaskInput("done-child", "Done child", parent_gid="parent", completed=True),
        TaskInput("grandchild", "Open grandchild", parent_gid="done-child"),
        TaskInput("open-parent", "Open parent"),
        TaskInput("kid", "Kid", parent_gid="open-parent"),
    ]
    found = {
        p.parent.gid: [t.gid for t in p.open_subtasks]
        for p in compute_quality(tasks, ()).completed_parents_with_open_subtasks
    }
    assert found == {"parent": ["open-child"], "done-child": ["grandchild"]}


def test_open_task_still_listing_a_completed_dependency(day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("done", "Done", completed=True),
        TaskInput("t", "Task", dependency_gids=("done", "open", "ext-done")),
        TaskInput("open", "Open"),
        TaskInput("closed", "Closed too", completed=True, dependency_gids=("done",)),
    ]
    outside = [TaskInput("ext-done", "Elsewhere, done", completed=True, project_name="Platform")]
    links = compute_quality(tasks, outside).completed_dependencies
    assert [(link.task.gid, link.dependency_gid) for link in links] == [("t", "done"), ("t", "ext-done")]


def test_tasks_due_before_they_start(day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("bad", "Bad", start=day(3), due=day(1)),
        TaskInput("same", "Same day", start=day(1), due=day(1)),
        TaskInput("done-bad", "Completed, bad", completed=True, start=day(3), due=day(1)),
        TaskInput("half", "Only a start", start=day(3)),
    ]
    assert [t.gid for t in compute_quality(tasks, ()).due_before_start] == ["bad", "done-bad"]


def test_dependencies_the_engine_was_not_given() -> None:
    tasks = [
        TaskInput("t", "Task", dependency_gids=("missing", "known")),
        TaskInput("known", "Known"),
        TaskInput("old", "Completed", completed=True, dependency_gids=("also-missing",)),
    ]
    unknown = compute_quality(tasks, ()).unknown_dependencies
    assert [(link.task.gid, link.dependency_gid, link.dependency) for link in unknown] == [("t", "missing", None)]


def test_json_has_counts_and_capped_lists() -> None:
    tasks = [TaskInput(str(n), f"T{n}") for n in range(5)]
    data = compute_quality(tasks, ()).to_json(max_items=2)
    assert data["open_without_due"] == 5
    assert data["open_without_due_tasks"] == [{"gid": "0", "name": "T0"}, {"gid": "1", "name": "T1"}]
