"""Deadline health: overdue, due soon, on-time rate, slipped, milestones, stalled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from tpmsync.kpi.model.deadline import DeadlineKpis, Milestone, MilestoneState, SlippedTask, StalledTask
from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.project import TaskCounts

ON_TIME_WINDOW_DAYS = 30
"""on_time_rate looks at tasks completed on as_of − 29 … as_of."""


def _by_due_then_name(task: TaskInput) -> tuple[date, str, str]:
    return (task.due or date.max, task.name.casefold(), task.gid)


def count_tasks(tasks: Sequence[TaskInput]) -> TaskCounts:
    completed = sum(1 for task in tasks if task.completed)
    return TaskCounts(total=len(tasks), open=len(tasks) - completed, completed=completed)


def on_time(tasks: Sequence[TaskInput], as_of: date) -> tuple[float | None, int, int]:
    """(rate, completed on or before due, completed with a due date) over as_of − 29 … as_of."""
    window_start = as_of - timedelta(days=ON_TIME_WINDOW_DAYS - 1)
    considered = 0
    in_time = 0
    for task in tasks:
        done = task.completed_on
        if not task.completed or done is None or task.due is None:
            continue
        if window_start <= done <= as_of:
            considered += 1
            if done <= task.due:
                in_time += 1
    return (in_time / considered if considered else None), in_time, considered


def slipped_task(task: TaskInput) -> SlippedTask | None:
    """The slip record of an open task whose due date was moved later at least once, else None."""
    if task.completed or not task.due_history:
        return None
    history = sorted(task.due_history, key=lambda change: change.observed_on)
    moved_later = sum(
        1
        for change in history
        if change.old_due is not None and change.new_due is not None and change.new_due > change.old_due
    )
    if moved_later == 0:
        return None
    baseline = next(change.old_due for change in history if change.old_due is not None)
    slip = None if task.due is None else (task.due - baseline).days
    return SlippedTask(
        task=task,
        baseline_due=baseline,
        current_due=task.due,
        times_moved_later=moved_later,
        slip_days=slip,
    )


def milestone_state(task: TaskInput, as_of: date, due_soon_days: int) -> MilestoneState:
    if task.completed:
        late = task.due is not None and task.completed_on is not None and task.completed_on > task.due
        return MilestoneState.DONE_LATE if late else MilestoneState.DONE
    if task.due is None:
        return MilestoneState.UNSCHEDULED
    if task.due < as_of:
        return MilestoneState.OVERDUE
    if task.due <= as_of + timedelta(days=due_soon_days):
        return MilestoneState.DUE_SOON
    return MilestoneState.UPCOMING


def compute_deadline(tasks: Sequence[TaskInput], as_of: date, *, due_soon_days: int, stalled_days: int) -> DeadlineKpis:
    """Deadline KPIs of a project's task set (see docs/kpis.md, "Deadline")."""
    soon_limit = as_of + timedelta(days=due_soon_days)
    overdue: list[TaskInput] = []
    due_soon: list[TaskInput] = []
    slipped: list[SlippedTask] = []
    milestones: list[TaskInput] = []
    stalled: list[StalledTask] = []
    for task in tasks:
        if task.is_milestone:
            milestones.append(task)
        if task.completed:
            continue
        due = task.due
        if due is not None:
            if due < as_of:
                overdue.append(task)
            elif due <= soon_limit:
                due_soon.append(task)
        if task.due_history:
            slip = slipped_task(task)
            if slip is not None:
                slipped.append(slip)
        modified = task.modified_on
        if modified is not None:
            idle = (as_of - modified).days
            if idle >= stalled_days:
                stalled.append(StalledTask(task=task, idle_days=idle))

    rate, in_time, considered = on_time(tasks, as_of)
    overdue.sort(key=_by_due_then_name)
    due_soon.sort(key=_by_due_then_name)
    milestones.sort(key=_by_due_then_name)
    slipped.sort(key=lambda s: (-(s.slip_days or 0), s.task.name.casefold(), s.task.gid))
    stalled.sort(key=lambda s: (-s.idle_days, s.task.name.casefold(), s.task.gid))
    return DeadlineKpis(
        overdue=tuple(overdue),
        due_soon=tuple(due_soon),
        on_time_rate=rate,
        completed_on_time=in_time,
        completed_with_due=considered,
        slipped=tuple(slipped),
        milestones=tuple(
            Milestone(task=task, state=milestone_state(task, as_of, due_soon_days)) for task in milestones
        ),
        stalled=tuple(stalled),
    )
