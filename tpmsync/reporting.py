"""The report use case: gather what a report needs from the store once, then build it.

`gather` reads today's KPIs (the status document: snapshots when current, computed otherwise), the
state each project is compared with (the latest snapshot before the period, or the day before it
as history reconstructs it), the recorded health and counts for the trend and burn-up, and the
tasks. `tpmsync.report.build.build_report` turns that into a `Report` without touching the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmsync.config import ConfigError, Settings, flow_settings
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.people import people_from_json
from tpmsync.report.build import MAX_ITEMS, ReportInputs, period_start_of, trend_weeks
from tpmsync.report.build import build_report as build_from
from tpmsync.report.model import Report
from tpmsync.report.trend import BURNUP_DAYS
from tpmsync.status import compute_projects, read_status, today_in
from tpmsync.store.db import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tpmsync.kpi.forecast_detail import ForecastDetail
    from tpmsync.kpi.model.flow import FlowHistory
    from tpmsync.kpi.model.inputs import ProjectInput

NOTES_DIR = "notes"
"""Beside the config file: `notes/<project gid>.md` is the project manager's note for that project."""


def gather(
    store: Store,
    settings: Settings,
    kind: str,
    *,
    projects: Sequence[str] = (),
    as_of: date | None = None,
    since: date | None = None,
    note: str | None = None,
) -> ReportInputs:
    """What the `kind` report on `projects` (gids or names; all tracked when empty) needs, read once.

    "What changed" is measured from the state on `since` (the latest snapshot on or before it, else
    that day as history reconstructs it); by default from the day before the report's period.
    "Why it moved" is measured since the previous report of the same kind (the delivery ledger).
    `note` (the `--note` of the command line) goes first in every project's written status,
    before the project's note file (`notes_for`).
    """
    from tpmsync.kpi_inputs import created_days, load_projects
    from tpmsync.store.snapshots import previous_states, recorded_counts, recorded_health, tracked_projects

    today = today_in(settings)
    as_of = as_of or today
    period_start = period_start_of(kind, as_of)
    baseline = since if since is not None else period_start - timedelta(days=1)
    weeks = trend_weeks(as_of)
    document = read_status(store, settings, selectors=projects, as_of=as_of, rebuild=True)  # a past period as it was
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
        last_report = previous_report_day(session, kind, as_of)
        flow_history = _flow_history(session, settings, inputs, current)
        details, previous_milestones = _since_previous_report(session, settings, inputs, current, last_report, as_of)
    missing = [g for g in gids if g not in previous]
    if missing:
        for data in compute_projects(store, settings, baseline, missing):
            previous[data["gid"]] = (baseline, ProjectKpis.from_json(data, baseline), "history")
    return ReportInputs(
        kind,
        as_of,
        current,
        inputs,
        previous,
        healths,
        counts,
        created,
        every_tracked,
        synced_at=datetime.fromisoformat(document["synced_at"]) if document.get("synced_at") else None,
        stale=bool(document.get("stale")),
        flow={k.gid: k.flow for k in current if k.flow is not None},
        flow_history=flow_history,
        people=people_from_json(document.get("people", ())),
        horizon_days=settings.workload.horizon_days,
        details=details,
        previous_milestones=previous_milestones,
        notes=notes_for(settings, gids, note),
    )


def _typed(data: Mapping[str, Any], day: date) -> ProjectKpis | None:
    """A stored snapshot as KPIs; None for one an older tpmsync wrote in another shape (history stands in)."""
    try:
        return ProjectKpis.from_json(data, day)
    except (KeyError, TypeError, ValueError):
        return None


def previous_report_day(session: Session, kind: str, as_of: date) -> date:
    """The as_of of the previous report of the same kind: the latest period before this one the
    delivery ledger has sent. A weekly report is taken as made on the same weekday of its week.
    Without one, the day (daily) or the week (weekly) before."""
    from sqlalchemy import func, select

    from tpmsync.report.model import period_of
    from tpmsync.store.models import Delivery

    period = period_of(kind, as_of)
    latest = session.scalar(
        select(func.max(Delivery.period)).where(
            Delivery.kind == kind, Delivery.status == "sent", Delivery.period < period
        )
    )
    step = 1 if kind == "daily" else 7
    if latest is None:
        return as_of - timedelta(days=step)
    try:
        if kind == "daily":
            return date.fromisoformat(latest)
        year, week = latest.split("-W")
        return date.fromisocalendar(int(year), int(week), as_of.isoweekday())
    except ValueError:
        return as_of - timedelta(days=step)


def notes_for(settings: Settings, gids: Sequence[str], note: str | None = None) -> dict[str, str]:
    """The project manager's note per project: `note` (for every project) then the project's
    `notes/<gid>.md` beside the config file, when there is one."""
    folder = Path(settings.source).parent / NOTES_DIR if Path(settings.source).is_file() else None
    out: dict[str, str] = {}
    for gid in gids:
        parts = [note.strip()] if note and note.strip() else []
        if folder is not None and gid.isalnum():
            path = folder / f"{gid}.md"
            try:
                text = path.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                text = ""
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: the note cannot be read ({exc})") from exc
            if text:
                parts.append(text)
        if parts:
            out[gid] = "\n".join(parts)
    return out


def _flow_history(
    session: Session, settings: Settings, inputs: Mapping[str, ProjectInput], current: Sequence[ProjectKpis]
) -> dict[str, FlowHistory]:
    """The daily flow over the window (the cumulative flow diagram, the throughput run chart) of
    each project whose status has flow; none without `[flow]`."""
    chosen = flow_settings(settings)
    with_flow = {k.gid: k.flow for k in current if k.flow is not None}
    if chosen is None or not with_flow:
        return {}
    from tpmsync.kpi.flow_daily import daily_flow
    from tpmsync.kpi_inputs_flow import load_flow_projects

    task_sets = {gid: [t.gid for t in inputs[gid].tasks] for gid in with_flow if gid in inputs}
    return {
        project.gid: daily_flow(project, with_flow[project.gid].window_start, with_flow[project.gid].as_of, chosen)
        for project in load_flow_projects(session, task_sets)
    }


def _since_previous_report(
    session: Session,
    settings: Settings,
    inputs: Mapping[str, ProjectInput],
    current: Sequence[ProjectKpis],
    since: date,
    as_of: date,
) -> tuple[dict[str, ForecastDetail], dict[str, dict[str, date | None]]]:
    """Each project's forecast detail with `moved` measured since the previous report of the
    same kind (`since`), and each milestone's p85 on that day, both from the store's history."""
    from tpmsync.kpi.milestone_durations import duration_history
    from tpmsync.kpi.milestones import forecast_milestones
    from tpmsync.kpi.moved import explain_move, forecast_state
    from tpmsync.kpi_inputs import load_projects
    from tpmsync.status import kpi_settings
    from tpmsync.store.snapshots import tracked_projects

    with_detail = {k.gid: k.forecast_detail for k in current if k.forecast_detail is not None}
    if not with_detail:
        return {}, {}
    kpi = kpi_settings(settings)
    then = {p.gid: p for p in load_projects(session, settings, tracked_projects(session, list(with_detail)), since)}
    known_then = {t.gid: t for p in then.values() for t in (*p.outside_tasks, *p.tasks)}
    flows = {k.gid: k.flow for k in current if k.flow is not None}

    def cycles(gid: str) -> list[int]:
        flow = flows.get(gid)
        return [] if flow is None else [c.cycle_days for c in flow.completed if c.cycle_days is not None]

    histories_then = {gid: duration_history(p.tasks, since, cycles(gid)) for gid, p in then.items()}
    details: dict[str, ForecastDetail] = {}
    previous: dict[str, dict[str, date | None]] = {}
    for gid, detail in with_detail.items():
        before, project = then.get(gid), inputs.get(gid)
        if before is None or project is None:
            details[gid] = replace(detail, moved=None)
            continue
        moved = explain_move(
            forecast_state(before.tasks, since),
            forecast_state(project.tasks, as_of),
            trials=kpi.forecast_trials,
            seed=kpi.forecast_seed,
        )
        details[gid] = replace(detail, moved=moved)
        if any(m.p85 is not None for m in detail.milestones):
            old = forecast_milestones(
                gid, before.name, before.tasks, known_then, histories_then, since,
                trials=kpi.forecast_trials, seed=kpi.forecast_seed,
            )
            previous[gid] = {m.gid: m.p85 for m in old.milestones}
    return details, previous


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
    note: str | None = None,
) -> Report:
    """The `kind` ("daily" or "weekly") report on `projects`, from the store; "what changed" from `since`."""
    gathered = gather(store, settings, kind, projects=projects, as_of=as_of, since=since, note=note)
    return build_from(gathered, max_items=max_items, now=now)
