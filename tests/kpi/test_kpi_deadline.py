"""Deadline KPIs pinned to hand-worked examples (as_of is 2026-11-25, due_soon_days 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from tpmsync.kpi import DeadlineKpis, DueChange, MilestoneState, TaskInput
from tpmsync.kpi.deadline import compute_deadline, count_tasks, on_time, slipped_task


def deadline(tasks: list[TaskInput], as_of: date, stalled_days: int = 5) -> DeadlineKpis:
    return compute_deadline(tasks, as_of, due_soon_days=7, stalled_days=stalled_days)


def gids(tasks: tuple[TaskInput, ...]) -> list[str]:
    return [task.gid for task in tasks]


def test_counts_split_the_set_into_open_and_completed() -> None:
    tasks = [TaskInput("a", "A"), TaskInput("b", "B", completed=True), TaskInput("c", "C")]
    counts = count_tasks(tasks)
    assert (counts.total, counts.open, counts.completed) == (3, 2, 1)


def test_overdue_is_open_and_due_strictly_before_as_of(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("yesterday", "Due yesterday", due=day(-1)),
        TaskInput("today", "Due today", due=as_of),
        TaskInput("done-late", "Completed, was due last week", due=day(-7), completed=True, completed_on=day(-1)),
        TaskInput("no-date", "No due date"),
    ]
    assert gids(deadline(tasks, as_of).overdue) == ["yesterday"]


def test_due_soon_is_open_and_due_from_as_of_to_as_of_plus_due_soon_days(
    as_of: date, day: Callable[[int], date]
) -> None:
    tasks = [
        TaskInput("past", "Past", due=day(-1)),
        TaskInput("today", "Today", due=as_of),
        TaskInput("last", "Last day of the window", due=day(7)),
        TaskInput("outside", "Day after the window", due=day(8)),
        TaskInput("closed", "Completed", due=day(2), completed=True),
    ]
    assert gids(deadline(tasks, as_of).due_soon) == ["today", "last"]


def test_overdue_tasks_are_listed_by_due_date_then_name(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("z", "Zeta", due=day(-1)),
        TaskInput("b", "Beta", due=day(-3)),
        TaskInput("a", "Alpha", due=day(-1)),
    ]
    assert gids(deadline(tasks, as_of).overdue) == ["b", "a", "z"]


class TestOnTimeRate:
    def test_window_is_the_30_days_ending_on_as_of(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            # first day of the window, late
            TaskInput("w-first", "First", completed=True, completed_on=day(-29), due=day(-30)),
            # as_of itself, on time (completed on the due date)
            TaskInput("w-last", "Last", completed=True, completed_on=as_of, due=as_of),
            # one day before the window: ignored
            TaskInput("before", "Before", completed=True, completed_on=day(-30), due=day(-31)),
            # after as_of (a report for an earlier day): ignored
            TaskInput("after", "After", completed=True, completed_on=day(1), due=day(5)),
            # no due date: ignored
            TaskInput("undated", "Undated", completed=True, completed_on=day(-3)),
            # open: ignored
            TaskInput("open", "Open", due=day(-3)),
        ]
        rate, in_time, considered = on_time(tasks, as_of)
        assert (in_time, considered) == (1, 2)
        assert rate == 0.5

    def test_early_completion_counts_as_on_time(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [TaskInput("a", "A", completed=True, completed_on=day(-5), due=day(3))]
        assert on_time(tasks, as_of) == (1.0, 1, 1)

    def test_is_none_when_nothing_with_a_due_date_was_completed_in_the_window(
        self, as_of: date, day: Callable[[int], date]
    ) -> None:
        tasks = [
            TaskInput("undated", "Undated", completed=True, completed_on=day(-1)),
            TaskInput("old", "Old", completed=True, completed_on=day(-40), due=day(-41)),
        ]
        assert on_time(tasks, as_of) == (None, 0, 0)
        assert deadline(tasks, as_of).on_time_rate is None

    def test_three_of_four_on_time(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput(str(n), f"T{n}", completed=True, completed_on=day(-n), due=day(-n + (1 if n < 4 else -1)))
            for n in range(1, 5)
        ]
        assert deadline(tasks, as_of).on_time_rate == 0.75


class TestSlipped:
    def test_due_date_moved_later_once(self, day: Callable[[int], date]) -> None:
        task = TaskInput(
            "a",
            "API freeze",
            due=day(9),
            due_history=[DueChange(day(-10), day(0), day(4)), DueChange(day(-5), day(4), day(9))],
        )
        slip = slipped_task(task)
        assert slip is not None
        assert (slip.baseline_due, slip.current_due, slip.times_moved_later, slip.slip_days) == (
            day(0),
            day(9),
            2,
            9,
        )

    def test_history_is_read_in_observation_order(self, day: Callable[[int], date]) -> None:
        task = TaskInput(
            "a",
            "A",
            due=day(9),
            due_history=[DueChange(day(-5), day(4), day(9)), DueChange(day(-10), day(0), day(4))],
        )
        slip = slipped_task(task)
        assert slip is not None and slip.baseline_due == day(0)

    def test_moving_a_date_earlier_or_setting_it_is_not_a_slip(self, day: Callable[[int], date]) -> None:
        pulled_in = TaskInput("a", "A", due=day(2), due_history=[DueChange(day(-3), day(6), day(2))])
        first_set = TaskInput("b", "B", due=day(2), due_history=[DueChange(day(-3), None, day(2))])
        removed = TaskInput("c", "C", due_history=[DueChange(day(-3), day(2), None)])
        assert slipped_task(pulled_in) is None
        assert slipped_task(first_set) is None
        assert slipped_task(removed) is None

    def test_completed_tasks_do_not_count(self, day: Callable[[int], date]) -> None:
        task = TaskInput("a", "A", completed=True, due=day(9), due_history=[DueChange(day(-5), day(4), day(9))])
        assert slipped_task(task) is None

    def test_slip_can_be_partly_pulled_back(self, day: Callable[[int], date]) -> None:
        task = TaskInput(
            "a",
            "A",
            due=day(3),
            due_history=[
                DueChange(day(-9), None, day(5)),
                DueChange(day(-6), day(5), day(10)),
                DueChange(day(-2), day(10), day(3)),
            ],
        )
        slip = slipped_task(task)
        assert slip is not None
        assert (slip.baseline_due, slip.times_moved_later, slip.slip_days) == (day(5), 1, -2)

    def test_slip_days_unknown_when_the_due_date_was_later_removed(self, day: Callable[[int], date]) -> None:
        task = TaskInput("a", "A", due_history=[DueChange(day(-6), day(5), day(10)), DueChange(day(-2), day(10), None)])
        slip = slipped_task(task)
        assert slip is not None and slip.slip_days is None

    def test_deadline_lists_slipped_tasks_biggest_slip_first(self, as_of: date, day: Callable[[int], date]) -> None:
        tasks = [
            TaskInput("small", "Small", due=day(3), due_history=[DueChange(day(-1), day(2), day(3))]),
            TaskInput("big", "Big", due=day(20), due_history=[DueChange(day(-1), day(2), day(20))]),
            TaskInput("none", "Never moved", due=day(3)),
        ]
        assert [s.task.gid for s in deadline(tasks, as_of).slipped] == ["big", "small"]


def test_milestone_states(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("done", "Done", is_milestone=True, completed=True, completed_on=day(-3), due=day(-3)),
        TaskInput("late", "Done late", is_milestone=True, completed=True, completed_on=day(-1), due=day(-3)),
        TaskInput("overdue", "Overdue", is_milestone=True, due=day(-1)),
        TaskInput("soon", "Soon", is_milestone=True, due=day(7)),
        TaskInput("later", "Later", is_milestone=True, due=day(8)),
        TaskInput("unscheduled", "Unscheduled", is_milestone=True),
        TaskInput("task", "Not a milestone", due=day(-1)),
    ]
    states = {m.task.gid: m.state for m in deadline(tasks, as_of).milestones}
    assert states == {
        "done": MilestoneState.DONE,
        "late": MilestoneState.DONE_LATE,
        "overdue": MilestoneState.OVERDUE,
        "soon": MilestoneState.DUE_SOON,
        "later": MilestoneState.UPCOMING,
        "unscheduled": MilestoneState.UNSCHEDULED,
    }


@pytest.mark.parametrize(
    ("modified_days_ago", "stalled"),
    [(4, False), (5, True), (12, True), (-1, False)],
)
def test_stalled_is_open_and_not_modified_for_stalled_days(
    as_of: date, day: Callable[[int], date], modified_days_ago: int, stalled: bool
) -> None:
    task = TaskInput("a", "A", modified_on=day(-modified_days_ago))
    result = deadline([task], as_of).stalled
    assert bool(result) is stalled
    if stalled:
        assert result[0].idle_days == modified_days_ago


def test_completed_or_never_seen_modified_tasks_are_not_stalled(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [TaskInput("a", "A", completed=True, modified_on=day(-30)), TaskInput("b", "B")]
    assert deadline(tasks, as_of).stalled == ()
