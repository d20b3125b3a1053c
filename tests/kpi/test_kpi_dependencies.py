"""Dependency KPIs: blocked, conflicts, cross-project, cycles and the critical path (CPM)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import ClassVar

import pytest

from tpmsync.kpi import ScheduleEntry, TaskInput
from tpmsync.kpi.dependencies import compute_dependencies, critical_path, strongly_connected_components, task_days


def span(name: str, days: int, deps: tuple[str, ...] = (), first: date = date(2026, 12, 1)) -> TaskInput:
    """An open task lasting `days` days (start and due set), depending on `deps`."""
    return TaskInput(name, name, start=first, due=first + timedelta(days=days - 1), dependency_gids=deps)


class TestCriticalPathPublishedExample:
    """Heizer & Render, *Operations Management*, ch. 3 "Project Management": the Milwaukee Paper
    Manufacturing network (times in weeks, here in days).

    | activity | time | predecessors | ES | EF | LS | LF | slack |
    | A        | 2    | -            | 0  | 2  | 0  | 2  | 0     |
    | B        | 3    | -            | 0  | 3  | 1  | 4  | 1     |
    | C        | 2    | A            | 2  | 4  | 2  | 4  | 0     |
    | D        | 4    | A, B         | 3  | 7  | 4  | 8  | 1     |
    | E        | 4    | C            | 4  | 8  | 4  | 8  | 0     |
    | F        | 3    | C            | 4  | 7  | 10 | 13 | 6     |
    | G        | 5    | D, E         | 8  | 13 | 8  | 13 | 0     |
    | H        | 2    | F, G         | 13 | 15 | 13 | 15 | 0     |
    Critical path A-C-E-G-H, 15 weeks.
    """

    TASKS = (
        span("A", 2),
        span("B", 3),
        span("C", 2, ("A",)),
        span("D", 4, ("A", "B")),
        span("E", 4, ("C",)),
        span("F", 3, ("C",)),
        span("G", 5, ("D", "E")),
        span("H", 2, ("F", "G")),
    )
    EXPECTED: ClassVar[dict[str, tuple[int, int, int, int, int]]] = {  # ES, EF, LS, LF, total float
        "A": (0, 2, 0, 2, 0),
        "B": (0, 3, 1, 4, 1),
        "C": (2, 4, 2, 4, 0),
        "D": (3, 7, 4, 8, 1),
        "E": (4, 8, 4, 8, 0),
        "F": (4, 7, 10, 13, 6),
        "G": (8, 13, 8, 13, 0),
        "H": (13, 15, 13, 15, 0),
    }

    def test_forward_and_backward_pass(self, as_of: date) -> None:
        deps = compute_dependencies(self.TASKS, (), as_of)
        got = {
            gid: (e.early_start, e.early_finish, e.late_start, e.late_finish, e.total_float)
            for gid, e in deps.schedule.items()
        }
        assert got == self.EXPECTED

    def test_critical_path_and_its_length(self, as_of: date) -> None:
        deps = compute_dependencies(self.TASKS, (), as_of)
        assert [t.gid for t in deps.critical_path] == ["A", "C", "E", "G", "H"]
        assert deps.critical_path_days == 15
        assert all(deps.schedule[t.gid].total_float == 0 for t in deps.critical_path)

    def test_result_does_not_depend_on_input_order(self, as_of: date) -> None:
        deps = compute_dependencies(tuple(reversed(self.TASKS)), (), as_of)
        assert [t.gid for t in deps.critical_path] == ["A", "C", "E", "G", "H"]
        assert deps.schedule["F"] == ScheduleEntry(3, 4, 7, 10, 13, 6)


class TestTaskLength:
    def test_start_and_due_give_inclusive_days(self) -> None:
        assert task_days(TaskInput("a", "A", start=date(2026, 12, 1), due=date(2026, 12, 3))) == 3
        assert task_days(TaskInput("a", "A", start=date(2026, 12, 1), due=date(2026, 12, 1))) == 1

    def test_missing_or_inverted_dates_count_one_day(self) -> None:
        assert task_days(TaskInput("a", "A", due=date(2026, 12, 3))) == 1
        assert task_days(TaskInput("a", "A", start=date(2026, 12, 3))) == 1
        assert task_days(TaskInput("a", "A", start=date(2026, 12, 3), due=date(2026, 12, 1))) == 1


def test_critical_path_runs_through_open_tasks_of_the_set_only(as_of: date) -> None:
    tasks = [
        TaskInput("done", "Done", completed=True),
        span("a", 3, ("done", "outside")),
        span("b", 2, ("a",)),
        span("c", 1),
    ]
    outside = [TaskInput("outside", "Elsewhere", project_name="Platform", due=as_of)]
    deps = compute_dependencies(tasks, outside, as_of)
    assert [t.gid for t in deps.critical_path] == ["a", "b"]
    assert deps.critical_path_days == 5


def test_no_open_tasks_means_an_empty_critical_path(as_of: date) -> None:
    deps = compute_dependencies([TaskInput("a", "A", completed=True)], (), as_of)
    assert deps.critical_path == ()
    assert deps.critical_path_days == 0
    assert len(deps.schedule) == 0


class TestBlocked:
    def test_open_dependency_blocks_wherever_it_lives(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("in-set", "In set", due=day(3)),
            TaskInput("t1", "Blocked inside", dependency_gids=("in-set",)),
            TaskInput("t2", "Blocked outside", dependency_gids=("other",)),
            TaskInput("t3", "Blocked by nothing open", dependency_gids=("done", "gone")),
            TaskInput("done", "Done", completed=True),
            TaskInput("t4", "Completed task with open dependency", completed=True, dependency_gids=("in-set",)),
        ]
        outside = [TaskInput("other", "Other project", project_gid="p2", project_name="Platform")]
        deps = compute_dependencies(tasks, outside, as_of)
        assert sorted(t.gid for t in deps.blocked) == ["t1", "t2"]
        assert deps.blocked_by_overdue == ()
        assert [d.gid for d in deps.open_dependencies(tasks[1])] == ["in-set"]

    def test_blocked_by_overdue_needs_an_open_overdue_dependency(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("freeze", "API freeze", due=day(-5)),
            TaskInput("ok", "Fine", due=day(5)),
            TaskInput("late-done", "Late but done", due=day(-5), completed=True),
            TaskInput("t1", "Waits for freeze", dependency_gids=("freeze", "ok")),
            TaskInput("t2", "Waits for done", dependency_gids=("late-done", "ok")),
            TaskInput("t3", "Waits for external", dependency_gids=("ext",)),
        ]
        outside = [TaskInput("ext", "Vendor SDK", due=day(-1), project_gid="p9", project_name="Vendors")]
        deps = compute_dependencies(tasks, outside, as_of)
        assert sorted(t.gid for t in deps.blocked) == ["t1", "t2", "t3"]
        found = {
            b.task.gid: ([d.gid for d in b.open_dependencies], [d.gid for d in b.overdue_dependencies])
            for b in deps.blocked_by_overdue
        }
        assert found == {"t1": (["freeze", "ok"], ["freeze"]), "t3": (["ext"], ["ext"])}

    def test_repeated_dependency_counts_once(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("dep", "Dep", due=day(9)),
            TaskInput("t", "T", due=day(1), dependency_gids=("dep", "dep")),
        ]
        deps = compute_dependencies(tasks, (), as_of)
        assert len(deps.conflicts) == 1
        assert [d.gid for d in deps.open_dependencies(tasks[1])] == ["dep"]


class TestConflicts:
    def test_dependency_due_after_the_task(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("qa", "QA", due=day(7)),
            TaskInput("same-day", "Same day", due=day(5)),
            TaskInput("undated", "Undated"),
            TaskInput("deploy", "Deploy", due=day(5), dependency_gids=("qa", "same-day", "undated", "ext")),
            TaskInput("docs", "Docs", dependency_gids=("qa",)),
        ]
        outside = [TaskInput("ext", "External", due=day(6), project_name="Platform")]
        deps = compute_dependencies(tasks, outside, as_of)
        assert [(c.task.gid, c.dependency.gid) for c in deps.conflicts] == [("deploy", "qa"), ("deploy", "ext")]

    def test_completed_ends_do_not_conflict(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("qa", "QA", due=day(7), completed=True),
            TaskInput("deploy", "Deploy", due=day(5), dependency_gids=("qa",)),
            TaskInput("old", "Old", due=day(1), completed=True, dependency_gids=("late",)),
            TaskInput("late", "Late", due=day(9)),
        ]
        assert compute_dependencies(tasks, (), as_of).conflicts == ()


def test_cross_project_counts_distinct_open_outside_dependencies(as_of: date) -> None:
    tasks = [
        TaskInput("a", "A", dependency_gids=("x1", "x2", "x3")),
        TaskInput("b", "B", dependency_gids=("x1", "in")),
        TaskInput("c", "C", completed=True, dependency_gids=("x4",)),
        TaskInput("in", "In set"),
    ]
    outside = [
        TaskInput("x1", "Auth service", project_gid="p2", project_name="Platform"),
        TaskInput("x2", "Loose task", project_gid=None, project_name=None),
        TaskInput("x3", "Done elsewhere", completed=True, project_name="Platform"),
        TaskInput("x4", "Only a completed task depends on me", project_name="Platform"),
    ]
    deps = compute_dependencies(tasks, outside, as_of)
    assert sorted(t.gid for t in deps.cross_project) == ["x1", "x2"]
    assert {t.gid: t.project_name for t in deps.cross_project} == {"x1": "Platform", "x2": None}


class TestCycles:
    def test_two_cycle_self_loop_and_the_rest_still_scheduled(self, as_of: date) -> None:
        tasks = [
            span("a", 1, ("b",)),
            span("b", 1, ("a",)),
            span("self", 1, ("self",)),
            span("after", 5, ("a",)),  # downstream of the cycle: still on the schedule
            span("x", 2),
            span("y", 2, ("x",)),
        ]
        deps = compute_dependencies(tasks, (), as_of)
        assert sorted(sorted(t.gid for t in cycle) for cycle in deps.cycles) == [["a", "b"], ["self"]]
        assert sorted(deps.schedule) == ["after", "x", "y"]
        assert [t.gid for t in deps.critical_path] == ["after"]
        assert deps.critical_path_days == 5

    def test_three_cycle_behind_a_chain(self, as_of: date) -> None:
        tasks = [
            span("start", 1),
            span("p", 1, ("start", "r")),
            span("q", 1, ("p",)),
            span("r", 1, ("q",)),
            span("end", 1, ("r",)),
        ]
        deps = compute_dependencies(tasks, (), as_of)
        assert [sorted(t.gid for t in cycle) for cycle in deps.cycles] == [["p", "q", "r"]]
        assert sorted(deps.schedule) == ["end", "start"]

    def test_completed_task_breaks_a_cycle(self, as_of: date) -> None:
        tasks = [span("a", 1, ("b",)), TaskInput("b", "B", completed=True, dependency_gids=("a",))]
        assert compute_dependencies(tasks, (), as_of).cycles == ()

    def test_tarjan_finds_components(self) -> None:
        succ = [[1], [2], [0, 3], [4], [3], []]
        components = sorted(sorted(c) for c in strongly_connected_components(range(6), succ))
        assert components == [[0, 1, 2], [3, 4], [5]]


def test_a_chain_of_100000_tasks_needs_no_recursion() -> None:
    """Kahn, Tarjan and both passes are iterative: a deep chain (with a cycle at its head, so
    that Tarjan walks all of it) must not hit the recursion limit."""
    n = 100_000
    succ = [[i + 1] for i in range(n - 1)] + [[0]]
    succ.append([])  # node n: alone
    result = critical_path([1] * (n + 1), succ)
    assert [sorted(c) for c in result.cycles] == [list(range(n))]
    assert result.path == [n]

    chain = [[i + 1] for i in range(n - 1)] + [[]]
    result = critical_path([1] * n, chain)
    assert result.length == n
    assert result.path == list(range(n))
    assert result.cycles == []


@pytest.mark.parametrize("with_cycle", [False, True])
def test_schedule_entries_are_consistent(as_of: date, with_cycle: bool) -> None:
    tasks = [span("a", 2), span("b", 3, ("a",)), span("c", 1, ("a",)), span("d", 2, ("b", "c"))]
    if with_cycle:
        tasks += [span("e", 1, ("f",)), span("f", 1, ("e",))]
    deps = compute_dependencies(tasks, (), as_of)
    for entry in deps.schedule.values():
        assert entry.early_finish == entry.early_start + entry.duration
        assert entry.late_finish == entry.late_start + entry.duration
        assert entry.total_float == entry.late_start - entry.early_start >= 0
        assert entry.late_finish <= deps.critical_path_days
    assert deps.critical_path_days == 7
    with pytest.raises(KeyError):
        deps.schedule["nope"]
