"""KPI results read back from their JSON (`to_json`), so stored snapshots come back typed.

`project_kpis_from_json(data, as_of)` inverts `ProjectKpis.to_json()` (with every list whole, as
snapshots are stored): `to_json` of the result equals `data`. Tasks come back as `TaskInput`s that
carry what the JSON names (gid, name, due date, assignee, link, and the dates a list adds); the
dependency lists come back with their edges, so `DependencyKpis.open_dependencies` answers as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from tpmsync.kpi.flow import FlowKpis
from tpmsync.kpi.forecast_detail import ForecastDetail
from tpmsync.kpi.model import (
    AsanaBudget,
    BlockedTask,
    BudgetKpis,
    Conflict,
    DataQuality,
    DeadlineKpis,
    DependencyKpis,
    DependencyLink,
    Forecast,
    Health,
    Milestone,
    MilestoneState,
    ParentWithOpenSubtasks,
    ProjectKpis,
    Schedule,
    SlippedTask,
    StalledTask,
    TaskCounts,
    TaskInput,
    Verdict,
)

Json = Mapping[str, Any]


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def task_from_json(item: Json, **extra: Any) -> TaskInput:
    """A task as `task_json` named it (gid, name, due, assignee, url), plus `extra` fields."""
    return TaskInput(
        gid=item["gid"],
        name=item["name"],
        due=_day(item.get("due")),
        assignee_name=item.get("assignee"),
        permalink_url=item.get("url"),
        **extra,
    )


def _tasks(items: Sequence[Json]) -> tuple[TaskInput, ...]:
    return tuple(task_from_json(item) for item in items)


def _ref(gid: str, name: str | None = None) -> TaskInput:
    return TaskInput(gid=gid, name=name if name is not None else gid)


def deadline_from_json(data: Json) -> DeadlineKpis:
    return DeadlineKpis(
        overdue=_tasks(data["overdue_tasks"]),
        due_soon=_tasks(data["due_soon_tasks"]),
        on_time_rate=data["on_time_rate"],
        completed_on_time=data["completed_on_time"],
        completed_with_due=data["completed_with_due"],
        slipped=tuple(
            SlippedTask(task_from_json(s), _day(s["baseline_due"]), _day(s["current_due"]), s["times_moved_later"],
                        s["slip_days"])
            for s in data["slipped_tasks"]
        ),
        milestones=tuple(
            Milestone(task_from_json(m, completed_on=_day(m["completed_on"])), MilestoneState(m["state"]))
            for m in data["milestones"]
        ),
        stalled=tuple(
            StalledTask(task_from_json(s, modified_on=_day(s["modified_on"])), s["idle_days"])
            for s in data["stalled_tasks"]
        ),
    )


def forecast_from_json(data: Json) -> Forecast:
    window = data["throughput_window"]
    return Forecast(
        due_on=_day(data["due_on"]),
        remaining=data["remaining"],
        p50=_day(data["p50"]),
        p85=_day(data["p85"]),
        p95=_day(data["p95"]),
        probability_on_time=data["probability_on_time"],
        trials=data["trials"],
        window_start=date.fromisoformat(window["start"]),
        window_end=date.fromisoformat(window["end"]),
        days_with_completions=data["days_with_completions"],
        completed_in_window=data["completed_in_window"],
        reason=data["reason"],
    )


def budget_from_json(data: Json) -> BudgetKpis:
    fields = BudgetKpis.__dataclass_fields__
    return BudgetKpis(**{name: data[name] for name in fields})


def asana_budget_from_json(data: Json) -> AsanaBudget:
    return AsanaBudget(data["budget_type"], data["unit"], data["estimate"], data["actual"], data["total"])


def dependencies_from_json(data: Json) -> DependencyKpis:
    known: dict[str, TaskInput] = {}

    def blocker(gid: str) -> TaskInput:
        return known.setdefault(gid, _ref(gid))

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
            TaskInput(gid=c["task"], name=c["task_name"], due=_day(c["task_due"])),
            TaskInput(gid=c["dependency"], name=c["dependency_name"], due=_day(c["dependency_due"])),
        )
        for c in data["conflict_edges"]
    )
    path_items = data["critical_path_tasks"]
    critical_path = _tasks(path_items)
    schedule = Schedule(
        {item["gid"]: node for node, item in enumerate(path_items)},
        [item["duration"] for item in path_items],
        [item["early_start"] for item in path_items],
        [item["late_finish"] for item in path_items],
        [True] * len(path_items),
    )
    return DependencyKpis(
        blocked=blocked,
        blocked_by_overdue=by_overdue,
        conflicts=conflicts,
        cross_project=tuple(
            task_from_json(item, project_gid=item["project_gid"], project_name=item["project_name"])
            for item in data["cross_project_tasks"]
        ),
        cycles=tuple(tuple(_ref(gid) for gid in cycle) for cycle in data["cycle_tasks"]),
        critical_path=critical_path,
        critical_path_days=data["critical_path_days"],
        schedule=schedule,
        known_tasks=known,
    )


def data_quality_from_json(data: Json) -> DataQuality:
    def refs(items: Sequence[Json]) -> tuple[TaskInput, ...]:
        return tuple(_ref(item["gid"], item["name"]) for item in items)

    def links(items: Sequence[Json]) -> tuple[DependencyLink, ...]:
        return tuple(
            DependencyLink(
                _ref(link["task"], link["task_name"]),
                link["dependency"],
                None if link["dependency_name"] is None else _ref(link["dependency"], link["dependency_name"]),
            )
            for link in items
        )

    return DataQuality(
        open_without_due=refs(data["open_without_due_tasks"]),
        open_without_assignee=refs(data["open_without_assignee_tasks"]),
        completed_parents_with_open_subtasks=tuple(
            ParentWithOpenSubtasks(task_from_json(item), tuple(_ref(g) for g in item["open_subtasks"]))
            for item in data["completed_parents_with_open_subtasks_tasks"]
        ),
        completed_dependencies=links(data["completed_dependencies_links"]),
        due_before_start=refs(data["due_before_start_tasks"]),
        unknown_dependencies=links(data["unknown_dependencies_links"]),
    )


def project_kpis_from_json(data: Json, as_of: date) -> ProjectKpis:
    """The `ProjectKpis` whose `to_json()` is `data` (as stored: no list cut short)."""
    deadline = data["deadline"]
    return ProjectKpis(
        gid=data["gid"],
        name=data["name"],
        as_of=as_of,
        health=Health(data["health"]),
        reasons=tuple(data["reasons"]),
        tasks=TaskCounts(**data["tasks"]),
        deadline=deadline_from_json(deadline),
        forecast=forecast_from_json(deadline["forecast"]),
        budget=None if data["budget"] is None else budget_from_json(data["budget"]),
        asana_budget=None if data["asana_budget"] is None else asana_budget_from_json(data["asana_budget"]),
        dependencies=dependencies_from_json(data["dependencies"]),
        data_quality=data_quality_from_json(data["data_quality"]),
        verdicts=tuple(
            Verdict(kpi, v["area"], Health(v["health"]), tuple(v["reasons"])) for kpi, v in data["verdicts"].items()
        ),
        permalink_url=data["url"],
        notes=tuple(data["notes"]),
        flow=None if data.get("flow") is None else FlowKpis.from_json(data["flow"]),
        forecast_detail=forecast_detail_from_json(deadline["forecast"]),
    )


def forecast_detail_from_json(data: Json) -> ForecastDetail | None:
    """The forecast detail in `deadline.forecast`; None when it was not computed (an older snapshot)."""
    return ForecastDetail.from_json(data) if "how_many" in data else None

