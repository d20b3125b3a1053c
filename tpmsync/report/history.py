"""What the store remembers about earlier days: KPI snapshots read back for reports.

Reads are set-based (one query per question for all projects). `backfill_snapshots` is the one
writer: it stores snapshots for past days that have none, reconstructed from the store's history
(as `tpmsync status --as-of` computes them), so a new installation's first reports already have
a trend and something to compare with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tpmsync.config import Settings
from tpmsync.snapshots import fingerprint, today_in
from tpmsync.store.db import Store
from tpmsync.store.models import KpiSnapshot
from tpmsync.store.save import upsert


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


def backfill_snapshots(store: Store, settings: Settings, days: Iterable[date]) -> list[date]:
    """Store snapshots, reconstructed from history, for the past `days` that have none.

    Days on or after today are skipped (`tpmsync status` and sync refresh those). A day is
    filled only for the tracked projects without a snapshot on it. Returns the days written.
    """
    from tpmsync.status import compute_projects
    from tpmsync.store.load import tracked_projects

    today = today_in(settings)
    wanted = sorted({d for d in days if d < today})
    with store.read() as session:
        gids = [p.gid for p in tracked_projects(session)]
        existing: dict[date, set[str]] = defaultdict(set)
        if wanted:
            query = select(KpiSnapshot.as_of, KpiSnapshot.project_gid).where(KpiSnapshot.as_of.in_(wanted))
            for day, gid in session.execute(query):
                existing[day].add(gid)
    written: list[date] = []
    stamp = fingerprint(settings)
    now = datetime.now(UTC).replace(tzinfo=None)
    for day in wanted:
        missing = [g for g in gids if g not in existing[day]]
        if not missing:
            continue
        projects = compute_projects(store, settings, day, missing)
        rows = [
            {
                "project_gid": p["gid"],
                "as_of": day,
                "computed_at": now,
                "sync_run_id": None,
                "fingerprint": stamp,
                "health": p["health"],
                "data": p,
            }
            for p in projects
        ]
        with store.write() as session:
            upsert(session, KpiSnapshot.__table__, rows, ["project_gid", "as_of"])
        written.append(day)
    return written
