"""The fast path of `tpmsync status`: today's KPI snapshots straight from SQLite, stdlib only.

After each sync the KPIs are computed and stored. Reading them back needs neither SQLAlchemy nor
the KPI engine, which is what keeps `tpmsync status` within a few tenths of a second of Python's own
start-up on a store of 100,000 tasks. The queries mirror `tpmsync.store.snapshots` and freshness is
`tpmsync.store.freshness`; a test holds both paths equal. Anything unusual (no file, no snapshot
yet, a stale one, a name not in the store) returns None and the caller takes the full path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote

from tpmsync.store.freshness import FINISHED_OUTCOMES, snapshot_is_current

PEOPLE_ROW = "people"  # as `tpmsync.store.snapshots.PEOPLE_ROW` (a test holds them equal)


@dataclass(frozen=True)
class FastRead:
    projects: list[dict[str, Any]]  # the snapshot JSONs, tracked projects in name order
    people: list[dict[str, Any]]  # the day's `people` list (every tracked project's)
    last_sync: str | None  # SQLite's text of the naive-UTC time the last finished sync ended


def sqlite_path(url: str) -> str | None:
    """The file of a `sqlite:///…` URL, or None for anything else (memory, other databases)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = unquote(url[len(prefix) :].split("?", 1)[0])
            return path if path and path != ":memory:" else None
    return None


def read_current(
    path: str, selectors: Sequence[str], as_of: date, fingerprint: str, *, detail: bool = True
) -> FastRead | None:
    """Today's snapshots of the tracked projects (or of `selectors`) if every one is current, else None.

    Without `detail`, each project is its stored summary (`tpmsync.store.summary`: no per-task
    lists), which is all a status table reads and a twentieth of the bytes to parse.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return _read(conn, selectors, as_of, fingerprint, detail)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _read(
    conn: sqlite3.Connection, selectors: Sequence[str], as_of: date, fingerprint: str, detail: bool
) -> FastRead | None:
    projects = conn.execute(
        "SELECT gid, name FROM projects WHERE tracked = 1 AND deleted_at IS NULL ORDER BY name"
    ).fetchall()
    if selectors:
        wanted = set(selectors)
        projects = [p for p in projects if p[0] in wanted or p[1] in wanted]
        if wanted - {p[0] for p in projects} - {p[1] for p in projects}:
            return None
    if not projects:
        return None
    marks = ", ".join("?" for _ in FINISHED_OUTCOMES)
    (last_sync,) = conn.execute(
        f"SELECT max(finished_at) FROM sync_runs WHERE outcome IN ({marks})", FINISHED_OUTCOMES
    ).fetchone()
    document = "data" if detail else "coalesce(summary, data)"  # older rows have no summary
    snaps = {
        gid: (computed_at, fp, data)
        for gid, computed_at, fp, data in conn.execute(
            f"SELECT project_gid, computed_at, fingerprint, {document} FROM kpi_snapshots WHERE as_of = ?",
            (as_of.isoformat(),),
        )
    }
    out: list[dict[str, Any]] = []
    for gid in [*(p[0] for p in projects), PEOPLE_ROW]:
        snap = snaps.get(gid)
        if snap is None or not snapshot_is_current(snap[0], snap[1], fingerprint, last_sync):
            return None
        out.append(json.loads(snap[2]))
    people = out.pop()
    return FastRead(out, people["people"], last_sync)
