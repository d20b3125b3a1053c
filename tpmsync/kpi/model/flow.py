"""Flow results: one day's lead and cycle times, WIP and aging, and the daily history of a window.

`tpmsync.kpi.flow.compute_flow` gives `FlowKpis` (a project's `flow` object, docs/kpis.md "Flow");
`tpmsync.kpi.flow_daily.daily_flow` gives `FlowHistory` (the cumulative flow diagram and the
throughput run chart).  Every type has `to_json` and a `from_json` that gives back an equal value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from tpmsync.kpi.model.inputs import SectionRef
from tpmsync.kpi.model.values import Json, JsonObject, limited


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Nearest-rank p50/p85/p95 of `n` values in days; all None (and `reason`) when n < 5."""

    p50: int | None
    p85: int | None
    p95: int | None
    n: int
    reason: str | None = None

    def to_json(self) -> JsonObject:
        return {"p50": self.p50, "p85": self.p85, "p95": self.p95, "n": self.n, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Json) -> Percentiles:
        return cls(p50=data["p50"], p85=data["p85"], p95=data["p95"], n=data["n"], reason=data.get("reason"))


class WipItem(NamedTuple):
    """An open task in a started section on as_of, `age_days` = as_of − started_on + 1."""

    gid: str
    name: str
    section: str
    started_on: date
    age_days: int

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "section": self.section,
            "started_on": self.started_on.isoformat(),
            "age_days": self.age_days,
        }

    @classmethod
    def from_json(cls, data: Json) -> WipItem:
        return cls(data["gid"], data["name"], data["section"], date.fromisoformat(data["started_on"]), data["age_days"])


class CompletedItem(NamedTuple):
    """A task completed in the window, with its lead time and cycle time (None: never started)."""

    gid: str
    name: str
    completed_on: date
    lead_days: int
    cycle_days: int | None

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "completed_on": self.completed_on.isoformat(),
            "lead_days": self.lead_days,
            "cycle_days": self.cycle_days,
        }

    @classmethod
    def from_json(cls, data: Json) -> CompletedItem:
        return cls(
            data["gid"], data["name"], date.fromisoformat(data["completed_on"]), data["lead_days"], data["cycle_days"]
        )


@dataclass(frozen=True, slots=True)
class FlowKpis:
    """Flow of one project on `as_of`.  `to_json()` is the `flow` object of docs/kpis.md plus extra keys.

    `aging_tasks` are the aging WIP tasks, oldest first; `wip_tasks` every WIP task, oldest
    first (the aging chart); `completed` the tasks completed in the window, latest first (the
    cycle-time scatterplot).
    """

    as_of: date
    window_start: date
    started_sections: tuple[str, ...]
    wip: int
    aging: int | None
    lead_time: Percentiles
    cycle_time: Percentiles
    aging_tasks: tuple[WipItem, ...]
    wip_tasks: tuple[WipItem, ...]
    completed: tuple[CompletedItem, ...]

    def to_json(self, max_items: int | None = None) -> JsonObject:
        """`max_items` caps the lists (not the counts); None keeps them whole."""

        def cap(items: Sequence[WipItem | CompletedItem]) -> list[JsonObject]:
            return [item.to_json() for item in limited(items, max_items)]

        return {
            "wip": self.wip,
            "aging": self.aging,
            "lead_time": self.lead_time.to_json(),
            "cycle_time": self.cycle_time.to_json(),
            "aging_tasks": cap(self.aging_tasks),
            "as_of": self.as_of.isoformat(),
            "window": {"start": self.window_start.isoformat(), "end": self.as_of.isoformat()},
            "started_sections": list(self.started_sections),
            "wip_tasks": cap(self.wip_tasks),
            "completed_tasks": cap(self.completed),
        }

    @classmethod
    def from_json(cls, data: Json) -> FlowKpis:
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            window_start=date.fromisoformat(data["window"]["start"]),
            started_sections=tuple(data["started_sections"]),
            wip=data["wip"],
            aging=data["aging"],
            lead_time=Percentiles.from_json(data["lead_time"]),
            cycle_time=Percentiles.from_json(data["cycle_time"]),
            aging_tasks=tuple(WipItem.from_json(item) for item in data["aging_tasks"]),
            wip_tasks=tuple(WipItem.from_json(item) for item in data["wip_tasks"]),
            completed=tuple(CompletedItem.from_json(item) for item in data["completed_tasks"]),
        )


class FlowDay(NamedTuple):
    """One day at its end: open tasks per section (in `FlowHistory.sections` order), open tasks in
    no section of the project (subtasks), tasks completed so far, and tasks completed that day."""

    day: date
    sections: tuple[int, ...]
    no_section: int
    completed: int
    throughput: int

    def to_json(self) -> JsonObject:
        return {
            "day": self.day.isoformat(),
            "sections": list(self.sections),
            "no_section": self.no_section,
            "completed": self.completed,
            "throughput": self.throughput,
        }

    @classmethod
    def from_json(cls, data: Json) -> FlowDay:
        return cls(
            date.fromisoformat(data["day"]),
            tuple(data["sections"]),
            data["no_section"],
            data["completed"],
            data["throughput"],
        )


@dataclass(frozen=True, slots=True)
class FlowHistory:
    """The cumulative flow diagram and the throughput run chart of one project.

    `sections` are the columns: the project's sections in board order, then sections that only
    stories still name (deleted since); `started[i]` says whether column i is a started section.
    """

    sections: tuple[SectionRef, ...]
    started: tuple[bool, ...]
    days: tuple[FlowDay, ...]

    def to_json(self) -> JsonObject:
        return {
            "sections": [
                {"gid": ref.gid, "name": ref.name, "started": flag}
                for ref, flag in zip(self.sections, self.started, strict=True)
            ],
            "days": [day.to_json() for day in self.days],
        }

    @classmethod
    def from_json(cls, data: Json) -> FlowHistory:
        return cls(
            sections=tuple(SectionRef(item["gid"], item["name"]) for item in data["sections"]),
            started=tuple(bool(item["started"]) for item in data["sections"]),
            days=tuple(FlowDay.from_json(item) for item in data["days"]),
        )
