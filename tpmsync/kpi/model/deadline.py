"""Deadline results: overdue, due soon, on-time rate, slipped, milestones and stalled tasks.

Computed by `tpmsync.kpi.deadline`; `DeadlineKpis.to_json` is the `deadline` object of a
project (docs/kpis.md), with the finish-date forecast placed in it by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.values import (
    Json,
    JsonObject,
    day_or_none,
    iso,
    limited,
    task_from_json,
    task_json,
    tasks_from_json,
)


class SlippedTask(NamedTuple):
    """An open task whose due date was moved later at least once.

    `baseline_due` is the first due date sync history knows (the `old_due` of the earliest
    change that had one); `slip_days` is `current_due − baseline_due` in days (None when either
    is missing; it can be ≤ 0 when the date was later pulled back in).
    """

    task: TaskInput
    baseline_due: date | None
    current_due: date | None
    times_moved_later: int
    slip_days: int | None

    def to_json(self) -> JsonObject:
        return {
            **task_json(self.task),
            "baseline_due": iso(self.baseline_due),
            "current_due": iso(self.current_due),
            "times_moved_later": self.times_moved_later,
            "slip_days": self.slip_days,
        }


class MilestoneState(StrEnum):
    DONE = "done"
    DONE_LATE = "done_late"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    UPCOMING = "upcoming"
    UNSCHEDULED = "unscheduled"


class Milestone(NamedTuple):
    task: TaskInput
    state: MilestoneState

    def to_json(self) -> JsonObject:
        return {**task_json(self.task), "state": str(self.state), "completed_on": iso(self.task.completed_on)}


class StalledTask(NamedTuple):
    """An open task not modified for `idle_days` (≥ the configured stalled_days) days."""

    task: TaskInput
    idle_days: int

    def to_json(self) -> JsonObject:
        return {**task_json(self.task), "modified_on": iso(self.task.modified_on), "idle_days": self.idle_days}


@dataclass(frozen=True, slots=True)
class DeadlineKpis:
    """Deadline health.  Lists are sorted by due date (then name); counts are their lengths."""

    overdue: tuple[TaskInput, ...]
    due_soon: tuple[TaskInput, ...]
    on_time_rate: float | None
    completed_on_time: int
    completed_with_due: int
    slipped: tuple[SlippedTask, ...]
    milestones: tuple[Milestone, ...]
    stalled: tuple[StalledTask, ...]

    def to_json(self, forecast: JsonObject, max_items: int | None = None) -> JsonObject:
        """The `deadline` object with `forecast` in it; `max_items` caps the task lists (not the counts)."""

        def refs(items: tuple[TaskInput, ...]) -> list[JsonObject]:
            return [task_json(task) for task in limited(items, max_items)]

        return {
            "overdue": len(self.overdue),
            "due_soon": len(self.due_soon),
            "on_time_rate": self.on_time_rate,
            "slipped": len(self.slipped),
            "forecast": forecast,
            "completed_on_time": self.completed_on_time,
            "completed_with_due": self.completed_with_due,
            "stalled": len(self.stalled),
            "milestones": [m.to_json() for m in limited(self.milestones, max_items)],
            "overdue_tasks": refs(self.overdue),
            "due_soon_tasks": refs(self.due_soon),
            "slipped_tasks": [s.to_json() for s in limited(self.slipped, max_items)],
            "stalled_tasks": [s.to_json() for s in limited(self.stalled, max_items)],
        }

    @classmethod
    def from_json(cls, data: Json) -> DeadlineKpis:
        """The deadline KPIs whose `to_json()` is `data` (no list cut short); the forecast is read apart."""
        return cls(
            overdue=tasks_from_json(data["overdue_tasks"]),
            due_soon=tasks_from_json(data["due_soon_tasks"]),
            on_time_rate=data["on_time_rate"],
            completed_on_time=data["completed_on_time"],
            completed_with_due=data["completed_with_due"],
            slipped=tuple(
                SlippedTask(
                    task_from_json(s),
                    day_or_none(s["baseline_due"]),
                    day_or_none(s["current_due"]),
                    s["times_moved_later"],
                    s["slip_days"],
                )
                for s in data["slipped_tasks"]
            ),
            milestones=tuple(
                Milestone(task_from_json(m, completed_on=day_or_none(m["completed_on"])), MilestoneState(m["state"]))
                for m in data["milestones"]
            ),
            stalled=tuple(
                StalledTask(task_from_json(s, modified_on=day_or_none(s["modified_on"])), s["idle_days"])
                for s in data["stalled_tasks"]
            ),
        )
