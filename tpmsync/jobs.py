"""The units of work that the CLI and the scheduler both run, so that they behave the same.

- `sync_job`: sync from Asana, then refresh today's KPI snapshots (what `tpmsync status` reads);
- `report_job`: build a report from the store and deliver it through the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from tpmsync.config import Settings
from tpmsync.store.db import Store

if TYPE_CHECKING:
    from tpmsync.deliver.service import DeliveryResult
    from tpmsync.report.model import Report
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


def report_job(
    store: Store,
    settings: Settings,
    kind: str,
    *,
    channels: Sequence[str],
    projects: Sequence[str] = (),
    as_of: date | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> list[DeliveryResult]:
    """Build the `kind` report (daily|weekly) from the store and deliver it to `channels`.

    The delivery ledger makes this safe to run twice, from two workers, or after a crash:
    each (kind, period, scope, channel, target) is sent at most once unless `force`.
    """
    from tpmsync.report.build import build_report

    report = build_report(store, settings, kind, projects=projects, as_of=as_of)
    return deliver_report(store, settings, report, channels=channels, dry_run=dry_run, force=force)


def deliver_report(
    store: Store,
    settings: Settings,
    report: Report,
    *,
    channels: Sequence[str],
    dry_run: bool = False,
    force: bool = False,
) -> list[DeliveryResult]:
    """Render a built report for every channel and deliver it through the ledger."""
    from tpmsync.deliver.service import deliver
    from tpmsync.report.outgoing import build_outgoing

    return deliver(store, settings, build_outgoing(report), channels=list(channels), dry_run=dry_run, force=force)
