"""Input and output types of the KPI engine.

Everything here is plain, frozen data: the store's loader builds the inputs
(`ProjectInput`, `TaskInput`, `DueChange`, `AsanaBudget`), the engine returns the outputs
(`ProjectKpis` and the per-area result types; the portfolio roll-up is `tpmsync.portfolio`).  Results refer to the input
`TaskInput` objects themselves rather than copies; records that can number one per task
(`BlockedTask`, `Conflict`, `StalledTask`, ...) are NamedTuples, which cost a fraction of a
frozen dataclass to create when a project has 100,000 tasks.  Dates are `datetime.date`
objects already taken in the configured time zone; the engine never converts time zones.

See docs/kpis.md for the definition of every number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from tpmsync.kpi.flow import FlowKpis

if TYPE_CHECKING:
    from tpmsync.kpi.forecast_detail import ForecastDetail

JsonObject = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueChange:
    """One change of a task's due date seen by sync history.

    `observed_on` is the date the sync noticed the change; `old_due`/`new_due` are the due dates
    before and after (None when there was none).
    """

    observed_on: date
    old_due: date | None
    new_due: date | None


@dataclass(frozen=True, slots=True)
class TaskInput:
    """One Asana task as the KPI engine sees it.

    `due`, `start`, `completed_on` and `modified_on` are dates in the configured time zone
    (`due_at` wins over `due_on`, `start_at` over `start_on`).  `estimate_hours` and
    `actual_hours` are the values of the configured number custom fields (None when the field is
    empty), `actual_time_minutes` is Asana time tracking (None when absent).  `dependency_gids`
    are the gids of the tasks this task depends on (its predecessors).  `project_gid` and
    `project_name` matter for tasks outside the project's task set (the project they live in, or
    None when they are in no project).
    """

    gid: str
    name: str
    completed: bool = False
    completed_on: date | None = None
    due: date | None = None
    start: date | None = None
    assignee_gid: str | None = None
    assignee_name: str | None = None
    parent_gid: str | None = None
    is_milestone: bool = False
    estimate_hours: float | None = None
    actual_hours: float | None = None
    actual_time_minutes: float | None = None
    dependency_gids: Sequence[str] = ()
    modified_on: date | None = None
    project_gid: str | None = None
    project_name: str | None = None
    permalink_url: str | None = None
    due_history: Sequence[DueChange] = ()


@dataclass(frozen=True, slots=True)
class AsanaBudget:
    """The project's budget from Asana's Budgets API, reported beside the EVM numbers.

    `budget_type` is "time" (values in minutes) or "cost" (values in the domain's currency);
    `unit` is the unit Asana gives (e.g. "minutes", "USD").  `estimate` is Asana's aggregated
    estimate, `actual` the aggregated actual, `total` the user-defined target; each None when
    Asana does not report it.
    """

    budget_type: str
    unit: str | None
    estimate: float | None = None
    actual: float | None = None
    total: float | None = None


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """One project and everything the engine needs to compute its KPIs.

    `tasks` is the project's task set (members plus subtasks at any depth, not deleted).
    `outside_tasks` are tasks outside that set that some task of the set depends on, with
    their `project_gid`/`project_name` (None when they are in no project).  `rate` is the
    currency per hour for EVM and `currency` its code; with `rate` None the EVM numbers are in
    hours (rate 1).
    """

    gid: str
    name: str
    tasks: Sequence[TaskInput]
    due_on: date | None = None
    outside_tasks: Sequence[TaskInput] = ()
    asana_budget: AsanaBudget | None = None
    rate: float | None = None
    currency: str | None = None
    permalink_url: str | None = None


# --------------------------------------------------------------------------------------------
# Shared output pieces
# --------------------------------------------------------------------------------------------


class Health(StrEnum):
    """Red/amber/green, ordered: green < amber < red."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return _HEALTH_RANK[self]


_HEALTH_RANK = {Health.GREEN: 0, Health.AMBER: 1, Health.RED: 2}


def worst(healths: Iterable[Health]) -> Health:
    """The worst of `healths`; green when there are none."""
    result = Health.GREEN
    for health in healths:
        if health.rank > result.rank:
            result = health
    return result


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def round_ratio(value: float | None) -> float | None:
    """Ratios (CPI, SPI, TCPI, rates, probabilities) are reported to 3 decimals."""
    return None if value is None else round(value, 3)


def round_money(value: float | None) -> float | None:
    """Money and hours (BAC, PV, EV, AC, EAC, ...) are reported to 2 decimals."""
    return None if value is None else round(value, 2)


def _limited(items: Sequence[Any], max_items: int | None) -> Sequence[Any]:
    return items if max_items is None else items[:max_items]


def task_json(task: TaskInput) -> JsonObject:
    """How a task is named in JSON: gid, name, due date, assignee and link."""
    return {
        "gid": task.gid,
        "name": task.name,
        "due": _iso(task.due),
        "assignee": task.assignee_name,
        "url": task.permalink_url,
    }


@dataclass(frozen=True, slots=True)
class TaskCounts:
    total: int
    open: int
    completed: int

    def to_json(self) -> JsonObject:
        return {"total": self.total, "open": self.open, "completed": self.completed}


# --------------------------------------------------------------------------------------------
# Deadline
# --------------------------------------------------------------------------------------------


class SlippedTask(NamedTuple):
    """An open task whose due date was moved later at least once.

    `baseline_due` is the first due date sync history knows (the `old_due` of the earliest
    change that had one); `slip_days` is `current_due − baseline_due` in days (None when either
    is missing; it can be ≤ 0 when the date was later pulled back in).
    """

    task: TaskInput
    baseline_due: date | None
    current_due: date | None
    times_moved_later: int
    slip_days: int | None

    def to_json(self) -> JsonObject:
        return {
            **task_json(self.task),
            "baseline_due": _iso(self.baseline_due),
            "current_due": _iso(self.current_due),
            "times_moved_later": self.times_moved_later,
            "slip_days": self.slip_days,
        }


class MilestoneState(StrEnum):
    DONE = "done"
    DONE_LATE = "done_late"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    UPCOMING = "upcoming"
    UNSCHEDULED = "unscheduled"


class Milestone(NamedTuple):
    task: TaskInput
    state: MilestoneState

    def to_json(self) -> JsonObject:
        return {**task_json(self.task), "state": str(self.state), "completed_on": _iso(self.task.completed_on)}


class StalledTask(NamedTuple):
    """An open task not modified for `idle_days` (≥ the configured stalled_days) days."""

    task: TaskInput
    idle_days: int

    def to_json(self) -> JsonObject:
        return {**task_json(self.task), "modified_on": _iso(self.task.modified_on), "idle_days": self.idle_days}


@dataclass(frozen=True, slots=True)
class DeadlineKpis:
    """Deadline health.  Lists are sorted by due date (then name); counts are their lengths."""

    overdue: tuple[TaskInput, ...]
    due_soon: tuple[TaskInput, ...]
    on_time_rate: float | None
    completed_on_time: int
    completed_with_due: int
    slipped: tuple[SlippedTask, ...]
    milestones: tuple[Milestone, ...]
    stalled: tuple[StalledTask, ...]


# --------------------------------------------------------------------------------------------
# Forecast
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forecast:
    """Monte Carlo finish-date forecast.

    `p50`/`p85`/`p95` and `probability_on_time` are None when there is no forecast (`reason`
    says why) or, for a percentile, when it lies past the simulation horizon.
    """

    due_on: date | None
    remaining: int
    p50: date | None
    p85: date | None
    p95: date | None
    probability_on_time: float | None
    trials: int
    window_start: date
    window_end: date
    days_with_completions: int
    completed_in_window: int
    reason: str | None

    def to_json(self) -> JsonObject:
        return {
            "p50": _iso(self.p50),
            "p85": _iso(self.p85),
            "due_on": _iso(self.due_on),
            "probability_on_time": round_ratio(self.probability_on_time),
            "p95": _iso(self.p95),
            "remaining": self.remaining,
            "trials": self.trials,
            "throughput_window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "days_with_completions": self.days_with_completions,
            "completed_in_window": self.completed_in_window,
            "reason": self.reason,
        }


# --------------------------------------------------------------------------------------------
# Budget
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evm:
    """The four base values of earned value and everything derived from them.

    `ev_scheduled` is the EV of completed tasks with a due date: SPI = EV_scheduled / PV and
    SV = EV_scheduled − PV.  `eac` is the contract EAC, BAC/CPI; `eac2` is AC + (BAC − EV).
    Ratios whose divisor is 0, and everything computed from them, are None.
    """

    bac: float
    pv: float
    ev: float
    ac: float
    ev_scheduled: float
    cv: float
    sv: float
    cpi: float | None
    spi: float | None
    eac: float | None
    eac2: float
    etc: float | None
    vac: float | None
    tcpi: float | None


@dataclass(frozen=True, slots=True)
class BudgetKpis(Evm):
    """Earned value (0/100 rule), in `unit` (the currency, or "hours" when no rate is set).

    EV, PV and AC cover the tasks with an estimate.  Beside them, never inside a ratio:
    `ac_unplanned` (actuals on tasks without an estimate) and `bac_unscheduled` (estimates of
    open tasks without a due date).
    """

    unit: str
    rate: float
    ac_unplanned: float
    bac_unscheduled: float
    tasks_estimated: int
    tasks_unestimated: int
    tasks_with_actual: int
    actuals_from_time_tracking: int

    def to_json(self) -> JsonObject:
        return {
            "bac": round_money(self.bac),
            "pv": round_money(self.pv),
            "ev": round_money(self.ev),
            "ac": round_money(self.ac),
            "cpi": round_ratio(self.cpi),
            "spi": round_ratio(self.spi),
            "eac": round_money(self.eac),
            "vac": round_money(self.vac),
            "cv": round_money(self.cv),
            "sv": round_money(self.sv),
            "eac2": round_money(self.eac2),
            "etc": round_money(self.etc),
            "tcpi": round_ratio(self.tcpi),
            "ev_scheduled": round_money(self.ev_scheduled),
            "ac_unplanned": round_money(self.ac_unplanned),
            "bac_unscheduled": round_money(self.bac_unscheduled),
            "unit": self.unit,
            "rate": self.rate,
            "tasks_estimated": self.tasks_estimated,
            "tasks_unestimated": self.tasks_unestimated,
            "tasks_with_actual": self.tasks_with_actual,
            "actuals_from_time_tracking": self.actuals_from_time_tracking,
        }


def asana_budget_json(budget: AsanaBudget) -> JsonObject:
    remaining = None if budget.total is None or budget.actual is None else budget.total - budget.actual
    used = None if not budget.total or budget.actual is None else budget.actual / budget.total
    return {
        "budget_type": budget.budget_type,
        "unit": budget.unit,
        "estimate": round_money(budget.estimate),
        "actual": round_money(budget.actual),
        "total": round_money(budget.total),
        "remaining": round_money(remaining),
        "used_share": round_ratio(used),
    }


# --------------------------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------------------------


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
            "task_due": _iso(self.task.due),
            "dependency": self.dependency.gid,
            "dependency_name": self.dependency.name,
            "dependency_due": _iso(self.dependency.due),
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


# --------------------------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------------------------


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
            return [{"gid": ref.gid, "name": ref.name} for ref in _limited(items, max_items)]

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
                item.to_json() for item in _limited(self.completed_parents_with_open_subtasks, max_items)
            ],
            "completed_dependencies_links": [
                link.to_json() for link in _limited(self.completed_dependencies, max_items)
            ],
            "due_before_start_tasks": refs(self.due_before_start),
            "unknown_dependencies_links": [link.to_json() for link in _limited(self.unknown_dependencies, max_items)],
        }


# --------------------------------------------------------------------------------------------
# Verdicts and the project / portfolio results
# --------------------------------------------------------------------------------------------

Area = Literal["deadline", "forecast", "budget", "dependencies", "flow"]
AREAS: tuple[Area, ...] = ("deadline", "forecast", "budget", "dependencies", "flow")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The health of one KPI, with reasons a person can act on when it is not green."""

    kpi: str
    area: Area
    health: Health
    reasons: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        return {"area": self.area, "health": str(self.health), "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class ProjectKpis:
    """Every KPI of one project on one day.  `to_json()` is the JSON contract object (docs/kpis.md).

    `reasons` explain a non-green health; `notes` say why a KPI is null (no estimates, too little
    history) so a report can tell the reader instead of showing a blank.
    """

    gid: str
    name: str
    as_of: date
    health: Health
    reasons: tuple[str, ...]
    tasks: TaskCounts
    deadline: DeadlineKpis
    forecast: Forecast
    budget: BudgetKpis | None
    asana_budget: AsanaBudget | None
    dependencies: DependencyKpis
    data_quality: DataQuality
    verdicts: tuple[Verdict, ...] = field(default=())
    permalink_url: str | None = None
    notes: tuple[str, ...] = ()
    flow: FlowKpis | None = None
    forecast_detail: ForecastDetail | None = None
    """how many, milestones, unblock first, moved, calibration: merged into `deadline.forecast`."""

    def area_health(self, area: Area) -> Health:
        return worst(v.health for v in self.verdicts if v.area == area)

    @classmethod
    def from_json(cls, data: JsonObject, as_of: date) -> ProjectKpis:
        """The KPIs whose `to_json()` is `data` (a stored snapshot: no list cut short)."""
        from tpmsync.kpi.from_json import project_kpis_from_json

        return project_kpis_from_json(data, as_of)

    def to_json(self, max_items: int | None = None) -> JsonObject:
        """The contract object for this project plus extra keys.

        `max_items` caps every task list (not the counts); None keeps them whole.
        """
        deadline = self.deadline
        deps = self.dependencies
        schedule = deps.schedule

        def refs(items: Sequence[TaskInput]) -> list[JsonObject]:
            return [task_json(task) for task in _limited(items, max_items)]

        return {
            "gid": self.gid,
            "name": self.name,
            "health": str(self.health),
            "reasons": list(self.reasons),
            "tasks": self.tasks.to_json(),
            "deadline": {
                "overdue": len(deadline.overdue),
                "due_soon": len(deadline.due_soon),
                "on_time_rate": round_ratio(deadline.on_time_rate),
                "slipped": len(deadline.slipped),
                "forecast": self._forecast_json(),
                "completed_on_time": deadline.completed_on_time,
                "completed_with_due": deadline.completed_with_due,
                "stalled": len(deadline.stalled),
                "milestones": [m.to_json() for m in _limited(deadline.milestones, max_items)],
                "overdue_tasks": refs(deadline.overdue),
                "due_soon_tasks": refs(deadline.due_soon),
                "slipped_tasks": [s.to_json() for s in _limited(deadline.slipped, max_items)],
                "stalled_tasks": [s.to_json() for s in _limited(deadline.stalled, max_items)],
            },
            "budget": None if self.budget is None else self.budget.to_json(),
            "asana_budget": None if self.asana_budget is None else asana_budget_json(self.asana_budget),
            "dependencies": {
                "blocked": len(deps.blocked),
                "blocked_by_overdue": len(deps.blocked_by_overdue),
                "conflicts": len(deps.conflicts),
                "cross_project": len(deps.cross_project),
                "cycles": len(deps.cycles),
                "critical_path": [ref.gid for ref in deps.critical_path],
                "critical_path_days": deps.critical_path_days,
                "critical_path_tasks": [{**task_json(t), **schedule[t.gid]._asdict()} for t in deps.critical_path],
                "blocked_tasks": [
                    {**task_json(task), "blocked_by": [dep.gid for dep in deps.open_dependencies(task)]}
                    for task in _limited(deps.blocked, max_items)
                ],
                "blocked_by_overdue_tasks": [b.to_json() for b in _limited(deps.blocked_by_overdue, max_items)],
                "conflict_edges": [c.to_json() for c in _limited(deps.conflicts, max_items)],
                "cross_project_tasks": [
                    {**task_json(task), "project_gid": task.project_gid, "project_name": task.project_name}
                    for task in _limited(deps.cross_project, max_items)
                ],
                "cycle_tasks": [[ref.gid for ref in cycle] for cycle in _limited(deps.cycles, max_items)],
            },
            "data_quality": self.data_quality.to_json(max_items),
            "flow": None if self.flow is None else self.flow.to_json(max_items),
            "areas": {area: str(self.area_health(area)) for area in AREAS},
            "verdicts": {v.kpi: v.to_json() for v in self.verdicts},
            "url": self.permalink_url,
            "notes": list(self.notes),
        }

    def _forecast_json(self) -> JsonObject:
        """The finish dates, and the forecast detail's keys beside them when it was computed."""
        forecast = self.forecast.to_json()
        if self.forecast_detail is not None:
            forecast.update(self.forecast_detail.to_json())
        return forecast
