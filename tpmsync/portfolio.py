"""The one portfolio roll-up: the worst health of the projects, their counts summed.

Used by the status document (from project JSON, on the fast path too: stdlib only) and by the
report (from its typed project headlines). A task in two reported projects counts in both: each
project reports its own set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

HEALTH_ORDER = {"green": 0, "amber": 1, "red": 2}


def worst_health(healths: Iterable[str | None]) -> str | None:
    """The worst of the known healths (green < amber < red); None when none is known."""
    known = [h for h in healths if h is not None]
    return max(known, key=lambda h: HEALTH_ORDER.get(h, 0)) if known else None


class Row(NamedTuple):
    """What the roll-up needs of one project."""

    name: str
    health: str
    total: int
    open: int
    completed: int
    overdue: int
    due_soon: int
    blocked: int
    blocked_by_overdue: int
    slipped: int


def row_of_json(project: Mapping[str, Any]) -> Row:
    """The row of a project JSON object (`ProjectKpis.to_json()`)."""
    tasks, deadline, deps = project["tasks"], project["deadline"], project["dependencies"]
    return Row(
        project["name"], project["health"], tasks["total"], tasks["open"], tasks["completed"], deadline["overdue"],
        deadline["due_soon"], deps["blocked"], deps["blocked_by_overdue"], deadline["slipped"],
    )


@dataclass(frozen=True)
class Portfolio:
    health: str
    projects: int
    total: int
    open: int
    completed: int
    overdue: int
    due_soon: int
    blocked: int
    blocked_by_overdue: int
    slipped: int
    red: tuple[str, ...]
    amber: tuple[str, ...]
    green: tuple[str, ...]

    def status_json(self) -> dict[str, Any]:
        """The `portfolio` object of the status document (the contract keys of docs/kpis.md first)."""
        return {
            "health": self.health,
            "projects": self.projects,
            "open": self.open,
            "overdue": self.overdue,
            "blocked": self.blocked,
            "red": list(self.red),
            "amber": list(self.amber),
            "green": list(self.green),
        }


def roll_up(rows: Iterable[Row]) -> Portfolio:
    """All projects together: health is the worst project's (green when there are none), counts are summed."""
    items = list(rows)

    def names(health: str) -> tuple[str, ...]:
        return tuple(r.name for r in items if r.health == health)

    return Portfolio(
        health=worst_health(r.health for r in items) or "green",
        projects=len(items),
        total=sum(r.total for r in items),
        open=sum(r.open for r in items),
        completed=sum(r.completed for r in items),
        overdue=sum(r.overdue for r in items),
        due_soon=sum(r.due_soon for r in items),
        blocked=sum(r.blocked for r in items),
        blocked_by_overdue=sum(r.blocked_by_overdue for r in items),
        slipped=sum(r.slipped for r in items),
        red=names("red"),
        amber=names("amber"),
        green=names("green"),
    )
