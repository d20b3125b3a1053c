"""Build one `Report` from what `tpmsync.reporting.gather` read: today's KPIs, earlier states, tasks.

Pure: no store, no settings, no network. The current state is the status document's projects.
"What changed" compares it with the latest snapshot strictly before the period (daily: before
as_of; weekly: before as_of − 6); a project without such a snapshot is compared with the day
before the period as the store's history reconstructs it. Completions, upcoming due dates and the
burn-up come from the tasks themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tpmsync.kpi.model import AsanaBudget as KpiAsanaBudget
from tpmsync.kpi.model import BudgetKpis, ProjectInput, ProjectKpis, SlippedTask, TaskInput, asana_budget_json
from tpmsync.kpi.model import Forecast as KpiForecast
from tpmsync.report.model import (
    KINDS,
    TREND_WEEKS,
    UPCOMING_DAYS,
    AsanaBudget,
    Budget,
    Changes,
    CriticalPath,
    Forecast,
    Headline,
    ProjectReport,
    QualityWarning,
    Report,
    Slip,
    SlipList,
    TaskList,
    TaskRef,
    Upcoming,
    iso_week,
    period_of,
)
from tpmsync.report.trend import burnup, portfolio_summary, trend

MAX_ITEMS = 15
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
class ReportInputs:
    """Everything a report needs, gathered from the store once (`tpmsync.reporting.gather`).

    `current` are the projects' KPIs on `as_of` (in the status document's order, worst first);
    `previous` maps each gid to (day, KPIs, "snapshot" | "history") of the state the report
    compares with; `healths` and `counts` are the recorded snapshot health and (completed, total)
    per day; `created` the creation dates of the tasks.
    """

    kind: str
    as_of: date
    current: Sequence[ProjectKpis]
    inputs: Mapping[str, ProjectInput]
    previous: Mapping[str, tuple[date, ProjectKpis, str]]
    healths: Mapping[str, Mapping[date, str]]
    counts: Mapping[str, Mapping[date, tuple[int, int]]]
    created: Mapping[str, date]
    every_tracked: frozenset[str]
    synced_at: datetime | None = None  # when the last sync of the data finished (aware UTC)
    stale: bool = False


def period_start_of(kind: str, as_of: date) -> date:
    """The first day a report covers: as_of for a daily, as_of − 6 for a weekly."""
    if kind not in KINDS:
        raise ValueError(f"report kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return as_of if kind == "daily" else as_of - timedelta(days=6)


def build_report(gathered: ReportInputs, *, max_items: int = MAX_ITEMS, now: datetime | None = None) -> Report:
    """The report from what was gathered: pure, no store, no settings."""
    kind, as_of = gathered.kind, gathered.as_of
    period_start = period_start_of(kind, as_of)
    weeks = trend_weeks(as_of)
    gids = [k.gid for k in gathered.current]
    reports = [
        _project_report(
            kpis,
            gathered.inputs[kpis.gid],
            gathered.previous[kpis.gid],
            gathered.created,
            as_of=as_of,
            weeks=weeks,
            healths=gathered.healths.get(kpis.gid, {}),
            counts=gathered.counts.get(kpis.gid, {}),
            max_items=max_items,
        )
        for kpis in gathered.current
    ]
    portfolio = portfolio_summary(reports, weeks)
    scope = "portfolio" if set(gids) == gathered.every_tracked else "projects:" + ",".join(sorted(gids))
    period = period_of(kind, as_of)
    return Report(
        kind=kind,
        as_of=as_of,
        period=period,
        period_start=period_start,
        scope=scope,
        title=_title(kind, as_of, period_start, period),
        health=portfolio.health,
        portfolio=portfolio,
        projects=tuple(reports),
        generated_at=(now or datetime.now(UTC)).replace(microsecond=0),
        trend_periods=tuple(iso_week(w) for w in weeks),
        synced_at=gathered.synced_at,
        stale=gathered.stale,
    )


def _title(kind: str, as_of: date, start: date, period: str) -> str:
    if kind == "daily":
        return f"Daily status — {as_of:%a %b} {as_of.day}, {as_of.year}"
    return f"Weekly status — {period} ({start:%b} {start.day} – {as_of:%b} {as_of.day}, {as_of.year})"


def trend_weeks(as_of: date) -> list[date]:
    """The Mondays of the last TREND_WEEKS ISO weeks, the week of as_of last."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [monday - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]


# ----------------------------------------------------------------------------------------------
# One project
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refs:
    """Turns KPI tasks and gids into TaskRefs, filling links and dates from the inputs."""

    known: Mapping[str, TaskInput]

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


def _listing(refs: Sequence[TaskRef], max_items: int) -> TaskList:
    return TaskList(items=tuple(refs[:max_items]), total=len(refs))


def _by_due(ref: TaskRef) -> tuple[date, str]:
    return (ref.due or date.max, ref.name)


def _project_report(
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
    known: dict[str, TaskInput] = {t.gid: t for t in project.outside_tasks}
    known.update({t.gid: t for t in project.tasks})
    refs = _Refs(known)
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
            tasks=_listing([refs.of_task(t) for t in deps.critical_path], max_items),
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
    )


def _changes(
    kpis: ProjectKpis,
    project: ProjectInput,
    previous: tuple[date, ProjectKpis, str],
    refs: _Refs,
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
    return Changes(
        since=since,
        basis=basis,
        health_before=str(before.health),
        newly_blocked=_listing(blocked, max_items),
        newly_overdue=_listing(overdue, max_items),
        slipped=SlipList(items=tuple(slips[:max_items]), total=len(slips)),
        completed=_listing(done, max_items),
        milestones_reached=_listing(reached, max_items),
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


def _slips(current: Sequence[SlippedTask], before: ProjectKpis, refs: _Refs) -> list[Slip]:
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


def _upcoming(project: ProjectInput, refs: _Refs, as_of: date, max_items: int) -> Upcoming:
    last = as_of + timedelta(days=UPCOMING_DAYS)
    due = sorted(
        (refs.of_input(t) for t in project.tasks if not t.completed and t.due is not None and as_of <= t.due <= last),
        key=_by_due,
    )
    milestones = [r for r in due if r.milestone]
    others = [r for r in due if not r.milestone]
    return Upcoming(days=UPCOMING_DAYS, milestones=_listing(milestones, max_items), due=_listing(others, max_items))


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


def _quality(kpis: ProjectKpis, refs: _Refs, max_items: int) -> tuple[QualityWarning, ...]:
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
        out.append(QualityWarning(key, count, text, _listing(unique, min(max_items, QUALITY_EXAMPLES))))
    cycles = len(kpis.dependencies.cycles)
    if cycles:
        members = [refs.of_gid(t.gid) for cycle in kpis.dependencies.cycles for t in cycle]
        text = f"{cycles} dependency {'cycle' if cycles == 1 else 'cycles'}: no order can satisfy them"
        out.append(QualityWarning("cycles", cycles, text, _listing(members, min(max_items, QUALITY_EXAMPLES))))
    return tuple(out)
