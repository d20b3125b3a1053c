"""The KPI read model: every query about tracked projects, stored KPI snapshots and the last sync.

SQLAlchemy only; its stdlib twin that keeps `tpmsync status` instant is `tpmsync.store.fastread`,
and both decide freshness by `tpmsync.store.freshness` (a test holds the two equal). Snapshots are
stored as project JSON objects (`ProjectKpis.to_json()`); this layer does not read inside them
beyond the counts the burn-up needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tpmsync.errors import TpmsyncError
from tpmsync.store.freshness import FINISHED_OUTCOMES, snapshot_is_current
from tpmsync.store.models import KpiSnapshot, Project, SyncRun
from tpmsync.store.save import upsert
from tpmsync.store.summary import summary_of

PEOPLE_ROW = "people"
"""The `project_gid` of the row that holds the day's `people` list (workload across every tracked
project); no Asana gid is a word, so it never meets a project's row."""


def tracked_projects(session: Session, selectors: Sequence[str] = ()) -> list[Project]:
    """Tracked, not deleted projects; filtered by gids or exact names when `selectors` are given."""
    query = select(Project).where(Project.tracked.is_(True), Project.deleted_at.is_(None)).order_by(Project.name)
    projects = list(session.scalars(query))
    if not selectors:
        return projects
    wanted = set(selectors)
    chosen = [p for p in projects if p.gid in wanted or p.name in wanted]
    missing = wanted - {p.gid for p in chosen} - {p.name for p in chosen}
    if missing:
        raise TpmsyncError(
            f"not in the local store: {', '.join(sorted(missing))}; add it to asana.projects and run `tpmsync sync`"
        )
    return chosen


def last_finished_sync(session: Session) -> datetime | None:
    """When the last sync that finished (ok or partial, by any worker or the CLI) ended; naive UTC."""
    value: datetime | None = session.scalar(
        select(func.max(SyncRun.finished_at)).where(SyncRun.outcome.in_(FINISHED_OUTCOMES))
    )
    return value


def current_snapshots(
    session: Session, gids: Sequence[str], as_of: date, fingerprint: str
) -> list[dict[str, Any]] | None:
    """The snapshot JSON of each of `gids` on `as_of`, in that order, if every one is current; else None."""
    last_sync = last_finished_sync(session)
    snaps = {
        s.project_gid: s
        for s in session.scalars(
            select(KpiSnapshot).where(KpiSnapshot.as_of == as_of, KpiSnapshot.project_gid.in_(list(gids)))
        )
    }
    out: list[dict[str, Any]] = []
    for gid in gids:
        snap = snaps.get(gid)
        if snap is None or not snapshot_is_current(snap.computed_at, snap.fingerprint, fingerprint, last_sync):
            return None
        out.append(snap.data)
    return out


def save_snapshots(
    session: Session,
    as_of: date,
    projects: Iterable[Mapping[str, Any]],
    *,
    fingerprint: str,
    run_id: int | None = None,
) -> None:
    """Store (or replace) each project JSON as the snapshot of its project on `as_of`."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "project_gid": p["gid"],
            "as_of": as_of,
            "computed_at": now,
            "sync_run_id": run_id,
            "fingerprint": fingerprint,
            "health": p["health"],
            "data": dict(p),
            "summary": summary_of(p),
        }
        for p in projects
    ]
    if rows:
        upsert(session, KpiSnapshot.__table__, rows, ["project_gid", "as_of"])


def save_people(
    session: Session, as_of: date, people: Sequence[Mapping[str, Any]], *, fingerprint: str, run_id: int | None = None
) -> None:
    """Store (or replace) the `people` list of `as_of` beside the project snapshots."""
    row = {
        "project_gid": PEOPLE_ROW,
        "as_of": as_of,
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
        "sync_run_id": run_id,
        "fingerprint": fingerprint,
        "health": "",
        "data": {"people": [dict(person) for person in people]},
        "summary": None,
    }
    upsert(session, KpiSnapshot.__table__, [row], ["project_gid", "as_of"])


def current_people(session: Session, as_of: date, fingerprint: str) -> list[dict[str, Any]] | None:
    """The stored `people` list of `as_of` when it is current (as `current_snapshots` judges), else None."""
    snap = session.get(KpiSnapshot, (PEOPLE_ROW, as_of))
    if snap is None or not snapshot_is_current(snap.computed_at, snap.fingerprint, fingerprint,
                                               last_finished_sync(session)):
        return None
    people: list[dict[str, Any]] = snap.data["people"]
    return people


def snapshots_of_day(
    session: Session, as_of: date, fingerprint: str
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]] | None]:
    """Every project snapshot of `as_of` computed under `fingerprint`, by project gid, and the
    `people` list stored beside them (None without one), whether or not a sync came after them."""
    projects: dict[str, dict[str, Any]] = {}
    people: list[dict[str, Any]] | None = None
    query = select(KpiSnapshot).where(KpiSnapshot.as_of == as_of, KpiSnapshot.fingerprint == fingerprint)
    for snap in session.scalars(query):
        if snap.project_gid == PEOPLE_ROW:
            people = snap.data["people"]
        else:
            projects[snap.project_gid] = snap.data
    return projects, people


def restamp_snapshots(session: Session, as_of: date, gids: Sequence[str], *, run_id: int | None = None) -> None:
    """Mark the snapshots of `gids` on `as_of` as computed now: their inputs did not change."""
    if gids:
        session.execute(
            update(KpiSnapshot)
            .where(KpiSnapshot.as_of == as_of, KpiSnapshot.project_gid.in_(list(gids)))
            .values(computed_at=datetime.now(UTC).replace(tzinfo=None), sync_run_id=run_id)
        )


def forecast_records(
    session: Session, gids: Sequence[str], start: date, end: date
) -> dict[str, list[tuple[date, int, date | None]]]:
    """gid → [(day, open tasks, p85 date)] of the stored forecasts on start … end, oldest first,
    read inside the JSON (calibration judges them)."""
    out: dict[str, list[tuple[date, int, date | None]]] = defaultdict(list)
    if not gids:
        return out
    remaining = KpiSnapshot.data[("deadline", "forecast", "remaining")].as_integer()
    p85 = KpiSnapshot.data[("deadline", "forecast", "p85")].as_string()
    query = (
        select(KpiSnapshot.project_gid, KpiSnapshot.as_of, remaining, p85)
        .where(KpiSnapshot.project_gid.in_(list(gids)), KpiSnapshot.as_of >= start, KpiSnapshot.as_of <= end)
        .order_by(KpiSnapshot.as_of)
    )
    for gid, day, open_, when in session.execute(query):
        if open_ is not None:
            out[gid].append((day, int(open_), None if when is None else date.fromisoformat(when)))
    return out


def snapshot_days(session: Session, days: Sequence[date]) -> dict[date, set[str]]:
    """day → the project gids that have a snapshot on it, for `days`."""
    out: dict[date, set[str]] = defaultdict(set)
    if days:
        query = select(KpiSnapshot.as_of, KpiSnapshot.project_gid).where(KpiSnapshot.as_of.in_(list(days)))
        for day, gid in session.execute(query):
            out[day].add(gid)
    return out


def previous_states(session: Session, gids: Sequence[str], before: date) -> dict[str, tuple[date, dict[str, Any]]]:
    """Each project's latest snapshot strictly before `before`: gid → (its day, its project JSON)."""
    if not gids:
        return {}
    latest = (
        select(KpiSnapshot.project_gid, func.max(KpiSnapshot.as_of).label("day"))
        .where(KpiSnapshot.project_gid.in_(list(gids)), KpiSnapshot.as_of < before)
        .group_by(KpiSnapshot.project_gid)
        .subquery()
    )
    query = select(KpiSnapshot.project_gid, KpiSnapshot.as_of, KpiSnapshot.data).join(
        latest, (KpiSnapshot.project_gid == latest.c.project_gid) & (KpiSnapshot.as_of == latest.c.day)
    )
    return {gid: (day, data) for gid, day, data in session.execute(query)}


def previous_days(session: Session, gids: Sequence[str], before: date) -> dict[str, date]:
    """Each project's latest snapshot day strictly before `before`: gid → day."""
    if not gids:
        return {}
    query = (
        select(KpiSnapshot.project_gid, func.max(KpiSnapshot.as_of))
        .where(KpiSnapshot.project_gid.in_(list(gids)), KpiSnapshot.as_of < before)
        .group_by(KpiSnapshot.project_gid)
    )
    return {gid: day for gid, day in session.execute(query)}


def recorded_health(session: Session, gids: Sequence[str], start: date, end: date) -> dict[str, dict[date, str]]:
    """gid → {day: health} of the snapshots on start … end."""
    out: dict[str, dict[date, str]] = defaultdict(dict)
    if not gids:
        return out
    query = select(KpiSnapshot.project_gid, KpiSnapshot.as_of, KpiSnapshot.health).where(
        KpiSnapshot.project_gid.in_(list(gids)), KpiSnapshot.as_of >= start, KpiSnapshot.as_of <= end
    )
    for gid, day, health in session.execute(query):
        out[gid][day] = health
    return out


def recorded_counts(
    session: Session, gids: Sequence[str], start: date, end: date
) -> dict[str, dict[date, tuple[int, int]]]:
    """gid → {day: (completed, total)} of the snapshots on start … end, read inside the JSON."""
    out: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
    if not gids:
        return out
    completed = KpiSnapshot.data[("tasks", "completed")].as_integer()
    total = KpiSnapshot.data[("tasks", "total")].as_integer()
    query = select(KpiSnapshot.project_gid, KpiSnapshot.as_of, completed, total).where(
        KpiSnapshot.project_gid.in_(list(gids)), KpiSnapshot.as_of >= start, KpiSnapshot.as_of <= end
    )
    for gid, day, done, all_ in session.execute(query):
        if done is not None and all_ is not None:
            out[gid][day] = (int(done), int(all_))
    return out
