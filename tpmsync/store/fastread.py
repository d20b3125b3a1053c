"""The fast path of `tpmsync status`: today's KPI snapshots straight from SQLite, stdlib only.

After each sync the KPIs are computed and stored. Reading them back needs neither SQLAlchemy nor
the KPI engine, which is what keeps `tpmsync status` within a few tenths of a second of Python's own
start-up on a store of 100,000 tasks. The queries mirror `tpmsync.store.snapshots` and freshness is
`tpmsync.store.freshness`; a test holds both paths equal. Anything unusual (no file, no snapshot
yet, a stale one, a name not in the store) returns None and the caller takes the full path.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

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


FileState = tuple[int, int, int, int]


def file_state(path: str | Path) -> FileState | None:
    """(inode, size, mtime, ctime) of the file at `path`, None when there is none: a write of another
    process into the file changes it."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class ImmutableConnection(sqlite3.Connection):
    """A connection opened `immutable`: SQLite takes no lock and keeps what it read, so what it reads
    stands only while the file is as it was when opened (`opened_on`): a process that can write
    the folder may start a sync at any time, and move its changes into the file."""

    path = ""
    opened_on: FileState | None = None

    def unchanged(self) -> bool:
        return self.opened_on is not None and file_state(self.path) == self.opened_on


def connect_read_only(path: str | Path, *, timeout: float = 5.0, check_same_thread: bool = True) -> sqlite3.Connection:
    """The SQLite file at `path`, opened `mode=ro`.

    In a directory that takes no writes SQLite cannot create a WAL database's `-shm` file, and
    `mode=ro` alone fails; then, when no `-wal` file holds changes (nobody is writing at this
    moment), the file is opened `immutable`, which reads it as it lies: an `ImmutableConnection`,
    whose reads the caller trusts only while it is `unchanged()`.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=check_same_thread)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # the open of a WAL file happens at the first read
        return conn
    except sqlite3.OperationalError:
        conn.close()
        state = file_state(path)  # before the look at the -wal: a write after it changes the state
        folder = Path(path).parent
        wal = Path(f"{path}-wal")
        if os.access(folder, os.W_OK) or (wal.exists() and wal.stat().st_size > 0):
            raise
    immutable = sqlite3.connect(
        f"{uri}&immutable=1", uri=True, timeout=timeout, check_same_thread=check_same_thread,
        factory=ImmutableConnection,
    )
    immutable.opened_on, immutable.path = state, str(path)
    return immutable


def read_current(
    path: str, selectors: Sequence[str], as_of: date, fingerprint: str, *, detail: bool = True
) -> FastRead | None:
    """Today's snapshots of the tracked projects (or of `selectors`) if every one is current, else None.

    Without `detail`, each project is its stored summary (`tpmsync.store.summary`: no per-task
    lists), which is all a status table reads and a twentieth of the bytes to parse.
    """
    try:
        conn = connect_read_only(path)
    except sqlite3.Error:
        return None
    try:
        found = _read(conn, selectors, as_of, fingerprint, detail)
        if isinstance(conn, ImmutableConnection) and not conn.unchanged():
            return None  # another process wrote the file while it was read: maybe a torn state
        return found
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
