"""Dependency results: blocked tasks, schedule conflicts, cycles and the critical path (CPM).

Computed by `tpmsync.kpi.dependencies`; `DependencyKpis.to_json` is a project's `dependencies`
object.  Read back, the lists keep their edges, so `open_dependencies` answers as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    task_ref,
    tasks_from_json,
)


class BlockedTask(NamedTuple):
    """A blocked task with its open dependencies and, among them, the overdue ones."""

    task: TaskInput
    open_dependencies: tuple[TaskInput, ...]
    overdue_dependencies: tuple[TaskInput, ...]

    def to_json(self) -> JsonObject:
        return {
            **task_json(self.task),
            "blocked_by": [ref.gid for ref in self.open_dependencies],
            "overdue_blockers": [ref.gid for ref in self.overdue_dependencies],
        }


class Conflict(NamedTuple):
    """`task` depends on `dependency`, and the dependency is due after the task."""

    task: TaskInput
    dependency: TaskInput

    def to_json(self) -> JsonObject:
        return {
            "task": self.task.gid,
            "task_name": self.task.name,
            "task_due": iso(self.task.due),
            "dependency": self.dependency.gid,
            "dependency_name": self.dependency.name,
            "dependency_due": iso(self.dependency.due),
        }


class ScheduleEntry(NamedTuple):
    """CPM numbers of one open task, in days from the start of the network (day 0).

    `early_finish = early_start + duration`; `total_float = late_start − early_start`.
    """

    duration: int
    early_start: int
    early_finish: int
    late_start: int
    late_finish: int
    total_float: int


class Schedule(Mapping[str, ScheduleEntry]):
    """CPM numbers by task gid, for the open tasks not in a cycle (built on lookup)."""

    __slots__ = ("_durations", "_early_start", "_index", "_late_finish")

    def __init__(
        self,
        node_of: Mapping[str, int],
        durations: Sequence[int],
        early_start: Sequence[int],
        late_finish: Sequence[int],
        scheduled: Sequence[bool],
    ) -> None:
        """`node_of` maps each open task's gid to its position in the other sequences."""
        self._index = {gid: node for gid, node in node_of.items() if scheduled[node]}
        self._durations = tuple(durations)
        self._early_start = tuple(early_start)
        self._late_finish = tuple(late_finish)

    def __getitem__(self, gid: str) -> ScheduleEntry:
        node = self._index[gid]
        duration = self._durations[node]
        es = self._early_start[node]
        lf = self._late_finish[node]
        ls = lf - duration
        return ScheduleEntry(duration, es, es + duration, ls, lf, ls - es)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


@dataclass(frozen=True, slots=True)
class DependencyKpis:
    """Dependency health and the critical path.

    `blocked` are the blocked tasks (`open_dependencies()` names their blockers);
    `blocked_by_overdue` carries the blockers with each task.  `cycles` lists each dependency
    cycle (a strongly connected component of more than one open task, or an open task depending
    on itself) as its tasks.  `schedule` holds the CPM numbers of every open task that is not in
    a cycle; `critical_path` runs first → last.  `known_tasks` are the set and the outside tasks
    by gid.
    """

    blocked: tuple[TaskInput, ...]
    blocked_by_overdue: tuple[BlockedTask, ...]
    conflicts: tuple[Conflict, ...]
    cross_project: tuple[TaskInput, ...]
    cycles: tuple[tuple[TaskInput, ...], ...]
    critical_path: tuple[TaskInput, ...]
    critical_path_days: int
    schedule: Schedule
    known_tasks: Mapping[str, TaskInput] = field(default_factory=dict, repr=False, compare=False)

    def open_dependencies(self, task: TaskInput) -> tuple[TaskInput, ...]:
        """The open dependencies of `task` among the tasks the engine was given."""
        known = self.known_tasks
        found = (known.get(gid) for gid in dict.fromkeys(task.dependency_gids))
        return tuple(dep for dep in found if dep is not None and not dep.completed)

    def to_json(self, max_items: int | None = None) -> JsonObject:
        """The `dependencies` object; `max_items` caps the task lists (not the counts or the critical path)."""
        schedule = self.schedule
        return {
            "blocked": len(self.blocked),
            "blocked_by_overdue": len(self.blocked_by_overdue),
            "conflicts": len(self.conflicts),
            "cross_project": len(self.cross_project),
            "cycles": len(self.cycles),
            "critical_path": [ref.gid for ref in self.critical_path],
            "critical_path_days": self.critical_path_days,
            "critical_path_tasks": [{**task_json(t), **schedule[t.gid]._asdict()} for t in self.critical_path],
            "blocked_tasks": [
                {**task_json(task), "blocked_by": [dep.gid for dep in self.open_dependencies(task)]}
                for task in limited(self.blocked, max_items)
            ],
            "blocked_by_overdue_tasks": [b.to_json() for b in limited(self.blocked_by_overdue, max_items)],
            "conflict_edges": [c.to_json() for c in limited(self.conflicts, max_items)],
            "cross_project_tasks": [
                {**task_json(task), "project_gid": task.project_gid, "project_name": task.project_name}
                for task in limited(self.cross_project, max_items)
            ],
            "cycle_tasks": [[ref.gid for ref in cycle] for cycle in limited(self.cycles, max_items)],
        }

    @classmethod
    def from_json(cls, data: Json) -> DependencyKpis:
        """The dependency KPIs whose `to_json()` is `data` (no list cut short)."""
        known: dict[str, TaskInput] = {}

        def blocker(gid: str) -> TaskInput:
            return known.setdefault(gid, task_ref(gid))

        blocked = tuple(
            task_from_json(item, dependency_gids=tuple(blocker(g).gid for g in item["blocked_by"]))
            for item in data["blocked_tasks"]
        )
        by_overdue = tuple(
            BlockedTask(
                task_from_json(item, dependency_gids=tuple(item["blocked_by"])),
                tuple(blocker(g) for g in item["blocked_by"]),
                tuple(blocker(g) for g in item["overdue_blockers"]),
            )
            for item in data["blocked_by_overdue_tasks"]
        )
        conflicts = tuple(
            Conflict(
                TaskInput(gid=c["task"], name=c["task_name"], due=day_or_none(c["task_due"])),
                TaskInput(gid=c["dependency"], name=c["dependency_name"], due=day_or_none(c["dependency_due"])),
            )
            for c in data["conflict_edges"]
        )
        path_items = data["critical_path_tasks"]
        schedule = Schedule(
            {item["gid"]: node for node, item in enumerate(path_items)},
            [item["duration"] for item in path_items],
            [item["early_start"] for item in path_items],
            [item["late_finish"] for item in path_items],
            [True] * len(path_items),
        )
        return cls(
            blocked=blocked,
            blocked_by_overdue=by_overdue,
            conflicts=conflicts,
            cross_project=tuple(
                task_from_json(item, project_gid=item["project_gid"], project_name=item["project_name"])
                for item in data["cross_project_tasks"]
            ),
            cycles=tuple(tuple(task_ref(gid) for gid in cycle) for cycle in data["cycle_tasks"]),
            critical_path=tasks_from_json(path_items),
            critical_path_days=data["critical_path_days"],
            schedule=schedule,
            known_tasks=known,
        )
