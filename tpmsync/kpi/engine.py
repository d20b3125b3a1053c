"""The KPI engine's entry point: one project's KPIs with their verdicts (the roll-up: `tpmsync.portfolio`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from tpmsync.kpi.budget import compute_budget
from tpmsync.kpi.deadline import compute_deadline, count_tasks
from tpmsync.kpi.dependencies import compute_dependencies
from tpmsync.kpi.forecast import DEFAULT_SEED, DEFAULT_TRIALS, compute_forecast
from tpmsync.kpi.health import evaluate, project_reasons
from tpmsync.kpi.model.deadline import DeadlineKpis
from tpmsync.kpi.model.dependencies import DependencyKpis
from tpmsync.kpi.model.flow import FlowKpis
from tpmsync.kpi.model.inputs import ProjectInput, TaskInput
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.model.verdict import Verdict, worst
from tpmsync.kpi.quality import compute_quality
from tpmsync.kpi.thresholds import Thresholds


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """Knobs of the engine; the config loader fills them from `[kpi]` and `[kpi.thresholds]`."""

    due_soon_days: int = 7
    stalled_days: int = 5
    forecast_trials: int = DEFAULT_TRIALS
    forecast_seed: int = DEFAULT_SEED
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if self.due_soon_days < 0:
            raise ValueError(f"kpi.due_soon_days must be ≥ 0, got {self.due_soon_days}")
        if self.stalled_days < 1:
            raise ValueError(f"kpi.stalled_days must be ≥ 1, got {self.stalled_days}")
        if self.forecast_trials < 1:
            raise ValueError(f"kpi.forecast_trials must be ≥ 1, got {self.forecast_trials}")


def compute_project_kpis(
    project: ProjectInput, as_of: date, settings: KpiSettings | None = None, *, flow: FlowKpis | None = None
) -> ProjectKpis:
    """Every KPI of `project` on `as_of` (docs/kpis.md defines each number).

    `flow` is the project's flow (`kpi.flow.compute_flow`, from the stories the store keeps):
    it is carried in the result and judged with the other verdicts.

    Raises ValueError when two tasks of the set share a gid (a loader bug).
    """
    settings = settings or KpiSettings()
    tasks = project.tasks
    if len({task.gid for task in tasks}) != len(tasks):
        twice = sorted(gid for gid, n in Counter(task.gid for task in tasks).items() if n > 1)
        raise ValueError(f"project {project.gid}: task gids listed more than once: {', '.join(twice[:5])}")

    counts = count_tasks(tasks)
    deadline = compute_deadline(tasks, as_of, due_soon_days=settings.due_soon_days, stalled_days=settings.stalled_days)
    forecast = compute_forecast(
        tasks, as_of, project.due_on, trials=settings.forecast_trials, seed=settings.forecast_seed
    )
    budget = compute_budget(tasks, as_of, rate=project.rate, currency=project.currency)
    dependencies = compute_dependencies(tasks, project.outside_tasks, as_of)
    quality = compute_quality(tasks, project.outside_tasks)
    verdicts = evaluate(
        as_of=as_of,
        due_on=project.due_on,
        counts=counts,
        deadline=deadline,
        forecast=forecast,
        budget=budget,
        dependencies=dependencies,
        thresholds=settings.thresholds,
        stalled_days=settings.stalled_days,
        flow=flow,
    )
    return ProjectKpis(
        gid=project.gid,
        name=project.name,
        as_of=as_of,
        health=worst(v.health for v in verdicts),
        reasons=project_reasons(verdicts),
        tasks=counts,
        deadline=deadline,
        forecast=forecast,
        budget=budget,
        asana_budget=project.asana_budget,
        dependencies=dependencies,
        data_quality=quality,
        verdicts=verdicts,
        permalink_url=project.permalink_url,
        notes=_notes(counts.total, deadline.on_time_rate, forecast.reason, budget is None),
        flow=flow,
        multi_homed=multi_homed(tasks, project.shared_gids, deadline, dependencies),
    )


def multi_homed(
    tasks: Sequence[TaskInput], shared: Collection[str], deadline: DeadlineKpis, dependencies: DependencyKpis
) -> Mapping[str, tuple[str, ...]]:
    """The portfolio counts each task of the set that another tracked project shares is in:
    `total`, `open` or `completed`, and `overdue`, `due_soon`, `slipped`, `blocked`,
    `blocked_by_overdue` when it is one (the roll-up counts such a task once)."""
    if not shared:
        return {}
    listed = {
        "overdue": {task.gid for task in deadline.overdue},
        "due_soon": {task.gid for task in deadline.due_soon},
        "slipped": {slip.task.gid for slip in deadline.slipped},
        "blocked": {task.gid for task in dependencies.blocked},
        "blocked_by_overdue": {blocked.task.gid for blocked in dependencies.blocked_by_overdue},
    }
    return {
        task.gid: ("total", "completed" if task.completed else "open",
                   *(name for name, gids in listed.items() if task.gid in gids))
        for task in tasks
        if task.gid in shared
    }


def with_verdicts(kpis: ProjectKpis, verdicts: Sequence[Verdict]) -> ProjectKpis:
    """`kpis` with `verdicts` added (judged across projects, e.g. overloaded owners): health and
    reasons are worked out again from all of them."""
    if not verdicts:
        return kpis
    every = (*kpis.verdicts, *verdicts)
    return replace(kpis, verdicts=every, health=worst(v.health for v in every), reasons=project_reasons(every))


def _notes(total: int, on_time_rate: float | None, forecast_reason: str | None, no_budget: bool) -> tuple[str, ...]:
    """Why KPIs are null, in words for a report."""
    notes = []
    if no_budget:
        notes.append("No budget figures: no task has an estimate")
    if forecast_reason:
        notes.append(f"Forecast: {forecast_reason}")
    if on_time_rate is None and total:
        notes.append("No on-time rate: no task with a due date was completed in the last 30 days")
    return tuple(notes)
