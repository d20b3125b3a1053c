"""Project status from the local store: KPIs per project and the portfolio, as one JSON document.

`refresh_snapshots` computes today's KPIs after a sync commits and stores them (table
`kpi_snapshots`); `read_status` answers from those snapshots when they are current, which keeps
`tpmsync status` instant on a large store, and computes (and stores) them otherwise. A past
`as_of` is recomputed from history and never stored.

This module is on the `tpmsync status` path: the KPI engine is imported only when KPIs must be
computed, and the asana SDK never.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tpmsync.config import ConfigError, Settings
from tpmsync.errors import TpmsyncError
from tpmsync.snapshots import fingerprint, status_document, today_in
from tpmsync.store.db import Store
from tpmsync.store.load import tracked_projects
from tpmsync.store.models import KpiSnapshot, SyncRun
from tpmsync.store.save import upsert

if TYPE_CHECKING:
    from tpmsync.kpi.engine import KpiSettings


def kpi_settings(settings: Settings) -> KpiSettings:
    from tpmsync.kpi.engine import KpiSettings
    from tpmsync.kpi.health import Thresholds

    try:
        return KpiSettings(
            due_soon_days=settings.kpi.due_soon_days,
            stalled_days=settings.kpi.stalled_days,
            thresholds=Thresholds.from_mapping(settings.kpi.thresholds),
        )
    except ValueError as exc:
        raise ConfigError(f"{settings.source}: {exc}") from exc


def compute_projects(
    store: Store, settings: Settings, as_of: date, selectors: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every selected project's KPI JSON for `as_of`, computed from the store now."""
    from tpmsync.kpi.engine import compute_project_kpis
    from tpmsync.store.load import load_projects

    engine_settings = kpi_settings(settings)
    past = as_of < today_in(settings)
    with store.read() as session:
        projects = tracked_projects(session, selectors)
        inputs = load_projects(session, settings, projects, as_of if past else None)
    return [compute_project_kpis(p, as_of, engine_settings).to_json() for p in inputs]


def refresh_snapshots(store: Store, settings: Settings, *, run_id: int | None = None) -> list[dict[str, Any]]:
    """Compute today's KPIs of every tracked project and store them; returns the project JSONs."""
    as_of = today_in(settings)
    computed = compute_projects(store, settings, as_of)
    _save_snapshots(store, settings, as_of, computed, run_id)
    return computed


def _save_snapshots(
    store: Store, settings: Settings, as_of: date, projects: list[dict[str, Any]], run_id: int | None
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "project_gid": p["gid"],
            "as_of": as_of,
            "computed_at": now,
            "sync_run_id": run_id,
            "fingerprint": fingerprint(settings),
            "health": p["health"],
            "data": p,
        }
        for p in projects
    ]
    with store.write() as session:
        upsert(session, KpiSnapshot.__table__, rows, ["project_gid", "as_of"])


def read_status(
    store: Store, settings: Settings, *, selectors: Sequence[str] = (), as_of: date | None = None
) -> dict[str, Any]:
    """The `tpmsync status --format json` document (design.md's contract)."""
    today = today_in(settings)
    as_of = as_of or today
    if as_of != today:
        return status_document(as_of, compute_projects(store, settings, as_of, selectors))
    with store.read() as session:
        projects = tracked_projects(session, selectors)
        if not projects:
            raise TpmsyncError(
                f"the local store {store.safe_url} has no projects yet: run `tpmsync sync` "
                f"(projects come from asana.projects in {settings.source})"
            )
        last_sync = session.scalar(select(func.max(SyncRun.finished_at)).where(SyncRun.outcome.in_(("ok", "partial"))))
        snaps = {
            s.project_gid: s
            for s in session.scalars(
                select(KpiSnapshot).where(
                    KpiSnapshot.as_of == as_of, KpiSnapshot.project_gid.in_([p.gid for p in projects])
                )
            )
        }
    current = fingerprint(settings)
    fresh = all(
        p.gid in snaps
        and snaps[p.gid].fingerprint == current
        and (last_sync is None or snaps[p.gid].computed_at >= last_sync)
        for p in projects
    )
    if fresh:
        return status_document(as_of, [snaps[p.gid].data for p in projects])
    computed = compute_projects(store, settings, as_of, selectors)
    if not store.read_only:
        _save_snapshots(store, settings, as_of, computed, None)
    return status_document(as_of, computed)
