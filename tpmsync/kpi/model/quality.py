"""Data-quality results: the gaps in a project's data that make other KPIs less sure.

Computed by `tpmsync.kpi.quality`; `DataQuality.to_json` is a project's `data_quality` object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.values import Json, JsonObject, limited, task_from_json, task_json, task_ref


class ParentWithOpenSubtasks(NamedTuple):
    parent: TaskInput
    open_subtasks: tuple[TaskInput, ...]

    def to_json(self) -> JsonObject:
        return {**task_json(self.parent), "open_subtasks": [ref.gid for ref in self.open_subtasks]}


class DependencyLink(NamedTuple):
    """An edge `task` → `dependency`; `dependency` is None when the engine was not given it."""

    task: TaskInput
    dependency_gid: str
    dependency: TaskInput | None

    def to_json(self) -> JsonObject:
        return {
            "task": self.task.gid,
            "task_name": self.task.name,
            "dependency": self.dependency_gid,
            "dependency_name": None if self.dependency is None else self.dependency.name,
        }


@dataclass(frozen=True, slots=True)
class DataQuality:
    open_without_due: tuple[TaskInput, ...]
    open_without_assignee: tuple[TaskInput, ...]
    completed_parents_with_open_subtasks: tuple[ParentWithOpenSubtasks, ...]
    completed_dependencies: tuple[DependencyLink, ...]
    due_before_start: tuple[TaskInput, ...]
    unknown_dependencies: tuple[DependencyLink, ...]

    def to_json(self, max_items: int | None = None) -> JsonObject:
        def refs(items: Sequence[TaskInput]) -> list[JsonObject]:
            return [{"gid": ref.gid, "name": ref.name} for ref in limited(items, max_items)]

        return {
            "open_without_due": len(self.open_without_due),
            "open_without_assignee": len(self.open_without_assignee),
            "completed_parents_with_open_subtasks": len(self.completed_parents_with_open_subtasks),
            "completed_dependencies": len(self.completed_dependencies),
            "due_before_start": len(self.due_before_start),
            "unknown_dependencies": len(self.unknown_dependencies),
            "open_without_due_tasks": refs(self.open_without_due),
            "open_without_assignee_tasks": refs(self.open_without_assignee),
            "completed_parents_with_open_subtasks_tasks": [
                item.to_json() for item in limited(self.completed_parents_with_open_subtasks, max_items)
            ],
            "completed_dependencies_links": [
                link.to_json() for link in limited(self.completed_dependencies, max_items)
            ],
            "due_before_start_tasks": refs(self.due_before_start),
            "unknown_dependencies_links": [link.to_json() for link in limited(self.unknown_dependencies, max_items)],
        }

    @classmethod
    def from_json(cls, data: Json) -> DataQuality:
        """The data-quality KPIs whose `to_json()` is `data` (no list cut short)."""

        def refs(items: Sequence[Json]) -> tuple[TaskInput, ...]:
            return tuple(task_ref(item["gid"], item["name"]) for item in items)

        def links(items: Sequence[Json]) -> tuple[DependencyLink, ...]:
            return tuple(
                DependencyLink(
                    task_ref(link["task"], link["task_name"]),
                    link["dependency"],
                    None if link["dependency_name"] is None else task_ref(link["dependency"], link["dependency_name"]),
                )
                for link in items
            )

        return cls(
            open_without_due=refs(data["open_without_due_tasks"]),
            open_without_assignee=refs(data["open_without_assignee_tasks"]),
            completed_parents_with_open_subtasks=tuple(
                ParentWithOpenSubtasks(task_from_json(item), tuple(task_ref(g) for g in item["open_subtasks"]))
                for item in data["completed_parents_with_open_subtasks_tasks"]
            ),
            completed_dependencies=links(data["completed_dependencies_links"]),
            due_before_start=refs(data["due_before_start_tasks"]),
            unknown_dependencies=links(data["unknown_dependencies_links"]),
        )
