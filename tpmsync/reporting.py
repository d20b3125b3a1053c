"""The report use case: gather what a report needs from the store once, then build it.

`gather` reads today's KPIs (the status document: snapshots when current, computed otherwise), the
state each project is compared with (the latest snapshot before the period, or the day before it
as history reconstructs it), the recorded health and counts for the trend and burn-up, and the
tasks. `tpmsync.report.build.build_report` turns that into a `Report` without touching the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from tpmsync.config import Settings
from tpmsync.kpi.model import ProjectKpis
from tpmsync.report.build import MAX_ITEMS, ReportInputs, period_start_of, trend_weeks
from tpmsync.report.build import build_report as build_from
from tpmsync.report.model import Report
from tpmsync.report.trend import BURNUP_DAYS
from tpmsync.status import compute_projects, read_status, today_in
from tpmsync.store.db import Store


def gather(
    store: Store,
    settings: Settings,
    kind: str,
    *,
    projects: Sequence[str] = (),
    as_of: date | None = None,
    since: date | None = None,
) -> ReportInputs:
    """What the `kind` report on `projects` (gids or names; all tracked when empty) needs, read once.

    "What changed" is measured from the state on `since` (the latest snapshot on or before it, else
    that day as history reconstructs it); by default from the day before the report's period.
    """
    from tpmsync.kpi_inputs import created_days, load_projects
    from tpmsync.store.snapshots import previous_states, recorded_counts, recorded_health, tracked_projects

    today = today_in(settings)
    as_of = as_of or today
    period_start = period_start_of(kind, as_of)
    baseline = since if since is not None else period_start - timedelta(days=1)
    weeks = trend_weeks(as_of)
    document = read_status(store, settings, selectors=projects, as_of=as_of)
    current = [ProjectKpis.from_json(data, as_of) for data in document["projects"]]
    gids = [k.gid for k in current]
    with store.read() as session:
        every_tracked = frozenset(p.gid for p in tracked_projects(session))
        chosen = tracked_projects(session, gids) if gids else []
        inputs = {p.gid: p for p in load_projects(session, settings, chosen, as_of if as_of < today else None)}
        created = created_days(session, settings, inputs.values())
        previous = {
            gid: (day, kpis, "snapshot")
            for gid, (day, data) in previous_states(session, gids, baseline + timedelta(days=1)).items()
            if (kpis := _typed(data, day)) is not None
        }
        healths = recorded_health(session, gids, weeks[0], as_of)
        counts = recorded_counts(session, gids, as_of - timedelta(days=BURNUP_DAYS - 1), as_of)
    missing = [g for g in gids if g not in previous]
    if missing:
        for data in compute_projects(store, settings, baseline, missing):
            previous[data["gid"]] = (baseline, ProjectKpis.from_json(data, baseline), "history")
    synced_at = datetime.fromisoformat(document["synced_at"]) if document.get("synced_at") else None
    return ReportInputs(kind, as_of, current, inputs, previous, healths, counts, created, every_tracked, synced_at,
                        bool(document.get("stale")))


def _typed(data: Mapping[str, Any], day: date) -> ProjectKpis | None:
    """A stored snapshot as KPIs; None for one an older tpmsync wrote in another shape (history stands in)."""
    try:
        return ProjectKpis.from_json(data, day)
    except (KeyError, TypeError, ValueError):
        return None


def build_report(
    store: Store,
    settings: Settings,
    kind: str,
    *,
    projects: Sequence[str] = (),
    as_of: date | None = None,
    max_items: int = MAX_ITEMS,
    now: datetime | None = None,
    since: date | None = None,
) -> Report:
    """The `kind` ("daily" or "weekly") report on `projects`, from the store; "what changed" from `since`."""
    gathered = gather(store, settings, kind, projects=projects, as_of=as_of, since=since)
    return build_from(gathered, max_items=max_items, now=now)
