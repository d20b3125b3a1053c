"""The one portfolio roll-up: the worst health of the projects, and their counts over the union
of their task sets.

Used by the status document (from project JSON, on the fast path too: stdlib only) and by the
report (from its typed project headlines). Each project reports its own set, so a task in two
reported projects is in both projects' counts; the portfolio counts it once: each project lists
the counts its shared tasks are in (`multi_homed`, gid → count names), and every repeat of a task
is taken off the sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

HEALTH_ORDER = {"green": 0, "amber": 1, "red": 2}
COUNTS = ("total", "open", "completed", "overdue", "due_soon", "blocked", "blocked_by_overdue", "slipped")
"""The counts rolled up over projects, each task once (each a field of `Row` and `Portfolio`)."""
_NOTHING_SHARED: Mapping[str, Sequence[str]] = MappingProxyType({})


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
    multi_homed: Mapping[str, Sequence[str]] = _NOTHING_SHARED
    """gid → the counts above it is in, for the project's tasks that another tracked project shares."""


def row_of_json(project: Mapping[str, Any]) -> Row:
    """The row of a project JSON object (`ProjectKpis.to_json()`)."""
    tasks, deadline, deps = project["tasks"], project["deadline"], project["dependencies"]
    return Row(
        project["name"], project["health"], tasks["total"], tasks["open"], tasks["completed"], deadline["overdue"],
        deadline["due_soon"], deps["blocked"], deps["blocked_by_overdue"], deadline["slipped"],
        project.get("multi_homed") or _NOTHING_SHARED,
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


def repeats(shared: Iterable[Mapping[str, Sequence[str]]]) -> Counter[str]:
    """Per count, how many times the projects (each its shared tasks: gid → the counts it is in)
    count a task that an earlier project already counted."""
    seen: dict[str, set[str]] = {}
    out: Counter[str] = Counter()
    for multi_homed in shared:
        for gid, counts in multi_homed.items():
            earlier = seen.setdefault(gid, set())
            out.update(name for name in set(counts) if name in earlier)
            earlier.update(counts)
    return out


def roll_up(rows: Iterable[Row]) -> Portfolio:
    """All projects together: health is the worst project's (green when there are none), counts are
    over the union of the projects' task sets (a task two projects share counts once)."""
    items = list(rows)
    twice = repeats(r.multi_homed for r in items)

    def names(health: str) -> tuple[str, ...]:
        return tuple(r.name for r in items if r.health == health)

    def union(count: str) -> int:
        total: int = sum(getattr(r, count) for r in items)
        return total - twice[count]

    return Portfolio(
        health=worst_health(r.health for r in items) or "green",
        projects=len(items),
        **{count: union(count) for count in COUNTS},
        red=names("red"),
        amber=names("amber"),
        green=names("green"),
    )
