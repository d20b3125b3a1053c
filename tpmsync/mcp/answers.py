"""What each MCP tool answers, built from the status document and the report: plain functions over JSON.

Keys that newer capabilities add to the status document (`people`, `flow`, and in the forecast
`how_many`, `milestones`, `moved`, `calibration`) are passed through when the store has them;
otherwise the answer carries `null` and, under `unavailable`, one line saying what enables them.
Nothing is made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpmsync.kpi.thresholds import Thresholds

UNAVAILABLE = {
    "people": (
        "workload per person is computed when a sync commits, over every tracked project "
        "([workload] hours_per_week and horizon_days set the capacity); run `tpmsync sync` with a tpmsync that has it"
    ),
    "how_many": (
        "'how many tasks by a date' is computed with the forecast when a sync commits; "
        "run `tpmsync sync` with a tpmsync that has it"
    ),
    "milestones": (
        "milestone forecasts are computed when a sync commits, for open milestones (Asana tasks of type "
        "milestone) with completion history; run `tpmsync sync` with a tpmsync that has them"
    ),
    "moved": (
        "'why the forecast moved' needs a stored KPI snapshot 7 or more days before as_of; "
        "every sync stores one, so it appears a week after the first sync"
    ),
    "calibration": (
        "calibration is judged from the project's daily snapshots of the last 180 days when a sync commits; "
        "run `tpmsync sync` with a tpmsync that has it"
    ),
    "flow": (
        "flow (WIP, aging, cycle time) needs a [flow] table in the config naming the started sections "
        "(e.g. started_sections = [\"In progress\"]) and a sync after it"
    ),
}

FORECAST_EXTRAS = ("how_many", "milestones", "moved", "calibration")

# lists in a project object that are kept whole: the reasons, and the critical path (one chain)
WHOLE_LISTS = frozenset({"reasons", "critical_path", "critical_path_tasks"})


def cap_lists(document: Mapping[str, Any], max_items: int) -> dict[str, Any]:
    """`document` with every task list of every project cut to its first `max_items` entries.

    Counts are untouched (they say how many there are in all), as are the reasons, the critical
    path and the portfolio; lists are ordered most urgent first, so the first entries are the ones
    to read. With `max_items` at least the longest list, the document is unchanged.
    """
    out = dict(document)
    out["projects"] = [_capped(project, max_items) for project in document["projects"]]
    return out


def _capped(value: Mapping[str, Any], max_items: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, list) and key not in WHOLE_LISTS:
            out[key] = item[:max_items]
        elif isinstance(item, Mapping):
            out[key] = _capped(item, max_items)
        else:
            out[key] = item
    return out


def find_project(document: Mapping[str, Any], selector: str) -> dict[str, Any]:
    """The project of a status document that `selector` (gid or exact name) names."""
    for project in document["projects"]:
        if selector in (project["gid"], project["name"]):
            return dict(project)
    raise LookupError(selector)


def _header(project: Mapping[str, Any], as_of: str) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "gid": project["gid"],
        "name": project["name"],
        "url": project.get("url"),
        "health": project["health"],
        "reasons": project["reasons"],
    }


def _with_explanations(values: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """`values` plus `unavailable`: for each wanted key that is null, what would enable it."""
    missing = {key: UNAVAILABLE[key] for key in wanted if values.get(key) is None}
    values["unavailable"] = missing
    return values


def project_detail(document: Mapping[str, Any], project: Mapping[str, Any]) -> dict[str, Any]:
    """Overdue, blocked, critical-path and aging tasks of one project, each with its Asana link."""
    deadline, deps = project["deadline"], project["dependencies"]
    flow = project.get("flow")
    answer = _header(project, document["as_of"])
    answer.update(
        {
            "tasks": project["tasks"],
            "overdue": {"count": deadline["overdue"], "tasks": deadline.get("overdue_tasks", [])},
            "due_soon": {"count": deadline["due_soon"], "tasks": deadline.get("due_soon_tasks", [])},
            "blocked": {"count": deps["blocked"], "tasks": deps.get("blocked_tasks", [])},
            "blocked_by_overdue": {
                "count": deps["blocked_by_overdue"],
                "tasks": deps.get("blocked_by_overdue_tasks", []),
            },
            "slipped": {"count": deadline["slipped"], "tasks": deadline.get("slipped_tasks", [])},
            "critical_path": {"days": deps["critical_path_days"], "tasks": deps.get("critical_path_tasks", [])},
            "flow": flow,
            "aging": None if flow is None else {"count": flow.get("aging"), "tasks": flow.get("aging_tasks", [])},
        }
    )
    return _with_explanations(answer, ("flow",))


def critical_path(document: Mapping[str, Any], project: Mapping[str, Any]) -> dict[str, Any]:
    """The longest chain of open dependent tasks, with each task's CPM numbers and link."""
    deps = project["dependencies"]
    forecast = project["deadline"].get("forecast") or {}
    answer = _header(project, document["as_of"])
    answer.update(
        {
            "days": deps["critical_path_days"],
            "project_due_on": forecast.get("due_on"),
            "tasks": deps.get("critical_path_tasks", []),
            "cycles": deps["cycles"],
            "cycle_tasks": deps.get("cycle_tasks", []),
            "definition": (
                "the longest chain through the project's open tasks along dependency edges; a task counts "
                "(due - start) + 1 days when both are set, else 1 day"
            ),
        }
    )
    return answer


def forecast(document: Mapping[str, Any], project: Mapping[str, Any]) -> dict[str, Any]:
    """The Monte Carlo forecast of one project, with how-many, milestones, moved and calibration when present."""
    data = project["deadline"].get("forecast")
    answer = _header(project, document["as_of"])
    answer["forecast"] = data
    extras = {key: (data or {}).get(key) for key in FORECAST_EXTRAS}
    answer.update(extras)
    return _with_explanations(answer, FORECAST_EXTRAS)


def people(document: Mapping[str, Any]) -> dict[str, Any]:
    """Workload per person across the tracked projects, when the store has it."""
    return _with_explanations({"as_of": document["as_of"], "people": document.get("people")}, ("people",))


# ----------------------------------------------------------------------------------------------
# explain_verdict: the rules of tpmsync.kpi.health, with the thresholds in force
# ----------------------------------------------------------------------------------------------

# kpi → (thresholds it reads, how the rule reads with them)
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "overdue": (
        ("overdue_share_red", "overdue_amber"),
        "red when at least one open task is overdue and overdue tasks are >= {overdue_share_red:.0%} of open "
        "tasks; amber when {overdue_amber} or more are overdue",
    ),
    "on_time_rate": (
        ("on_time_rate_red", "on_time_rate_amber"),
        "of tasks completed in the last 30 days with a due date, the share done on time: red below "
        "{on_time_rate_red:.0%}, amber below {on_time_rate_amber:.0%}",
    ),
    "slipped": (
        ("slipped_share_red", "slipped_amber"),
        "open tasks whose due date moved later: red when >= {slipped_share_red:.0%} of open tasks, "
        "amber when {slipped_amber} or more",
    ),
    "stalled": (
        ("stalled_share_red", "stalled_share_amber"),
        "open tasks not updated for the configured stalled days: red when >= {stalled_share_red:.0%} of open "
        "tasks, amber when >= {stalled_share_amber:.0%}",
    ),
    "milestones": (
        ("milestone_overdue_red",),
        "red when {milestone_overdue_red} or more milestones are open past their due date",
    ),
    "project_due": ((), "red when the project's own due date has passed with open tasks"),
    "forecast": (
        ("probability_red", "probability_amber"),
        "chance (Monte Carlo over recent throughput) of finishing the open tasks by the project due date: "
        "red below {probability_red:.0%}, amber below {probability_amber:.0%}",
    ),
    "spi": (("spi_red", "spi_amber"), "schedule performance index EV/PV: red below {spi_red}, amber below {spi_amber}"),
    "cpi": (("cpi_red", "cpi_amber"), "cost performance index EV/AC: red below {cpi_red}, amber below {cpi_amber}"),
    "blocked_by_overdue": (
        ("blocked_by_overdue_on_critical_path_red", "blocked_by_overdue_amber"),
        "open tasks waiting on an overdue dependency: red when one of them is on the critical path "
        "(rule on: {blocked_by_overdue_on_critical_path_red}), amber when {blocked_by_overdue_amber} or more",
    ),
    "conflicts": (
        ("conflicts_amber",),
        "dependencies due after the task that waits on them: amber when {conflicts_amber} or more",
    ),
    "cycles": (("cycles_amber",), "dependency cycles: amber when {cycles_amber} or more"),
    "critical_path": (
        ("critical_path_past_due_amber",),
        "amber when the critical path adds up to more days than are left until the project due date "
        "(rule on: {critical_path_past_due_amber})",
    ),
    "aging": (
        ("aging_share_red", "aging_share_amber"),
        "tasks in progress older than the cycle time 85 % of tasks finish within: red when >= "
        "{aging_share_red:.0%} of the work in progress, amber when >= {aging_share_amber:.0%}",
    ),
    "overloaded_owners": (
        (),
        "amber when someone who owns open work on the project's critical path is overloaded: their "
        "estimated hours due within the [workload] horizon exceed hours_per_week x horizon_days / 7",
    ),
}

# Why a KPI had no verdict (its value is null): a verdict is never made from missing data.
NOT_JUDGED = {
    "on_time_rate": "no task with a due date was completed in the last 30 days",
    "project_due": "the project has no due date in Asana, or no open tasks",
    "forecast": "no forecast or no project due date to compare it with",
    "spi": "no budget: no task has an estimate (the [budget] estimate_field), or nothing is planned yet",
    "cpi": "no budget, or no actual hours recorded on estimated tasks",
    "critical_path": "the project has no due date, it has passed, or there are no open tasks",
    "aging": "no flow: no [flow] table naming the started sections, no work in progress, or too few "
    "completed tasks for a cycle time",
}


def _measured(kpi: str, project: Mapping[str, Any], people: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The numbers of `project` that the rule of `kpi` looks at."""
    deadline, deps = project["deadline"], project["dependencies"]
    budget = project.get("budget") or {}
    forecast_ = deadline.get("forecast") or {}
    open_ = project["tasks"]["open"]

    def share(count: int) -> float | None:
        return count / open_ if open_ else None

    match kpi:
        case "overdue" | "slipped" | "stalled":
            return {kpi: deadline[kpi], "open": open_, "share_of_open": share(deadline[kpi])}
        case "on_time_rate":
            return {
                "on_time_rate": deadline["on_time_rate"],
                "completed_on_time": deadline.get("completed_on_time"),
                "completed_with_due": deadline.get("completed_with_due"),
            }
        case "milestones":
            missed = [m for m in deadline.get("milestones", []) if m.get("state") == "overdue"]
            return {"missed": len(missed), "missed_milestones": missed}
        case "project_due":
            return {"due_on": forecast_.get("due_on"), "open": open_}
        case "forecast":
            return {
                "probability_on_time": forecast_.get("probability_on_time"),
                "due_on": forecast_.get("due_on"),
                "p50": forecast_.get("p50"),
                "p85": forecast_.get("p85"),
            }
        case "spi" | "cpi":
            return {kpi: budget.get(kpi), "ev": budget.get("ev"), "pv": budget.get("pv"), "ac": budget.get("ac")}
        case "blocked_by_overdue":
            on_path = set(deps.get("critical_path", []))
            tasks = deps.get("blocked_by_overdue_tasks", [])
            return {
                "blocked_by_overdue": deps["blocked_by_overdue"],
                "on_critical_path": sum(1 for t in tasks if t["gid"] in on_path),
            }
        case "conflicts" | "cycles":
            return {kpi: deps[kpi]}
        case "critical_path":
            return {"critical_path_days": deps["critical_path_days"], "project_due_on": forecast_.get("due_on")}
        case "aging":
            flow = project.get("flow") or {}
            wip, aging = flow.get("wip"), flow.get("aging")
            return {
                "aging": aging,
                "wip": wip,
                "share_of_wip": aging / wip if wip and aging is not None else None,
                "cycle_time_p85": (flow.get("cycle_time") or {}).get("p85"),
            }
        case "overloaded_owners":
            on_path = set(deps.get("critical_path", []))
            owners = [
                {
                    "name": person.get("name"),
                    "load_ratio": person.get("load_ratio"),
                    "load_hours": person.get("load_hours"),
                    "capacity_hours": person.get("capacity_hours"),
                    "critical_tasks_here": len(on_path & set(person.get("critical_task_gids") or ())),
                }
                for person in people
                if person.get("overloaded") and on_path & set(person.get("critical_task_gids") or ())
            ]
            return {"overloaded_owners": owners}
    return {}


def explain_verdict(document: Mapping[str, Any], project: Mapping[str, Any], thresholds: Thresholds) -> dict[str, Any]:
    """Every rule that judged the project: its health, the numbers it saw, the thresholds and the reasons."""
    limits = asdict(thresholds)
    verdicts: Mapping[str, Any] = project.get("verdicts") or {}
    rules = []
    for kpi, (names, text) in RULES.items():
        verdict = verdicts.get(kpi)
        if verdict is None:
            continue
        rules.append(
            {
                "kpi": kpi,
                "area": verdict["area"],
                "health": verdict["health"],
                "fired": verdict["health"] != "green",
                "measured": _measured(kpi, project, document.get("people") or ()),
                "thresholds": {name: limits[name] for name in names},
                "rule": text.format(**limits),
                "reasons": verdict["reasons"],
            }
        )
    order = {"red": 0, "amber": 1, "green": 2}
    rules.sort(key=lambda r: order.get(r["health"], 3))
    answer = _header(project, document["as_of"])
    answer.update(
        {
            "rule_of_health": "a project's health is the worst of its rules; a KPI that cannot be computed "
            "is not judged (missing data never turns a project red)",
            "rules": rules,
            "not_judged": [{"kpi": kpi, "why": why} for kpi, why in NOT_JUDGED.items() if kpi not in verdicts],
            "thresholds_source": "defaults, overridden by [kpi.thresholds] in the config",
        }
    )
    return answer


# ----------------------------------------------------------------------------------------------
# what_changed
# ----------------------------------------------------------------------------------------------


def what_changed(report: Mapping[str, Any], since: date, basis: str) -> dict[str, Any]:
    """Per project: health then and now, and the tasks that changed, from a JSON report built with `since`."""
    projects = []
    for p in report["projects"]:
        changes = p["changes"]
        projects.append(
            {
                "gid": p["gid"],
                "name": p["name"],
                "url": p.get("url"),
                "health": p["health"],
                "health_before": changes.get("health_before"),
                "compared_with": {"day": changes["since"], "from": changes["basis"]},
                **{
                    key: changes[key]
                    for key in ("completed", "milestones_reached", "newly_overdue", "newly_blocked", "slipped")
                },
            }
        )
    return {
        "as_of": report["as_of"],
        "since": since.isoformat(),
        "since_basis": basis,
        "projects": projects,
        "lists": "each list holds its first items and `total`, the full count",
    }
