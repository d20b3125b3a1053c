"""Build one `Report` from what `tpmsync.reporting.gather` read: today's KPIs, earlier states, tasks.

Pure: no store, no settings, no network. The current state is the status document's projects.
"What changed" compares it with the latest snapshot strictly before the period (daily: before
as_of; weekly: before as_of − 6); a project without such a snapshot is compared with the day
before the period as the store's history reconstructs it. Completions, upcoming due dates and the
burn-up come from the tasks themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from tpmsync.kpi.forecast_detail import ForecastDetail, Moved
from tpmsync.kpi.model.budget import BudgetKpis, asana_budget_json
from tpmsync.kpi.model.deadline import SlippedTask
from tpmsync.kpi.model.flow import FlowHistory, FlowKpis
from tpmsync.kpi.model.forecast import Forecast as KpiForecast
from tpmsync.kpi.model.inputs import AsanaBudget as KpiAsanaBudget
from tpmsync.kpi.model.inputs import ProjectInput, TaskInput
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.people import PersonLoad
from tpmsync.report import narrative
from tpmsync.report.model import (
    KINDS,
    TREND_WEEKS,
    UPCOMING_DAYS,
    AgingItem,
    AsanaBudget,
    Budget,
    Changes,
    CriticalPath,
    CycleItem,
    FlowDayCounts,
    FlowReport,
    Forecast,
    Headline,
    Movement,
    PersonReport,
    Piece,
    ProjectReport,
    QualityWarning,
    Report,
    Slip,
    SlipList,
    TaskList,
    TaskRef,
    Upcoming,
    Written,
    WrittenLine,
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
    flow: Mapping[str, FlowKpis] = field(default_factory=dict)
    flow_history: Mapping[str, FlowHistory] = field(default_factory=dict)
    people: Sequence[PersonLoad] = ()
    horizon_days: int = 14
    details: Mapping[str, ForecastDetail] = field(default_factory=dict)
    previous_milestones: Mapping[str, Mapping[str, date | None]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    """`flow`/`flow_history`: each project's flow KPIs and daily flow over the window (none
    without a started section); `people` the assignees' load over `horizon_days`; `details`
    the forecast detail (milestones, unblock first, calibration, `moved` since the previous
    report of the same kind); `previous_milestones` each milestone's p85 in that report;
    `notes` the project manager's note per project, put first in the written status."""


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
    people = tuple(_person(p, gathered.horizon_days) for p in gathered.people)
    reports = [_extend(r, gathered, people) for r in reports]
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
        people=people,
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


# ----------------------------------------------------------------------------------------------
# Flow, people, why the forecast moved, the written status
# ----------------------------------------------------------------------------------------------


def _person(load: PersonLoad, horizon_days: int) -> PersonReport:
    return PersonReport(
        gid=load.gid,
        name=load.name,
        open=load.open,
        overdue=load.overdue,
        due_in_horizon=load.due_in_horizon,
        load_hours=load.load_hours,
        capacity_hours=load.capacity_hours,
        load_ratio=load.load_ratio,
        critical_tasks=len(load.critical_tasks),
        horizon_days=horizon_days,
    )


def _flow(kpis: FlowKpis, history: FlowHistory | None, refs: _Refs) -> FlowReport:
    aging = {item.gid for item in kpis.aging_tasks}
    wip = tuple(
        AgingItem(refs.of_gid(item.gid, item.name), item.section, item.started_on, item.age_days, item.gid in aging)
        for item in kpis.wip_tasks
    )
    completed = tuple(
        CycleItem(refs.of_gid(item.gid, item.name), item.cycle_days, item.lead_days) for item in kpis.completed
    )
    days: tuple[FlowDayCounts, ...] = ()
    columns: tuple[str, ...] = ()
    started: tuple[bool, ...] = ()
    if history is not None:
        columns = tuple(ref.name for ref in history.sections)
        started = history.started
        days = tuple(FlowDayCounts(d.day, d.sections, d.completed, d.throughput) for d in history.days)
    return FlowReport(
        window_start=kpis.window_start,
        wip_total=kpis.wip,
        aging_total=kpis.aging,
        cycle_p50=kpis.cycle_time.p50,
        cycle_p85=kpis.cycle_time.p85,
        cycle_n=kpis.cycle_time.n,
        lead_p85=kpis.lead_time.p85,
        wip=wip,
        completed=completed,
        columns=columns,
        started=started,
        days=days,
    )


def _movement(moved: Moved) -> Movement:
    return Movement(
        since=moved.since,
        change_days=moved.p85_change_days,
        scope_days=moved.scope_days,
        progress_days=moved.progress_days,
        pace_days=moved.pace_days,
        tasks_added=moved.tasks_added,
        tasks_removed=moved.tasks_removed,
        tasks_completed=moved.tasks_completed,
        throughput_before=moved.throughput_before,
        throughput_after=moved.throughput_after,
    )


def _extend(report: ProjectReport, gathered: ReportInputs, people: Sequence[PersonReport]) -> ProjectReport:
    """The report of one project with its flow, the forecast's movement and the written status."""
    gid = report.gid
    project = gathered.inputs[gid]
    known: dict[str, TaskInput] = {t.gid: t for t in project.outside_tasks}
    known.update({t.gid: t for t in project.tasks})
    refs = _Refs(known)
    flow_kpis = gathered.flow.get(gid)
    flow = None if flow_kpis is None else _flow(flow_kpis, gathered.flow_history.get(gid), refs)
    detail = gathered.details.get(gid)
    moved = None if detail is None or detail.moved is None else detail.moved
    assignees = {t.assignee_gid for t in project.tasks if not t.completed and t.assignee_gid}
    overloaded = tuple(
        narrative.OverloadedOwner(p.name, round(p.load_ratio, 2), p.overdue)
        for p in sorted(people, key=lambda p: (-p.load_ratio, p.name, p.gid))
        if p.overloaded and p.gid in assignees
    )
    forecast = report.forecast
    facts = narrative.StatusFacts(
        project_gid=gid,
        project_name=report.name,
        as_of=gathered.as_of,
        health=report.health,
        reasons=report.reasons,
        previous_health=report.changes.health_before,
        since=moved.since if moved is not None else report.changes.since,
        tasks_completed=moved.tasks_completed if moved is not None else report.changes.completed.total,
        tasks_added=None if moved is None else moved.tasks_added,
        p85=forecast.p85,
        due=forecast.due_on,
        probability_on_time=forecast.probability_on_time,
        judged=0 if detail is None else detail.calibration.judged,
        held=0 if detail is None else detail.calibration.held,
        moved=moved,
        milestones_at_risk=(
            () if detail is None else narrative.milestones_at_risk(
                detail.milestones, gathered.previous_milestones.get(gid)
            )
        ),
        unblock_first=() if detail is None else detail.unblock_first,
        overloaded=overloaded,
        note=gathered.notes.get(gid),
    )
    return replace(
        report,
        flow=flow,
        moved=None if moved is None else _movement(moved),
        written=written(narrative.write_status(facts)),
    )


def written(status: narrative.WrittenStatus) -> Written:
    """The written status as the report keeps it: its text, HTML and lines of pieces."""

    def pieces(segments: Sequence[narrative.Segment]) -> tuple[Piece, ...]:
        return tuple(Piece(text, url) for text, url in segments)

    lines = [WrittenLine("note", (Piece(line),)) for line in (status.note or "").split("\n") if line]
    lines.append(WrittenLine("headline", pieces(status.headline)))
    for title, items in status.sections:
        lines.append(WrittenLine("title", (Piece(title),)))
        lines += [WrittenLine("item", pieces(item)) for item in items]
    return Written(text=status.text, html=status.html, lines=tuple(lines))
