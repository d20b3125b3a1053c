"""Reports made in memory, no database: any number of projects, full task lists, chosen names.

Used by the hostile-name and size tests and by bench/bench_payloads.py. The shape follows what
`report.build` produces for a busy portfolio: every list holds `MAX_ITEMS` (15) tasks of a larger
total, red and amber projects carry several reasons, eight weeks of trend and a burn-up.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from tpmsync.kpi.forecast_detail import Moved, TaskLink, UnblockItem
from tpmsync.report import facts, narrative
from tpmsync.report.build_extras import written
from tpmsync.report.model import (
    Budget,
    Burnup,
    BurnupPoint,
    Changes,
    CriticalPath,
    Forecast,
    Headline,
    PortfolioSummary,
    ProjectReport,
    QualityWarning,
    Report,
    TrendCell,
    Upcoming,
    iso_week,
    period_of,
)
from tpmsync.report.model_flow import AgingItem, CycleItem, FlowDayCounts, FlowReport, PersonReport
from tpmsync.report.model_tasks import Slip, SlipList, TaskList, TaskRef
from tpmsync.report.model_written import Movement

AS_OF = date(2026, 11, 25)
MAX_ITEMS = 15
WORDS = ("Migrate", "billing", "service", "to", "the", "new", "cluster", "and", "review", "access", "for",
         "SSO", "rollout", "QA", "sign-off", "API", "docs", "vendor", "contract", "renewal")
HEALTHS = ("red", "amber", "green", "green", "amber", "green")

Namer = Callable[[str, int], str]  # (what, index) → name; what is "project", "task", "person"


def plain_names(what: str, index: int) -> str:
    rng = random.Random(f"{what}{index}")
    if what == "person":
        return rng.choice(("Ada Lovelace", "Tim Turing", "Grace Hopper", "Linus Pauling", "Edsger Dijkstra"))
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
    return f"{words.capitalize()} {index}"


def _tasks(namer: Namer, project: int, what: str, total: int, *, completed: bool = False, items: int = MAX_ITEMS
           ) -> TaskList:
    items = tuple(
        TaskRef(
            gid=f"{1300000000000000 + project * 1000 + i}",
            name=namer("task", project * 1000 + i),
            url=f"https://app.asana.com/0/{1200000000000000 + project}/{1300000000000000 + project * 1000 + i}",
            due=AS_OF - timedelta(days=i % 9 - 3),
            assignee=namer("person", i),
            completed_on=AS_OF - timedelta(days=i % 5) if completed else None,
            milestone=what == "milestone",
        )
        for i in range(min(total, items))
    )
    return TaskList(items=items, total=total)


def _flow(namer: Namer, index: int, items: int) -> FlowReport:
    """Flow over a 42-day window: four columns, items in progress (some aging), completed tasks."""
    refs = _tasks(namer, index, "wip", 30, items=items).items
    wip = tuple(
        AgingItem(ref, namer("section", k % 3), AS_OF - timedelta(days=3 * k + 1), 3 * k + 2, 3 * k + 2 > 12)
        for k, ref in enumerate(refs)
    )
    done = tuple(CycleItem(ref, 2 + k % 11, 5 + k % 13) for k, ref in enumerate(
        _tasks(namer, index, "done", 40, completed=True, items=items).items))
    days = tuple(
        FlowDayCounts(AS_OF - timedelta(days=41 - d), (20 - d // 3, 6 + d % 4, 3 + d % 3, 2), 100 + 2 * d, d % 4)
        for d in range(42)
    )
    return FlowReport(window_start=AS_OF - timedelta(days=41), wip_total=30, aging_total=sum(i.aging for i in wip),
                      cycle_p50=5, cycle_p85=12, cycle_n=40, lead_p85=20, wip=wip, completed=done,
                      columns=tuple(namer("section", k) for k in range(4)), started=(False, True, True, False),
                      days=days)


def _written(
    namer: Namer, index: int, gid: str, health: str, reasons: tuple[str, ...], moved: Moved
) -> narrative.WrittenStatus:
    """A written status naming hostile things everywhere it can: milestones, owners, blockers, the note."""
    task = lambda k: f"{1300000000000000 + index * 1000 + k}"  # noqa: E731
    link = TaskLink(task(1), namer("task", index * 1000 + 1), gid, "1100", namer("person", index), AS_OF)
    blocker = TaskLink(task(2), namer("task", index * 1000 + 2), gid, "1101", namer("person", index + 1), None)
    return narrative.write_status(facts.StatusFacts(
        project_gid=gid, project_name=namer("project", index), as_of=AS_OF, health=health, reasons=reasons,
        previous_health="green", since=moved.since, tasks_completed=moved.tasks_completed,
        tasks_added=moved.tasks_added, p85=AS_OF + timedelta(days=41), due=AS_OF + timedelta(days=35),
        probability_on_time=0.999, judged=9, held=7, moved=moved,
        milestones_at_risk=(facts.MilestoneRisk(task(9), namer("task", index * 1000 + 9), gid,
                                                    AS_OF + timedelta(days=20), AS_OF + timedelta(days=30),
                                                    AS_OF + timedelta(days=21), 0.01),),
        unblock_first=(UnblockItem(link, 0.7, task(9), namer("task", index * 1000 + 9), AS_OF, (blocker,)),),
        overloaded=(facts.OverloadedOwner(namer("person", index), 1.8, 3),),
        note=namer("note", index),
    ))


def _project(index: int, namer: Namer, weeks: list[date], items: int, extras: bool,
             given: tuple[str, ...] | None = None) -> ProjectReport:
    health = HEALTHS[index % len(HEALTHS)]
    gid = f"{1200000000000000 + index}"
    task_name = namer("task", index * 1000)
    reasons: tuple[str, ...] = ()
    if health != "green":
        reasons = (
            f"{7 + index % 5} of 55 open tasks overdue: the oldest is '{task_name}', due {AS_OF - timedelta(days=9)}",
            f"'{namer('task', index * 1000 + 1)}' is blocked by overdue '{task_name}' on the critical path",
            f"the forecast p85 {AS_OF + timedelta(days=40)} is after the due date {AS_OF + timedelta(days=20)}; "
            "the chance to finish by then is 31%",
            "SPI 0.81: less work done than planned by today",
        )[: 2 + index % 3]
    if given is not None:
        reasons = given
    slips = tuple(
        Slip(task=t, previous_due=AS_OF - timedelta(days=2), current_due=AS_OF + timedelta(days=5), days=7)
        for t in _tasks(namer, index, "slip", MAX_ITEMS, items=items).items
    )
    return ProjectReport(
        gid=gid,
        name=namer("project", index),
        url=f"https://app.asana.com/0/{gid}/list",
        health=health,
        reasons=reasons,
        headline=Headline(total=1000, open=420, completed=580, overdue=37, due_soon=21, blocked=12,
                          blocked_by_overdue=4, slipped=9, on_time_rate=0.72, spi=0.91, cpi=1.04),
        changes=Changes(
            since=AS_OF - timedelta(days=7),
            basis="snapshot",
            health_before="green" if health == "red" else None,
            newly_blocked=_tasks(namer, index, "blocked", 22, items=items),
            newly_overdue=_tasks(namer, index, "overdue", 31, items=items),
            slipped=SlipList(items=slips, total=40),
            completed=_tasks(namer, index, "done", 64, completed=True, items=items),
            milestones_reached=_tasks(namer, index, "milestone", 2, completed=True, items=items),
        ),
        upcoming=Upcoming(days=14, milestones=_tasks(namer, index, "milestone", 3, items=items),
                          due=_tasks(namer, index, "due", 58, items=items)),
        critical_path=CriticalPath(days=34, tasks=_tasks(namer, index, "path", 12, items=items)),
        budget=Budget(unit="EUR", bac=250_000, pv=120_000, ev=110_000, ac=105_000, cpi=1.05, spi=0.92,
                      eac=238_000, vac=12_000, tasks_estimated=800, tasks_unestimated=200),
        asana_budget=None,
        forecast=Forecast(p50=AS_OF + timedelta(days=30), p85=AS_OF + timedelta(days=41),
                          p95=AS_OF + timedelta(days=50), due_on=AS_OF + timedelta(days=35),
                          probability_on_time=0.62, remaining=420, reason=None),
        data_quality=(QualityWarning(kind="no_due", count=40, text="40 open tasks have no due date",
                                     examples=_tasks(namer, index, "nodue", 40, items=items)),),
        trend=tuple(TrendCell(iso_week(w), HEALTHS[(index + i) % len(HEALTHS)]) for i, w in enumerate(weeks)),
        burnup=Burnup(source="snapshots", points=tuple(
            BurnupPoint(day=AS_OF - timedelta(days=7 * (8 - i)), completed=500 + 10 * i, total=950 + 6 * i)
            for i in range(9)
        )),
        **(_extras(index, namer, gid, health, reasons, items) if extras else {}),
    )


def _extras(index: int, namer: Namer, gid: str, health: str, reasons: tuple[str, ...], items: int) -> dict[str, object]:
    """Flow, why the forecast moved and the written status of one synthetic project."""
    moved = Moved(since=AS_OF - timedelta(days=7), p85_before=AS_OF + timedelta(days=32),
                  p85_after=AS_OF + timedelta(days=41), p85_change_days=9, scope_days=5, progress_days=1,
                  pace_days=3, tasks_added=12, tasks_removed=0, tasks_completed=4, throughput_before=30,
                  throughput_after=26)
    movement = Movement(since=moved.since, change_days=9, scope_days=5, progress_days=1, pace_days=3,
                        tasks_added=12, tasks_removed=0, tasks_completed=4, throughput_before=30, throughput_after=26)
    return {"flow": _flow(namer, index, items), "moved": movement,
            "written": written(_written(namer, index, gid, health, reasons, moved))}


def people(namer: Namer, count: int) -> tuple[PersonReport, ...]:
    return tuple(
        PersonReport(gid=f"{1100 + k}", name=namer("person", k), open=10 + k, overdue=k % 3, due_in_horizon=5,
                     load_hours=40.0 + 15 * k, capacity_hours=64.0, load_ratio=(40.0 + 15 * k) / 64,
                     critical_tasks=k % 2, horizon_days=14)
        for k in range(count)
    )


def make_report(projects: int, *, kind: str = "weekly", namer: Namer = plain_names, items: int = MAX_ITEMS,
                extras: bool = False, reasons: tuple[str, ...] | None = None) -> Report:
    """`items`: tasks kept per list (the totals stay those of a busy project); `extras`: flow, why
    the forecast moved, the written status and people (eight of them) as well."""
    weeks = [AS_OF - timedelta(days=AS_OF.weekday() + 7 * (7 - i)) for i in range(8)]
    reports = tuple(_project(i, namer, weeks, items, extras, reasons) for i in range(projects))
    rank = {"red": 0, "amber": 1, "green": 2}
    worst = min((p.health for p in reports), key=rank.__getitem__, default="green")
    portfolio = PortfolioSummary(
        health=worst,
        projects=projects,
        headline=Headline(total=1000 * projects, open=420 * projects, completed=580 * projects,
                          overdue=37 * projects, due_soon=21 * projects, blocked=12 * projects,
                          blocked_by_overdue=4 * projects, slipped=9 * projects, on_time_rate=0.72, spi=0.91,
                          cpi=1.04),
        red=tuple(p.name for p in reports if p.health == "red"),
        amber=tuple(p.name for p in reports if p.health == "amber"),
        green=tuple(p.name for p in reports if p.health == "green"),
        completed_in_period=64 * projects,
        newly_overdue=31 * projects,
        newly_blocked=22 * projects,
        slipped_in_period=40 * projects,
        milestones_reached=2 * projects,
        trend=tuple(TrendCell(iso_week(w), "amber") for w in weeks),
    )
    period_start = AS_OF if kind == "daily" else AS_OF - timedelta(days=AS_OF.weekday())
    return Report(
        kind=kind,
        as_of=AS_OF,
        period=period_of(kind, AS_OF),
        period_start=period_start,
        scope="portfolio",
        title=f"{kind.capitalize()} status — {AS_OF:%b} {AS_OF.day}, {AS_OF.year}",
        health=worst,
        portfolio=portfolio,
        projects=reports,
        generated_at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        trend_periods=tuple(iso_week(w) for w in weeks),
        people=people(namer, 8) if extras else (),
    )
