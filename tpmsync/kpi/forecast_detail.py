"""Typed results of the forecasts a project manager acts on, and their JSON.

They sit beside the finish-date `Forecast` in each project's `deadline.forecast`:
`how_many`, `calibration`, `milestones`, `moved` (the contract keys) and `unblock_first`.
Every type has `to_json` and a `from_json` that gives back an equal value; JSON numbers are
never rounded (rounding is for people, in the renderers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tpmsync.kpi.model.values import JsonObject, day_or_none, iso


@dataclass(frozen=True, slots=True)
class HowMany:
    """How many of the `open` tasks the throughput Monte Carlo finishes by `by`.

    `p50`/`p85` are the counts reached in at least 50 %/85 % of the trials (so p85 ≤ p50 ≤ open);
    both None when there is no throughput forecast (`reason` says why).
    """

    by: date
    p50: int | None
    p85: int | None
    open: int
    trials: int
    reason: str | None = None

    def to_json(self) -> JsonObject:
        return {
            "by": self.by.isoformat(),
            "p50": self.p50,
            "p85": self.p85,
            "open": self.open,
            "trials": self.trials,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HowMany:
        return cls(
            by=date.fromisoformat(data["by"]),
            p50=data["p50"],
            p85=data["p85"],
            open=data["open"],
            trials=data["trials"],
            reason=data["reason"],
        )


@dataclass(frozen=True, slots=True)
class Calibration:
    """Of the daily forecasts of the last 180 days whose p85 date has come, how many held."""

    judged: int
    held: int

    def to_json(self) -> JsonObject:
        return {"judged": self.judged, "held": self.held}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(judged=data["judged"], held=data["held"])


@dataclass(frozen=True, slots=True)
class Moved:
    """The change of the p85 date since an earlier forecast, split into three parts.

    `scope_days` (tasks added/removed), `progress_days` (tasks completed, and the days that
    passed) and `pace_days` (throughput) sum to `p85_change_days`.  The counts say what each
    part stands for: "+5 scope (12 tasks added)".
    """

    since: date
    p85_before: date
    p85_after: date
    p85_change_days: int
    scope_days: int
    progress_days: int
    pace_days: int
    tasks_added: int
    tasks_removed: int
    tasks_completed: int
    throughput_before: int
    throughput_after: int

    def to_json(self) -> JsonObject:
        return {
            "since": self.since.isoformat(),
            "p85_before": self.p85_before.isoformat(),
            "p85_after": self.p85_after.isoformat(),
            "p85_change_days": self.p85_change_days,
            "scope_days": self.scope_days,
            "progress_days": self.progress_days,
            "pace_days": self.pace_days,
            "tasks_added": self.tasks_added,
            "tasks_removed": self.tasks_removed,
            "tasks_completed": self.tasks_completed,
            "throughput_before": self.throughput_before,
            "throughput_after": self.throughput_after,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Moved:
        return cls(
            since=date.fromisoformat(data["since"]),
            p85_before=date.fromisoformat(data["p85_before"]),
            p85_after=date.fromisoformat(data["p85_after"]),
            p85_change_days=data["p85_change_days"],
            scope_days=data["scope_days"],
            progress_days=data["progress_days"],
            pace_days=data["pace_days"],
            tasks_added=data["tasks_added"],
            tasks_removed=data["tasks_removed"],
            tasks_completed=data["tasks_completed"],
            throughput_before=data["throughput_before"],
            throughput_after=data["throughput_after"],
        )


@dataclass(frozen=True, slots=True)
class Criticality:
    """The share of trials in which a task lies on the path that decides a milestone's date."""

    gid: str
    name: str
    share: float

    def to_json(self) -> JsonObject:
        return {"gid": self.gid, "name": self.name, "share": self.share}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Criticality:
        return cls(gid=data["gid"], name=data["name"], share=data["share"])


@dataclass(frozen=True, slots=True)
class MilestoneForecast:
    """The Monte Carlo date of one open milestone through its dependency network.

    `basis` is how the milestone's own project samples durations: "cycle_time" or
    "span_ratio".  A refused forecast (thin history, a dependency cycle) has `p50`/`p85`/
    `probability_on_time` None, a `reason` and no `criticality`.  `criticality` lists the most
    critical predecessors, highest share first; `on_path` counts every task that lay on a
    deciding path in at least one trial.
    """

    gid: str
    name: str
    project_gid: str
    due: date | None
    p50: date | None
    p85: date | None
    probability_on_time: float | None
    basis: str | None
    reason: str | None
    trials: int
    predecessors: int
    on_path: int
    criticality: tuple[Criticality, ...]

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "project": self.project_gid,
            "p50": iso(self.p50),
            "p85": iso(self.p85),
            "due": iso(self.due),
            "probability_on_time": self.probability_on_time,
            "basis": self.basis,
            "reason": self.reason,
            "trials": self.trials,
            "predecessors": self.predecessors,
            "on_path": self.on_path,
            "criticality": [entry.to_json() for entry in self.criticality],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MilestoneForecast:
        return cls(
            gid=data["gid"],
            name=data["name"],
            project_gid=data["project"],
            due=day_or_none(data["due"]),
            p50=day_or_none(data["p50"]),
            p85=day_or_none(data["p85"]),
            probability_on_time=data["probability_on_time"],
            basis=data["basis"],
            reason=data["reason"],
            trials=data["trials"],
            predecessors=data["predecessors"],
            on_path=data["on_path"],
            criticality=tuple(Criticality.from_json(entry) for entry in data["criticality"]),
        )


@dataclass(frozen=True, slots=True)
class TaskLink:
    """A task named in the unblock-first list: enough to name it, its owner and link to it."""

    gid: str
    name: str
    project_gid: str | None
    assignee_gid: str | None
    assignee_name: str | None
    due: date | None

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "project": self.project_gid,
            "assignee": (
                None
                if self.assignee_gid is None and self.assignee_name is None
                else {"gid": self.assignee_gid, "name": self.assignee_name}
            ),
            "due": iso(self.due),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskLink:
        assignee = data["assignee"]
        return cls(
            gid=data["gid"],
            name=data["name"],
            project_gid=data["project"],
            assignee_gid=None if assignee is None else assignee["gid"],
            assignee_name=None if assignee is None else assignee["name"],
            due=day_or_none(data["due"]),
        )


@dataclass(frozen=True, slots=True)
class UnblockItem:
    """One of the tasks to unblock first: how often it decides `milestone`, and what blocks it."""

    task: TaskLink
    share: float
    milestone_gid: str
    milestone_name: str
    milestone_due: date | None
    blocked_by: tuple[TaskLink, ...]

    def to_json(self) -> JsonObject:
        return {
            **self.task.to_json(),
            "share": self.share,
            "milestone": {"gid": self.milestone_gid, "name": self.milestone_name, "due": iso(self.milestone_due)},
            "blocked_by": [blocker.to_json() for blocker in self.blocked_by],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnblockItem:
        milestone = data["milestone"]
        return cls(
            task=TaskLink.from_json(data),
            share=data["share"],
            milestone_gid=milestone["gid"],
            milestone_name=milestone["name"],
            milestone_due=day_or_none(milestone["due"]),
            blocked_by=tuple(TaskLink.from_json(blocker) for blocker in data["blocked_by"]),
        )


@dataclass(frozen=True, slots=True)
class ForecastDetail:
    """Everything added to `deadline.forecast`: merge `to_json()` into `Forecast.to_json()`."""

    how_many: HowMany | None
    calibration: Calibration
    milestones: tuple[MilestoneForecast, ...]
    moved: Moved | None
    unblock_first: tuple[UnblockItem, ...]

    def to_json(self) -> JsonObject:
        return {
            "how_many": None if self.how_many is None else self.how_many.to_json(),
            "calibration": self.calibration.to_json(),
            "milestones": [milestone.to_json() for milestone in self.milestones],
            "moved": None if self.moved is None else self.moved.to_json(),
            "unblock_first": [item.to_json() for item in self.unblock_first],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ForecastDetail:
        how_many = data["how_many"]
        moved = data["moved"]
        return cls(
            how_many=None if how_many is None else HowMany.from_json(how_many),
            calibration=Calibration.from_json(data["calibration"]),
            milestones=tuple(MilestoneForecast.from_json(entry) for entry in data["milestones"]),
            moved=None if moved is None else Moved.from_json(moved),
            unblock_first=tuple(UnblockItem.from_json(entry) for entry in data["unblock_first"]),
        )
