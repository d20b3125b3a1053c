"""One project's part of a report from its KPIs and tasks: the numbers, what changed, what is due,
the critical path, the budget, the forecast and the data-quality warnings.

"What changed" compares the project's KPIs with the state the report compares with (a snapshot,
or the day before the period as the store's history reconstructs it); completions, upcoming due
dates and the burn-up come from the tasks themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tpmsync.kpi.model.budget import BudgetKpis, asana_budget_json
from tpmsync.kpi.model.deadline import SlippedTask
from tpmsync.kpi.model.forecast import Forecast as KpiForecast
from tpmsync.kpi.model.inputs import AsanaBudget as KpiAsanaBudget
from tpmsync.kpi.model.inputs import ProjectInput, TaskInput
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.report.model import (
    UPCOMING_DAYS,
    AsanaBudget,
    Budget,
    Changes,
    CriticalPath,
    Forecast,
    Headline,
    ProjectReport,
    QualityWarning,
    SharedTask,
    Upcoming,
)
from tpmsync.report.model_tasks import Slip, SlipList, TaskList, TaskRef
from tpmsync.report.trend import burnup, trend

QUALITY_EXAMPLES = 5  # tasks named per data-quality warning

# data-quality check → wording of one / of several
QUALITY = (
    ("open_without_due", "open task without a due date", "open tasks without a due date"),
    ("open_without_assignee", "open task without an assignee", "open tasks without an assignee"),
    ("completed_parents_with_open_subtasks", "completed task with open subtasks", "completed tasks with open subtasks"),
    (
        "completed_dependencies",
        "open task still waits on a completed task",
        "dependency links from open tasks to completed tasks",
    ),
    ("due_before_start", "task due before it starts", "tasks due before they start"),
    ("unknown_dependencies", "dependency on a task not in the store", "dependencies on tasks not in the store"),
)


@dataclass(frozen=True)
class Refs:
    """Turns KPI tasks and gids into TaskRefs, filling links and dates from the inputs."""

    known: Mapping[str, TaskInput]

    @classmethod
    def of_project(cls, project: ProjectInput) -> Refs:
        """The tasks of `project` and those outside it that it names (its own win)."""
        known: dict[str, TaskInput] = {t.gid: t for t in project.outside_tasks}
        known.update({t.gid: t for t in project.tasks})
        return cls(known)

    def of_input(self, task: TaskInput) -> TaskRef:
        return TaskRef(
            gid=task.gid,
            name=task.name,
            url=task.permalink_url,
            due=task.due,
            assignee=task.assignee_name,
            completed_on=task.completed_on,
            milestone=task.is_milestone,
        )

    def of_task(self, task: TaskInput) -> TaskRef:
        """A task a KPI names: as the inputs know it, else as the KPI names it."""
        known = self.known.get(task.gid)
        if known is not None:
            return self.of_input(known)
        return TaskRef(gid=task.gid, name=task.name or task.gid, url=task.permalink_url, due=task.due,
                       assignee=task.assignee_name)

    def of_gid(self, gid: str, name: str | None = None) -> TaskRef:
        task = self.known.get(gid)
        return self.of_input(task) if task is not None else TaskRef(gid=gid, name=name or gid)


def listing(refs: Sequence[TaskRef], max_items: int) -> TaskList:
    return TaskList(items=tuple(refs[:max_items]), total=len(refs))


def _by_due(ref: TaskRef) -> tuple[date, str]:
    return (ref.due or date.max, ref.name)


def project_report(
    kpis: ProjectKpis,
    project: ProjectInput,
    previous: tuple[date, ProjectKpis, str],
    created: Mapping[str, date],
    *,
    as_of: date,
    weeks: Sequence[date],
    healths: Mapping[date, str],
    counts: Mapping[date, tuple[int, int]],
    max_items: int,
) -> ProjectReport:
    refs = Refs.of_project(project)
    deps = kpis.dependencies
    return ProjectReport(
        gid=kpis.gid,
        name=kpis.name,
        url=kpis.permalink_url or project.permalink_url,
        health=str(kpis.health),
        reasons=kpis.reasons,
        headline=_headline(kpis),
        changes=_changes(kpis, project, previous, refs, as_of=as_of, max_items=max_items),
        upcoming=_upcoming(project, refs, as_of, max_items),
        critical_path=CriticalPath(
            days=deps.critical_path_days,
            tasks=listing([refs.of_task(t) for t in deps.critical_path], max_items),
        ),
        budget=None if kpis.budget is None else _budget(kpis.budget),
        asana_budget=None if kpis.asana_budget is None else _asana_budget(kpis.asana_budget),
        forecast=_forecast(kpis.forecast),
        data_quality=_quality(kpis, refs, max_items),
        trend=trend(weeks, healths, as_of, str(kpis.health)),
        burnup=burnup(project, created, counts, (kpis.tasks.completed, kpis.tasks.total), as_of),
    )


def _headline(kpis: ProjectKpis) -> Headline:
    deadline, deps, budget = kpis.deadline, kpis.dependencies, kpis.budget
    return Headline(
        total=kpis.tasks.total,
        open=kpis.tasks.open,
        completed=kpis.tasks.completed,
        overdue=len(deadline.overdue),
        due_soon=len(deadline.due_soon),
        blocked=len(deps.blocked),
        blocked_by_overdue=len(deps.blocked_by_overdue),
        slipped=len(deadline.slipped),
        on_time_rate=deadline.on_time_rate,
        spi=None if budget is None else budget.spi,
        cpi=None if budget is None else budget.cpi,
        shared=tuple(SharedTask(gid, counts) for gid, counts in sorted(kpis.multi_homed.items())),
    )


def _changes(
    kpis: ProjectKpis,
    project: ProjectInput,
    previous: tuple[date, ProjectKpis, str],
    refs: Refs,
    *,
    as_of: date,
    max_items: int,
) -> Changes:
    since, before, basis = previous
    done = [
        refs.of_input(t)
        for t in project.tasks
        if t.completed and t.completed_on is not None and since < t.completed_on <= as_of
    ]
    done.sort(key=lambda r: (-(r.completed_on or date.min).toordinal(), r.name))
    reached = [r for r in done if r.milestone]
    was_blocked = {t.gid for t in before.dependencies.blocked}
    was_overdue = {t.gid for t in before.deadline.overdue}
    blocked = sorted((refs.of_task(t) for t in kpis.dependencies.blocked if t.gid not in was_blocked), key=_by_due)
    overdue = sorted((refs.of_task(t) for t in kpis.deadline.overdue if t.gid not in was_overdue), key=_by_due)
    slips = _slips(kpis.deadline.slipped, before, refs)
    lists = {
        "completed": done,
        "milestones_reached": reached,
        "newly_overdue": overdue,
        "newly_blocked": blocked,
        "slipped": [slip.task for slip in slips],
    }
    listed = {name: {ref.gid for ref in found} for name, found in lists.items()}
    shared = tuple(
        SharedTask(gid, names)
        for gid in sorted(kpis.multi_homed)
        if (names := tuple(name for name, gids in listed.items() if gid in gids))
    )
    return Changes(
        since=since,
        basis=basis,
        health_before=str(before.health),
        newly_blocked=listing(blocked, max_items),
        newly_overdue=listing(overdue, max_items),
        slipped=SlipList(items=tuple(slips[:max_items]), total=len(slips)),
        completed=listing(done, max_items),
        milestones_reached=listing(reached, max_items),
        shared=shared,
    )


def _known_dues(state: ProjectKpis) -> dict[str, date | None]:
    """Every due date the KPIs of a day mention, by task gid."""
    deadline, deps = state.deadline, state.dependencies
    tasks = [
        *deadline.overdue,
        *deadline.due_soon,
        *(s.task for s in deadline.stalled),
        *(m.task for m in deadline.milestones),
        *deps.blocked,
        *deps.critical_path,
    ]
    out: dict[str, date | None] = {t.gid: t.due for t in tasks}
    out.update({s.task.gid: s.current_due for s in deadline.slipped})
    return out


def _slips(current: Sequence[SlippedTask], before: ProjectKpis, refs: Refs) -> list[Slip]:
    """Slipped tasks whose due date is later than in the earlier state (or newly slipped)."""
    was_slipped = {s.task.gid for s in before.deadline.slipped}
    dues_before = _known_dues(before)
    out: list[Slip] = []
    for item in current:
        gid = item.task.gid
        now_due = item.current_due
        then_due = dues_before.get(gid) or item.baseline_due
        if now_due is not None and then_due is not None and now_due <= then_due:
            continue  # not later than in the earlier state
        if gid in was_slipped and (now_due is None or then_due is None):
            continue  # slipped before, and nothing says it moved again
        days = (now_due - then_due).days if now_due and then_due else item.slip_days
        out.append(Slip(task=refs.of_task(item.task), previous_due=then_due, current_due=now_due, days=days))
    out.sort(key=lambda s: (-(s.days or 0), s.task.name))
    return out


def _upcoming(project: ProjectInput, refs: Refs, as_of: date, max_items: int) -> Upcoming:
    last = as_of + timedelta(days=UPCOMING_DAYS)
    due = sorted(
        (refs.of_input(t) for t in project.tasks if not t.completed and t.due is not None and as_of <= t.due <= last),
        key=_by_due,
    )
    milestones = [r for r in due if r.milestone]
    others = [r for r in due if not r.milestone]
    return Upcoming(days=UPCOMING_DAYS, milestones=listing(milestones, max_items), due=listing(others, max_items))


def _forecast(forecast: KpiForecast) -> Forecast:
    return Forecast(
        p50=forecast.p50,
        p85=forecast.p85,
        p95=forecast.p95,
        due_on=forecast.due_on,
        probability_on_time=forecast.probability_on_time,
        remaining=forecast.remaining,
        reason=forecast.reason,
    )


def _budget(budget: BudgetKpis) -> Budget:
    return Budget(
        unit=budget.unit or "hours",
        bac=budget.bac,
        pv=budget.pv,
        ev=budget.ev,
        ac=budget.ac,
        cpi=budget.cpi,
        spi=budget.spi,
        eac=budget.eac,
        vac=budget.vac,
        tasks_estimated=budget.tasks_estimated,
        tasks_unestimated=budget.tasks_unestimated,
    )


def _asana_budget(budget: KpiAsanaBudget) -> AsanaBudget:
    data = asana_budget_json(budget)
    return AsanaBudget(
        budget_type=budget.budget_type or "time",
        unit=budget.unit,
        total=data["total"],
        actual=data["actual"],
        remaining=data["remaining"],
        used_share=data["used_share"],
    )


def _quality(kpis: ProjectKpis, refs: Refs, max_items: int) -> tuple[QualityWarning, ...]:
    quality = kpis.data_quality
    examples_of: dict[str, list[tuple[str, str | None]]] = {
        "open_without_due": [(t.gid, t.name) for t in quality.open_without_due],
        "open_without_assignee": [(t.gid, t.name) for t in quality.open_without_assignee],
        "completed_parents_with_open_subtasks": [
            (p.parent.gid, p.parent.name) for p in quality.completed_parents_with_open_subtasks
        ],
        "completed_dependencies": [(link.task.gid, link.task.name) for link in quality.completed_dependencies],
        "due_before_start": [(t.gid, t.name) for t in quality.due_before_start],
        "unknown_dependencies": [(link.task.gid, link.task.name) for link in quality.unknown_dependencies],
    }
    out: list[QualityWarning] = []
    for key, one, several in QUALITY:
        items = examples_of[key]
        count = len(items)
        if not count:
            continue
        unique = list({r.gid: r for r in (refs.of_gid(gid, name) for gid, name in items)}.values())
        text = f"{count:,} {one if count == 1 else several}"
        out.append(QualityWarning(key, count, text, listing(unique, min(max_items, QUALITY_EXAMPLES))))
    cycles = len(kpis.dependencies.cycles)
    if cycles:
        members = [refs.of_gid(t.gid) for cycle in kpis.dependencies.cycles for t in cycle]
        text = f"{cycles} dependency {'cycle' if cycles == 1 else 'cycles'}: no order can satisfy them"
        out.append(QualityWarning("cycles", cycles, text, listing(members, min(max_items, QUALITY_EXAMPLES))))
    return tuple(out)
