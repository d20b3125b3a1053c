"""The units of work that the CLI and the scheduler both run, so that they behave the same.

- `sync_job`: sync from Asana, then refresh today's KPI snapshots (what `tpmsync status` reads);
- `report_job`: build a report from the store and deliver it through the ledger;
- `delivery_outcome`: the one rule that turns a report's deliveries into ok / partial / failed /
  pending, for the exit code of `tpmsync report --post` and the worker's record alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    """One sync run and, unless every project failed, fresh KPI snapshots for today (after a sync
    of `projects` that deleted nothing, computed again only where that sync can have changed them)."""
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
        written = set().union(*(project.seen for project in result.projects))
        # A tombstone leaves every project the task was in, and its dependents' edges: no task set
        # the refresh can look at still shows what it changed, so every project is computed again.
        deleted = any(project.deleted for project in result.projects)
        synced = {project.gid for project in result.projects} if projects and not deleted else None
        refresh_snapshots(store, settings, run_id=result.run_id, synced=synced, written=written)
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
    from tpmsync.reporting import build_report

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


@dataclass(frozen=True)
class Outcome:
    """How a unit of work ended, in one word and one line for people."""

    status: str  # ok | partial | failed | busy | pending
    detail: str = ""
    unfinished: int = 0  # deliveries not done (failed, failed earlier, or pending)


def delivery_outcome(results: Sequence[DeliveryResult]) -> Outcome:
    """One outcome for a report's deliveries.

    pending when any is pending (the next run retries it; the ledger skips what went out); failed
    when nothing went out and something failed (or failed before and was skipped); partial when
    some went out and some failed; else ok.
    """
    counts: dict[str, int] = {}
    errors: list[str] = []
    for result in results:
        status = result.status
        if status == "skipped" and result.error:
            status = "failed earlier"
        counts[status] = counts.get(status, 0) + 1
        if result.error and len(errors) < 2:
            errors.append(f"{result.channel}: {result.error}")
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no delivery"
    if errors:
        detail += " (" + "; ".join(errors) + ")"
    failed = counts.get("failed", 0) + counts.get("failed earlier", 0)
    unfinished = failed + counts.get("pending", 0)
    if counts.get("pending"):
        return Outcome("pending", detail, unfinished)
    if failed:
        return Outcome("failed" if failed == len(results) else "partial", detail, unfinished)
    return Outcome("ok", detail)
