"""Build one `Report` from what `tpmsync.reporting.gather` read: today's KPIs, earlier states, tasks.

Pure: no store, no settings, no network. The current state is the status document's projects;
each project's part comes from `build_project` (its KPIs against the state compared with) and
`build_extras` (flow, people, why the forecast moved, the written status); the portfolio sums
them (`trend.portfolio_summary`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tpmsync.report.build_extras import extend, person_report
from tpmsync.report.build_project import project_report
from tpmsync.report.inputs import ReportInputs
from tpmsync.report.model import KINDS, TREND_WEEKS, Report, iso_week, period_of
from tpmsync.report.trend import portfolio_summary

__all__ = ["MAX_ITEMS", "ReportInputs", "build_report", "period_start_of", "trend_weeks"]

MAX_ITEMS = 15


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
        project_report(
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
    people = tuple(person_report(p, gathered.horizon_days) for p in gathered.people)
    reports = [extend(r, gathered, people) for r in reports]
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
