"""The units of work that the CLI and the scheduler both run, so that they behave the same.

- `sync_job`: sync from Asana, then refresh today's KPI snapshots (what `tpmsync status` reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tpmsync.config import Settings
from tpmsync.store.db import Store

if TYPE_CHECKING:
    from tpmsync.sync import Progress, SyncResult


def sync_job(
    store: Store,
    settings: Settings,
    *,
    projects: Sequence[str] = (),
    full: bool = False,
    progress: Progress | None = None,
    lock_wait_seconds: float = 0.0,
) -> SyncResult:
    """One sync run and, unless every project failed, fresh KPI snapshots for today."""
    from tpmsync.asana.client import AsanaClient
    from tpmsync.status import refresh_snapshots
    from tpmsync.sync import run_sync

    with AsanaClient(settings.asana) as client:
        result = run_sync(
            store,
            client,
            settings,
            projects=projects,
            full=full,
            progress=progress,
            lock_wait_seconds=lock_wait_seconds,
        )
    if result.outcome != "failed":
        refresh_snapshots(store, settings, run_id=result.run_id)
    return result
