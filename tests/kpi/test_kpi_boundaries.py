"""The edges of each definition, one day either side, read from the contract JSON (as_of 2026-11-25).

Each case is worked out by hand from the definitions: a boundary moved by one day (≤ for <, an
exclusive window, a missing +1) changes a number here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tpmsync.kpi import KpiSettings, ProjectInput, TaskInput, compute_project_kpis
from tpmsync.kpi.budget import planned_share

Days = Callable[[int], date]


def status(tasks: list[TaskInput], as_of: date, *, due_soon_days: int = 7, **fields: Any) -> dict[str, Any]:
    project = ProjectInput(gid="p1", name="Edges", tasks=tasks, **fields)
    return compute_project_kpis(project, as_of, KpiSettings(due_soon_days=due_soon_days)).to_json()


class TestDueSoonAndOverdue:
    @pytest.mark.parametrize(("due_soon_days", "expected"), [(0, 1), (1, 2), (3, 4)])
    def test_due_soon_counts_both_ends_of_as_of_to_as_of_plus_days(
        self, as_of: date, day: Days, due_soon_days: int, expected: int
    ) -> None:
        tasks = [TaskInput(f"t{n}", f"T{n}", due=day(n)) for n in range(-1, 5)]  # due as_of−1 … as_of+4
        deadline = status(tasks, as_of, due_soon_days=due_soon_days)["deadline"]
        assert (deadline["overdue"], deadline["due_soon"]) == (1, expected)

    def test_a_task_due_exactly_as_of_plus_due_soon_days_is_due_soon_the_day_after_is_not(
        self, as_of: date, day: Days
    ) -> None:
        tasks = [TaskInput("edge", "Edge", due=day(5)), TaskInput("after", "After", due=day(6))]
        assert status(tasks, as_of, due_soon_days=5)["deadline"]["due_soon"] == 1

    def test_a_completed_task_is_neither_overdue_nor_due_soon(self, as_of: date, day: Days) -> None:
        tasks = [TaskInput("late", "Late", due=day(-3), completed=True, completed_on=day(-1)),
                 TaskInput("soon", "Soon", due=day(1), completed=True, completed_on=day(-1))]
        deadline = status(tasks, as_of)["deadline"]
        assert (deadline["overdue"], deadline["due_soon"]) == (0, 0)


class TestOnTimeWindow:
    def test_completed_on_as_of_minus_29_counts_minus_30_does_not(self, as_of: date, day: Days) -> None:
        tasks = [
            TaskInput("first", "First day, late", completed=True, completed_on=day(-29), due=day(-30)),
            TaskInput("outside", "Day before, on time", completed=True, completed_on=day(-30), due=day(-30)),
        ]
        deadline = status(tasks, as_of)["deadline"]
        assert (deadline["on_time_rate"], deadline["completed_on_time"], deadline["completed_with_due"]) == (0.0, 0, 1)

    def test_completed_on_the_due_date_is_on_time_the_day_after_is_late(self, as_of: date, day: Days) -> None:
        tasks = [
            TaskInput("on-due", "On the due date", completed=True, completed_on=day(-3), due=day(-3)),
            TaskInput("day-late", "A day late", completed=True, completed_on=day(-2), due=day(-3)),
        ]
        assert status(tasks, as_of)["deadline"]["on_time_rate"] == 0.5

    def test_none_in_the_window_is_null_not_zero(self, as_of: date, day: Days) -> None:
        tasks = [TaskInput("old", "Old", completed=True, completed_on=day(-30), due=day(-31))]
        assert status(tasks, as_of)["deadline"]["on_time_rate"] is None


class TestPlannedShareEdges:
    def test_on_the_start_day_one_day_of_the_span_is_planned(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", start=as_of, due=day(4)), as_of) == pytest.approx(1 / 5)

    def test_the_day_before_the_start_nothing_is_planned(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", start=day(1), due=day(4)), as_of) == 0

    def test_the_day_before_the_due_date_all_but_one_day_is_planned(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", start=day(-3), due=day(1)), as_of) == pytest.approx(4 / 5)

    def test_on_the_due_date_everything_is_planned(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", start=day(-3), due=as_of), as_of) == 1

    def test_a_one_day_task_is_planned_on_its_day_and_not_the_day_before(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", start=as_of, due=as_of), as_of) == 1
        assert planned_share(TaskInput("a", "A", start=day(1), due=day(1)), as_of) == 0

    def test_without_a_start_nothing_is_planned_before_the_due_date(self, as_of: date, day: Days) -> None:
        assert planned_share(TaskInput("a", "A", due=day(1)), as_of) == 0
        assert planned_share(TaskInput("a", "A", due=as_of), as_of) == 1

    def test_pv_and_spi_on_the_start_and_due_days(self, as_of: date, day: Days) -> None:
        """Two 10 h tasks: one due today (planned in full), one starting today over 4 days (1/4):
        PV = (10 + 2.5) × 100 = 1250. The one due today is done: EV_scheduled 1000, SPI 0.8."""
        tasks = [
            TaskInput("due-today", "Due today", start=day(-3), due=as_of, estimate_hours=10, completed=True,
                      completed_on=as_of),
            TaskInput("starts-today", "Starts today", start=as_of, due=day(3), estimate_hours=10),
        ]
        budget = status(tasks, as_of, rate=100.0, currency="EUR")["budget"]
        assert (budget["pv"], budget["ev"], budget["spi"]) == (1250.0, 1000.0, 0.8)


class TestBudgetNulls:
    def test_an_estimate_of_zero_is_an_estimate(self, as_of: date) -> None:
        """BAC 0 is a number (the set has an estimate); EAC = BAC / CPI needs a CPI: AC 0 makes it null."""
        budget = status([TaskInput("a", "A", estimate_hours=0.0)], as_of, rate=100.0)["budget"]
        assert budget is not None
        got = (budget["bac"], budget["ac"], budget["cpi"], budget["eac"], budget["vac"])
        assert got == (0.0, 0.0, None, None, None)

    def test_cpi_zero_makes_eac_and_vac_null(self, as_of: date, day: Days) -> None:
        """Nothing earned (EV 0) for 2 h spent: CPI = 0, EAC = BAC / 0 is null and so is VAC."""
        tasks = [TaskInput("a", "A", estimate_hours=4, actual_hours=2, due=day(3))]
        budget = status(tasks, as_of, rate=100.0)["budget"]
        assert (budget["cpi"], budget["eac"], budget["vac"]) == (0.0, None, None)

    def test_actuals_of_estimated_tasks_only_make_ac_and_the_others_ac_unplanned(self, as_of: date) -> None:
        tasks = [
            TaskInput("est", "Estimated, tracked", estimate_hours=4, actual_time_minutes=90, completed=True),
            TaskInput("field", "Estimated, field and tracking", estimate_hours=4, actual_hours=1.0,
                      actual_time_minutes=600, completed=True),
            TaskInput("loose", "Unestimated", actual_time_minutes=30),
        ]
        budget = status(tasks, as_of, rate=100.0)["budget"]
        assert (budget["ac"], budget["ac_unplanned"]) == (250.0, 50.0)
        assert budget["cpi"] == pytest.approx(800 / 250)


class TestDependencyEdges:
    def test_a_dependency_due_today_blocks_but_is_not_overdue(self, as_of: date, day: Days) -> None:
        tasks = [
            TaskInput("today", "Due today", due=as_of),
            TaskInput("yesterday", "Due yesterday", due=day(-1)),
            TaskInput("a", "Waits for today", dependency_gids=("today",)),
            TaskInput("b", "Waits for yesterday", dependency_gids=("yesterday",)),
        ]
        deps = status(tasks, as_of)["dependencies"]
        assert (deps["blocked"], deps["blocked_by_overdue"]) == (2, 1)
        assert [t["gid"] for t in deps["blocked_by_overdue_tasks"]] == ["b"]

    def test_a_completed_dependency_neither_blocks_nor_conflicts_nor_chains(self, as_of: date, day: Days) -> None:
        """a (3 days) → b (done) → c (2 days): c is not blocked and the path is a alone, 3 days."""
        tasks = [
            TaskInput("a", "A", start=day(1), due=day(3)),
            TaskInput("b", "B", due=day(9), completed=True, completed_on=day(-1), dependency_gids=("a",)),
            TaskInput("c", "C", start=day(4), due=day(5), dependency_gids=("b",)),
            TaskInput("x", "Outside done dependency", due=day(-2), dependency_gids=("ext",)),
        ]
        outside = [TaskInput("ext", "Done elsewhere", due=day(9), completed=True, project_name="Other")]
        deps = status(tasks, as_of, outside_tasks=outside)["dependencies"]
        assert (deps["blocked"], deps["blocked_by_overdue"], deps["conflicts"], deps["cross_project"]) == (0, 0, 0, 0)
        assert (deps["critical_path"], deps["critical_path_days"]) == (["a"], 3)

    def test_a_dependency_due_one_day_after_the_task_conflicts_the_same_day_does_not(
        self, as_of: date, day: Days
    ) -> None:
        tasks = [
            TaskInput("same", "Same day", due=day(5)),
            TaskInput("later", "A day later", due=day(6)),
            TaskInput("t", "Task", due=day(5), dependency_gids=("same", "later")),
        ]
        assert status(tasks, as_of)["dependencies"]["conflicts"] == 1

    def test_a_cycle_counts_once_and_its_tasks_are_still_blocked(self, as_of: date, day: Days) -> None:
        """a ⇄ b is one cycle; both are open tasks with an open dependency (blocked 2); the path is
        the rest of the graph (c, 4 days)."""
        tasks = [
            TaskInput("a", "A", dependency_gids=("b",)),
            TaskInput("b", "B", dependency_gids=("a",)),
            TaskInput("c", "C", start=day(1), due=day(4)),
        ]
        deps = status(tasks, as_of)["dependencies"]
        assert (deps["cycles"], deps["blocked"], deps["critical_path"], deps["critical_path_days"]) == (
            1, 2, ["c"], 4)

    def test_critical_path_days_is_the_sum_of_inclusive_spans(self, as_of: date, day: Days) -> None:
        """a (start = due: 1 day) → b (start as_of+1, due as_of+2: 2 days) → c (no start: 1 day) = 4."""
        tasks = [
            TaskInput("a", "A", start=as_of, due=as_of),
            TaskInput("b", "B", start=day(1), due=day(2), dependency_gids=("a",)),
            TaskInput("c", "C", due=day(9), dependency_gids=("b",)),
        ]
        deps = status(tasks, as_of)["dependencies"]
        assert (deps["critical_path"], deps["critical_path_days"]) == (["a", "b", "c"], 4)

    def test_no_open_task_is_a_zero_day_path(self, as_of: date) -> None:
        deps = status([TaskInput("a", "A", completed=True)], as_of)["dependencies"]
        assert (deps["critical_path"], deps["critical_path_days"]) == ([], 0)
