"""How KPI results write dates, tasks and capped lists in JSON, and read them back.

One place for the small encodings every result type shares: a date is its ISO string (None stays
None), a task is named by `task_json` (gid, name, due date, assignee and link), and a list may be
cut to `max_items`.  The `from_json` side reads the same shapes back into `TaskInput`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from tpmsync.kpi.model.inputs import TaskInput

JsonObject = dict[str, Any]
"""A JSON object as a result's `to_json` writes it."""
Json = Mapping[str, Any]
"""A JSON object as a `from_json` reads it."""

_Item = TypeVar("_Item")


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def day_or_none(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def limited(items: Sequence[_Item], max_items: int | None) -> Sequence[_Item]:
    return items if max_items is None else items[:max_items]


def task_json(task: TaskInput) -> JsonObject:
    """How a task is named in JSON: gid, name, due date, assignee and link."""
    return {
        "gid": task.gid,
        "name": task.name,
        "due": iso(task.due),
        "assignee": task.assignee_name,
        "url": task.permalink_url,
    }


def task_from_json(item: Json, **extra: Any) -> TaskInput:
    """A task as `task_json` named it (gid, name, due, assignee, url), plus `extra` fields."""
    return TaskInput(
        gid=item["gid"],
        name=item["name"],
        due=day_or_none(item.get("due")),
        assignee_name=item.get("assignee"),
        permalink_url=item.get("url"),
        **extra,
    )


def tasks_from_json(items: Sequence[Json]) -> tuple[TaskInput, ...]:
    return tuple(task_from_json(item) for item in items)


def task_ref(gid: str, name: str | None = None) -> TaskInput:
    """A task JSON names only by gid (and maybe name): the name is the gid when not given."""
    return TaskInput(gid=gid, name=name if name is not None else gid)
