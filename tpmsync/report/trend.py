"""The report's view over time: the weekly health trend, the burn-up, and the portfolio roll-up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from tpmsync.kpi.model.inputs import ProjectInput
from tpmsync.portfolio import Row, repeats, roll_up, worst_health
from tpmsync.report.model import Burnup, BurnupPoint, Headline, PortfolioSummary, ProjectReport, TrendCell, iso_week

BURNUP_DAYS = 56
MIN_BURNUP_POINTS = 7


def trend(weeks: Sequence[date], healths: Mapping[date, str], as_of: date, current: str) -> tuple[TrendCell, ...]:
    cells: list[TrendCell] = []
    for monday in weeks:
        end = min(monday + timedelta(days=6), as_of)
        if monday <= as_of <= monday + timedelta(days=6):
            health: str | None = current
        else:
            days = [d for d in healths if monday <= d <= end]
            health = healths[max(days)] if days else None
        cells.append(TrendCell(iso_week(monday), health))
    return tuple(cells)


def burnup(
    project: ProjectInput,
    created: Mapping[str, date],
    counts: Mapping[date, tuple[int, int]],
    now: tuple[int, int],
    as_of: date,
) -> Burnup | None:
    """Completed vs total per day over the last BURNUP_DAYS days; None with too little history.

    From the snapshots when they cover at least half of those days, else reconstructed from the
    tasks' creation and completion dates (which misses tasks deleted since).
    """
    start = as_of - timedelta(days=BURNUP_DAYS - 1)
    recorded = {**{d: c for d, c in counts.items() if d < as_of}, as_of: now}
    if len(recorded) >= BURNUP_DAYS // 2:
        source = "snapshots"
        series = sorted(recorded.items())
    else:
        source = "tasks"
        series = _reconstructed(project, created, start, as_of)
        series[-1] = (as_of, now)
    points = tuple(BurnupPoint(day, done, total) for day, (done, total) in series if total > 0)
    if len(points) < MIN_BURNUP_POINTS:
        return None
    return Burnup(source=source, points=points)


def _reconstructed(
    project: ProjectInput, created: Mapping[str, date], start: date, end: date
) -> list[tuple[date, tuple[int, int]]]:
    """Totals from creation dates and completions from completion dates, day by day."""
    added: Counter[date] = Counter()
    finished: Counter[date] = Counter()
    for task in project.tasks:
        added[max(created.get(task.gid, start), start)] += 1
        if task.completed and task.completed_on is not None:
            finished[max(task.completed_on, start)] += 1
    series: list[tuple[date, tuple[int, int]]] = []
    total = done = 0
    day = start
    while day <= end:
        total += added[day]
        done += finished[day]
        series.append((day, (done, total)))
        day += timedelta(days=1)
    return series


# ----------------------------------------------------------------------------------------------
# The portfolio
# ----------------------------------------------------------------------------------------------


def portfolio_summary(projects: Sequence[ProjectReport], weeks: Sequence[date]) -> PortfolioSummary:
    """The report's portfolio: the one roll-up (`tpmsync.portfolio`) plus what changed in the period."""
    rolled = roll_up(
        Row(p.name, p.health, h.total, h.open, h.completed, h.overdue, h.due_soon, h.blocked, h.blocked_by_overdue,
            h.slipped, {shared.gid: shared.counts for shared in h.shared})
        for p, h in ((p, p.headline) for p in projects)
    )
    headline = Headline(
        total=rolled.total,
        open=rolled.open,
        completed=rolled.completed,
        overdue=rolled.overdue,
        due_soon=rolled.due_soon,
        blocked=rolled.blocked,
        blocked_by_overdue=rolled.blocked_by_overdue,
        slipped=rolled.slipped,
        on_time_rate=None,
        spi=None,
        cpi=None,
    )
    # a change of a task two projects share is in both projects' lists; the portfolio counts it once
    twice = repeats({shared.gid: shared.counts for shared in p.changes.shared} for p in projects)
    trend = tuple(
        TrendCell(iso_week(monday), worst_health(p.trend[i].health for p in projects))
        for i, monday in enumerate(weeks)
    )
    return PortfolioSummary(
        health=rolled.health,
        projects=rolled.projects,
        headline=headline,
        red=rolled.red,
        amber=rolled.amber,
        green=rolled.green,
        completed_in_period=sum(p.changes.completed.total for p in projects) - twice["completed"],
        newly_overdue=sum(p.changes.newly_overdue.total for p in projects) - twice["newly_overdue"],
        newly_blocked=sum(p.changes.newly_blocked.total for p in projects) - twice["newly_blocked"],
        slipped_in_period=sum(p.changes.slipped.total for p in projects) - twice["slipped"],
        milestones_reached=sum(p.changes.milestones_reached.total for p in projects) - twice["milestones_reached"],
        trend=trend,
    )
