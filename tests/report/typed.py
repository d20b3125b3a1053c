"""Typed fixtures for report tests: `ReportInputs` built from `TaskInput`s, no store and no sandbox.

`inputs(kind)` is what `tpmsync.reporting.gather` would hand `build_report` for a small portfolio:
each project's KPIs today and on the day the report compares with (computed by the pure KPI
engine from the tasks of both days), eight weeks of recorded verdicts, daily (completed, total)
counts for the burn-up, and the tasks' creation dates. The projects have done, overdue, slipped,
blocked and upcoming tasks, a milestone, a dependency chain, estimates and actual hours, so every
part of a report and every chart has something to show. `typed_report(kind)` builds the report.
Deterministic: the same arguments give the same report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from tpmsync.kpi import DueChange, KpiSettings, ProjectInput, ProjectKpis, TaskInput, compute_project_kpis
from tpmsync.report.build import ReportInputs, build_report, period_start_of, trend_weeks
from tpmsync.report.model import Report

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NAMES = ("Website relaunch", "Billing migration", "Mobile app 2.0")
PEOPLE = ("Ana Silva", "Bo Chen", "Cy Diaz")


def project_gid(index: int) -> str:
    return f"{1200000000000000 + index}"


def task_gid(project: int, number: int) -> str:
    return f"{1300000000000000 + project * 1000 + number}"


def _task(project: int, number: int, name: str, as_of: date, **fields: object) -> TaskInput:
    person = number % len(PEOPLE)
    gid = task_gid(project, number)
    base = TaskInput(
        gid=gid,
        name=f"{name} {project}.{number}",
        assignee_gid=f"u{person}",
        assignee_name=PEOPLE[person],
        estimate_hours=8.0,
        modified_on=as_of - timedelta(days=number % 4),
        permalink_url=f"https://app.asana.com/0/{project_gid(project)}/{gid}",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def project_tasks(project: int, as_of: date, *, before: bool = False, estimates: bool = True) -> list[TaskInput]:
    """The tasks of project `project` on `as_of`; `before`: as they were on the compared day
    (the work completed today still open, the slip and the blocker not yet there)."""
    day = lambda offset: as_of + timedelta(days=offset)  # noqa: E731
    tasks = [
        _task(project, n, "Shipped piece", as_of, completed=True, completed_on=day(-3 - 2 * n), due=day(-2 * n),
              actual_hours=7.0 + n % 3)
        for n in range(12)
    ]
    tasks += [
        _task(project, 20 + n, "Open piece", as_of, due=day(3 + 2 * n), start=day(-10))
        for n in range(10)  # due in the next 14 days and after
    ]
    tasks += [
        _task(project, 40, "Pilot live", as_of, is_milestone=True, due=day(9),
              dependency_gids=(task_gid(project, 41),)),
        _task(project, 41, "Legal sign-off", as_of, due=day(6)),
        _task(project, 42, "Review copy", as_of, due=day(-1 - project)),  # overdue
        _task(project, 43, "Vendor contract", as_of, due=day(10), dependency_gids=(task_gid(project, 42),)),
        _task(project, 44, "Migrate data", as_of, due=day(12),
              due_history=(DueChange(as_of, day(5), day(12)),)),  # slipped today
        _task(project, 45, "Write spec", as_of, completed=True, completed_on=as_of, due=day(2)),  # done today
        _task(project, 46, "No due date yet", as_of),
    ]
    if before:
        tasks = [
            replace(t, completed=False, completed_on=None) if t.completed_on == as_of
            else replace(t, due=day(5), due_history=()) if t.gid == task_gid(project, 44)
            else replace(t, due=day(4)) if t.gid == task_gid(project, 42)
            else replace(t, dependency_gids=()) if t.gid == task_gid(project, 43)
            else t
            for t in tasks
        ]
    if not estimates:
        tasks = [replace(t, estimate_hours=None, actual_hours=None) for t in tasks]
    return tasks


def project_input(project: int, as_of: date, **options: bool) -> ProjectInput:
    gid = project_gid(project)
    return ProjectInput(gid=gid, name=NAMES[project % len(NAMES)], tasks=project_tasks(project, as_of, **options),
                        due_on=as_of + timedelta(days=30 + 10 * project), rate=100.0, currency="EUR",
                        permalink_url=f"https://app.asana.com/0/{gid}/list")


def kpis_of(project: ProjectInput, as_of: date) -> ProjectKpis:
    return compute_project_kpis(project, as_of, KpiSettings(forecast_trials=200))


def inputs(kind: str, *, projects: int = 3, as_of: date = TODAY, history: bool = True, estimates: bool = True,
           chosen: tuple[int, ...] | None = None) -> ReportInputs:
    """What gather would read for `projects` projects (`chosen`: report only these of them).
    `history`: eight weeks of recorded verdicts and 56 days of daily counts (else none: the
    burn-up is reconstructed from the tasks and the trend has only this week)."""
    since = period_start_of(kind, as_of) - timedelta(days=1)
    every = list(range(projects))
    picked = list(chosen) if chosen is not None else every
    now = {i: project_input(i, as_of, estimates=estimates) for i in picked}
    then = {i: project_input(i, since, before=True, estimates=estimates) for i in picked}
    current = sorted((kpis_of(p, as_of) for p in now.values()), key=lambda k: (str(k.health) != "red", k.gid))
    healths: dict[str, dict[date, str]] = {}
    counts: dict[str, dict[date, tuple[int, int]]] = {}
    if history:
        for i in picked:
            weeks = trend_weeks(as_of)[:-1]
            healths[project_gid(i)] = {w: ("green", "amber", "red")[(i + k) % 3] for k, w in enumerate(weeks)}
            counts[project_gid(i)] = {as_of - timedelta(days=d): (40 - d // 2, 60 - d // 4) for d in range(1, 56)}
    created = {t.gid: as_of - timedelta(days=70 - 2 * n) for p in now.values() for n, t in enumerate(p.tasks)}
    return ReportInputs(
        kind=kind,
        as_of=as_of,
        current=current,
        inputs={p.gid: p for p in now.values()},
        previous={project_gid(i): (since, kpis_of(then[i], since), "snapshot") for i in picked},
        healths=healths,
        counts=counts,
        created=created,
        every_tracked=frozenset(project_gid(i) for i in every),
        synced_at=NOW - timedelta(minutes=20),
    )


def typed_report(kind: str, *, max_items: int = 15, **options: object) -> Report:
    """The report of `inputs(kind, **options)`, generated at NOW."""
    return build_report(inputs(kind, **options), max_items=max_items, now=NOW)  # type: ignore[arg-type]
