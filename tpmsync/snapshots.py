"""The fast path of `tpmsync status`: today's KPI snapshots straight from SQLite, stdlib only.

After each sync the KPIs are computed and stored (`tpmsync.status.refresh_snapshots`). Reading
them back needs neither SQLAlchemy nor the KPI engine, which is what keeps `tpmsync status`
within a few tenths of a second of Python's own start-up on a store of 100,000 tasks. Anything
unusual (PostgreSQL, no snapshot yet, a stale one, a name not in the store) returns None and the
caller takes the full path.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from tpmsync.config import Settings

HEALTH_ORDER = {"green": 0, "amber": 1, "red": 2}


def today_in(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.kpi.timezone)).date()


def fingerprint(settings: Settings) -> str:
    """What the KPI numbers depend on besides the store; snapshots made under another are stale."""
    basis = {"kpi": asdict(settings.kpi), "budget": asdict(settings.budget), "version": 1}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:32]


def status_document(as_of: date, projects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The status contract (docs/kpis.md): worst projects first, then by name, and the portfolio."""
    ordered = sorted(projects, key=lambda p: (-HEALTH_ORDER.get(p["health"], 0), p["name"]))
    return {"as_of": as_of.isoformat(), "projects": ordered, "portfolio": portfolio_of(ordered)}


def portfolio_of(projects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Roll the project JSONs up: the worst health, counts summed."""
    health = max((p["health"] for p in projects), key=lambda h: HEALTH_ORDER.get(h, 0), default="green")
    return {
        "health": health,
        "projects": len(projects),
        "open": sum(p["tasks"]["open"] for p in projects),
        "overdue": sum(p["deadline"]["overdue"] for p in projects),
        "blocked": sum(p["dependencies"]["blocked"] for p in projects),
        "red": [p["name"] for p in projects if p["health"] == "red"],
        "amber": [p["name"] for p in projects if p["health"] == "amber"],
        "green": [p["name"] for p in projects if p["health"] == "green"],
    }


def sqlite_path(url: str) -> str | None:
    """The file of a `sqlite:///…` URL, or None for anything else (memory, other databases)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = unquote(url[len(prefix) :].split("?", 1)[0])
            return path if path and path != ":memory:" else None
    return None


def fresh_status(settings: Settings, selectors: Sequence[str], as_of: date) -> dict[str, Any] | None:
    """The status document from today's snapshots if every one is current, else None."""
    path = sqlite_path(settings.database_url)
    if path is None or as_of != today_in(settings):
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return _read(conn, settings, selectors, as_of)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, settings: Settings, selectors: Sequence[str], as_of: date) -> dict[str, Any] | None:
    projects = conn.execute(
        "SELECT gid, name FROM projects WHERE tracked = 1 AND deleted_at IS NULL ORDER BY name"
    ).fetchall()
    if selectors:
        wanted = set(selectors)
        projects = [p for p in projects if p[0] in wanted or p[1] in wanted]
        if wanted - {p[0] for p in projects} - {p[1] for p in projects}:
            return None
    (last_sync,) = conn.execute("SELECT max(finished_at) FROM sync_runs WHERE outcome IN ('ok', 'partial')").fetchone()
    snaps = {
        gid: (computed_at, fp, data)
        for gid, computed_at, fp, data in conn.execute(
            "SELECT project_gid, computed_at, fingerprint, data FROM kpi_snapshots WHERE as_of = ?",
            (as_of.isoformat(),),
        )
    }
    current = fingerprint(settings)
    out: list[dict[str, Any]] = []
    for gid, _name in projects:
        snap = snaps.get(gid)
        if snap is None or snap[1] != current or (last_sync is not None and snap[0] < last_sync):
            return None
        out.append(json.loads(snap[2]))
    return status_document(as_of, out)
