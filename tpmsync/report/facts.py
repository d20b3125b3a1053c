"""The facts a written status may state about one project (`tpmsync.report.narrative` words them).

`StatusFacts` holds the verdict and its reasons, what changed since the report compared with, the
forecast and how it moved, the milestones at risk, the tasks to unblock first and the overloaded
owners. Each type round-trips through `to_json`/`from_json`: the JSON is what the test of "nothing
invented" checks every number and name of the text against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tpmsync.kpi.forecast_detail import MilestoneForecast, Moved, UnblockItem
from tpmsync.kpi.model.values import JsonObject

AT_RISK_BELOW = 0.85
"""A milestone is at risk when it is less likely than this to make its due date."""


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)




@dataclass(frozen=True, slots=True)
class MilestoneRisk:
    """A milestone at risk: its forecast now and the p85 of the report compared with."""

    gid: str
    name: str
    project_gid: str
    due: date | None
    p85: date | None
    previous_p85: date | None
    probability_on_time: float | None
    reason: str | None = None

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "project": self.project_gid,
            "due": None if self.due is None else self.due.isoformat(),
            "p85": None if self.p85 is None else self.p85.isoformat(),
            "previous_p85": None if self.previous_p85 is None else self.previous_p85.isoformat(),
            "probability_on_time": self.probability_on_time,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MilestoneRisk:
        return cls(
            gid=data["gid"],
            name=data["name"],
            project_gid=data["project"],
            due=_day(data["due"]),
            p85=_day(data["p85"]),
            previous_p85=_day(data["previous_p85"]),
            probability_on_time=data["probability_on_time"],
            reason=data["reason"],
        )


@dataclass(frozen=True, slots=True)
class OverloadedOwner:
    """A person with more work due in the horizon than capacity (people KPIs)."""

    name: str
    load_ratio: float
    overdue: int

    def to_json(self) -> JsonObject:
        return {"name": self.name, "load_ratio": self.load_ratio, "overdue": self.overdue}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OverloadedOwner:
        return cls(name=data["name"], load_ratio=data["load_ratio"], overdue=data["overdue"])


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """Everything the written status may say about one project.

    `since`, `tasks_completed` and `tasks_added` describe the period since the report compared
    with (all None when there is none); `previous_health` is that report's verdict.
    `judged`/`held` are the forecast's calibration.
    """

    project_gid: str
    project_name: str
    as_of: date
    health: str
    reasons: tuple[str, ...] = ()
    previous_health: str | None = None
    since: date | None = None
    tasks_completed: int | None = None
    tasks_added: int | None = None
    p85: date | None = None
    due: date | None = None
    probability_on_time: float | None = None
    judged: int = 0
    held: int = 0
    moved: Moved | None = None
    milestones_at_risk: tuple[MilestoneRisk, ...] = ()
    unblock_first: tuple[UnblockItem, ...] = ()
    overloaded: tuple[OverloadedOwner, ...] = ()
    note: str | None = None

    def to_json(self) -> JsonObject:
        return {
            "project": {"gid": self.project_gid, "name": self.project_name},
            "as_of": self.as_of.isoformat(),
            "health": self.health,
            "reasons": list(self.reasons),
            "previous_health": self.previous_health,
            "since": None if self.since is None else self.since.isoformat(),
            "tasks_completed": self.tasks_completed,
            "tasks_added": self.tasks_added,
            "p85": None if self.p85 is None else self.p85.isoformat(),
            "due": None if self.due is None else self.due.isoformat(),
            "probability_on_time": self.probability_on_time,
            "calibration": {"judged": self.judged, "held": self.held},
            "moved": None if self.moved is None else self.moved.to_json(),
            "milestones_at_risk": [risk.to_json() for risk in self.milestones_at_risk],
            "unblock_first": [item.to_json() for item in self.unblock_first],
            "overloaded": [owner.to_json() for owner in self.overloaded],
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusFacts:
        moved = data["moved"]
        return cls(
            project_gid=data["project"]["gid"],
            project_name=data["project"]["name"],
            as_of=date.fromisoformat(data["as_of"]),
            health=data["health"],
            reasons=tuple(data["reasons"]),
            previous_health=data["previous_health"],
            since=_day(data["since"]),
            tasks_completed=data["tasks_completed"],
            tasks_added=data["tasks_added"],
            p85=_day(data["p85"]),
            due=_day(data["due"]),
            probability_on_time=data["probability_on_time"],
            judged=data["calibration"]["judged"],
            held=data["calibration"]["held"],
            moved=None if moved is None else Moved.from_json(moved),
            milestones_at_risk=tuple(MilestoneRisk.from_json(entry) for entry in data["milestones_at_risk"]),
            unblock_first=tuple(UnblockItem.from_json(entry) for entry in data["unblock_first"]),
            overloaded=tuple(OverloadedOwner.from_json(entry) for entry in data["overloaded"]),
            note=data["note"],
        )


def milestones_at_risk(
    milestones: Sequence[MilestoneForecast], previous_p85: Mapping[str, date | None] | None = None
) -> tuple[MilestoneRisk, ...]:
    """The milestones less than 85 % likely to make their due date, or with no forecast, least likely first."""
    before = previous_p85 or {}
    risky = [
        milestone
        for milestone in milestones
        if milestone.reason is not None
        or (milestone.probability_on_time is not None and milestone.probability_on_time < AT_RISK_BELOW)
    ]
    risky.sort(key=lambda m: (m.probability_on_time is not None, m.probability_on_time or 0.0, m.name, m.gid))
    return tuple(
        MilestoneRisk(m.gid, m.name, m.project_gid, m.due, m.p85, before.get(m.gid), m.probability_on_time, m.reason)
        for m in risky
    )
