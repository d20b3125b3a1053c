"""People: workload across every tracked project (docs/kpis.md "People").

Pure.  Over the union of all tracked projects' task sets, each task once (a multi-homed task is
not double-counted; its estimate is the one of the first project it was loaded through), per
assignee: open, overdue, due in the horizon, estimated load against capacity, and the open
tasks they own on any project's critical path.  Unassigned tasks are left out.  Choices are in
docs/kpis.md, "People".
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tpmsync.kpi.capacity import load_text
from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.values import Json, JsonObject


@dataclass(frozen=True, slots=True)
class WorkloadSettings:
    """`[workload]`: the capacity of one person and the horizon load is measured over."""

    hours_per_week: float = 32
    horizon_days: int = 14

    def __post_init__(self) -> None:
        if not self.hours_per_week > 0:
            raise ValueError(f"workload.hours_per_week must be above 0, got {self.hours_per_week}")
        if self.horizon_days < 1:
            raise ValueError(f"workload.horizon_days must be at least 1, got {self.horizon_days}")

    @property
    def capacity_hours(self) -> float:
        return self.hours_per_week * self.horizon_days / 7


@dataclass(frozen=True, slots=True)
class PersonLoad:
    """One assignee's workload on as_of.  `critical_tasks` are gids, first by due date."""

    gid: str
    name: str
    open: int
    overdue: int
    due_in_horizon: int
    load_hours: float
    unestimated: int
    capacity_hours: float
    load_ratio: float
    critical_tasks: tuple[str, ...]

    @property
    def overloaded(self) -> bool:
        return self.load_ratio > 1

    def to_json(self) -> JsonObject:
        """The docs/kpis.md entry; `critical_tasks` is the count, `critical_task_gids` the tasks."""
        return {
            "gid": self.gid,
            "name": self.name,
            "open": self.open,
            "overdue": self.overdue,
            "due_in_horizon": self.due_in_horizon,
            "load_hours": self.load_hours,
            "unestimated": self.unestimated,
            "capacity_hours": self.capacity_hours,
            "load_ratio": self.load_ratio,
            "overloaded": self.overloaded,
            "critical_tasks": len(self.critical_tasks),
            "critical_task_gids": list(self.critical_tasks),
        }

    @classmethod
    def from_json(cls, data: Json) -> PersonLoad:
        return cls(
            gid=data["gid"],
            name=data["name"],
            open=data["open"],
            overdue=data["overdue"],
            due_in_horizon=data["due_in_horizon"],
            load_hours=data["load_hours"],
            unestimated=data["unestimated"],
            capacity_hours=data["capacity_hours"],
            load_ratio=data["load_ratio"],
            critical_tasks=tuple(data["critical_task_gids"]),
        )


def people_from_json(items: Iterable[Json]) -> tuple[PersonLoad, ...]:
    """The status document's top-level `people` list, typed (in its order)."""
    return tuple(PersonLoad.from_json(item) for item in items)


def compute_people(
    task_sets: Iterable[Sequence[TaskInput]],
    critical_task_gids: Collection[str],
    as_of: date,
    settings: WorkloadSettings | None = None,
) -> tuple[PersonLoad, ...]:
    """Workload per assignee over the union of `task_sets` (one per tracked project, in the order
    the projects were loaded), sorted by load_ratio descending, then name.

    `critical_task_gids`: the gids on any project's critical path.  A person is listed when they
    have at least one open task.
    """
    settings = settings or WorkloadSettings()
    horizon_end = as_of + timedelta(days=settings.horizon_days - 1)
    capacity = settings.capacity_hours
    seen: set[str] = set()
    by_person: dict[str, list[TaskInput]] = {}
    names: dict[str, str] = {}
    for tasks in task_sets:
        for task in tasks:
            # a task is open or completed, assigned or not, in every set alike: only open,
            # assigned tasks need the once-only check
            assignee = task.assignee_gid
            if assignee is None or task.completed or task.gid in seen:
                continue
            seen.add(task.gid)
            by_person.setdefault(assignee, []).append(task)
            if task.assignee_name and assignee not in names:
                names[assignee] = task.assignee_name

    people: list[PersonLoad] = []
    for gid, tasks in by_person.items():
        overdue = 0
        due_in_horizon = 0
        estimates: list[float] = []
        unestimated = 0
        critical: list[TaskInput] = []
        for task in tasks:
            due = task.due
            if task.gid in critical_task_gids:
                critical.append(task)
            if due is None or due > horizon_end:
                continue
            if due < as_of:
                overdue += 1
            else:
                due_in_horizon += 1
            if task.estimate_hours is None:
                unestimated += 1
            else:
                estimates.append(task.estimate_hours)
        critical.sort(key=lambda task: (task.due or date.max, task.name.casefold(), task.gid))
        # summed exactly (then rounded once): hours that add up to the capacity are not over it
        load = math.fsum(estimates)
        people.append(
            PersonLoad(
                gid=gid,
                name=names.get(gid, gid),
                open=len(tasks),
                overdue=overdue,
                due_in_horizon=due_in_horizon,
                load_hours=load,
                unestimated=unestimated,
                capacity_hours=capacity,
                load_ratio=load / capacity,
                critical_tasks=tuple(task.gid for task in critical),
            )
        )
    people.sort(key=lambda person: (-person.load_ratio, person.name.casefold(), person.gid))
    return tuple(people)


@dataclass(frozen=True, slots=True)
class OverloadedOwner:
    """An overloaded person who owns open tasks on this project's critical path."""

    person: PersonLoad
    critical_here: tuple[str, ...]


def overloaded_owners(people: Sequence[PersonLoad], critical_path: Sequence[str]) -> tuple[OverloadedOwner, ...]:
    """The overloaded people owning tasks of one project's critical path, most loaded first."""
    on_path = set(critical_path)
    found = []
    for person in people:
        if not person.overloaded:
            continue
        here = tuple(gid for gid in person.critical_tasks if gid in on_path)
        if here:
            found.append(OverloadedOwner(person, here))
    return tuple(found)


def overload_reason(owner: OverloadedOwner, horizon_days: int) -> str:
    """"Ana owns 3 critical tasks and is at 180 % of capacity for the next 14 days"."""
    count = len(owner.critical_here)
    tasks = "critical task" if count == 1 else "critical tasks"
    return (
        f"{owner.person.name} owns {count} {tasks} and is at {load_text(owner.person.load_ratio)} % of capacity "
        f"for the next {horizon_days} days"
    )
