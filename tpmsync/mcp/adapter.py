"""The one place the MCP server reaches into tpmsync: today's library functions, over a read-only store.

Everything the tools, resources and prompts answer comes through `ReadOnlySource`:
the status document (`status.read_status`, after the same snapshot fast path as `tpmsync status`),
reports (`report.build.build_report`, rendered as Markdown), the thresholds in force and the
delivery ledger. The store is opened read-only (SQLite `mode=ro`, PostgreSQL READ ONLY
transactions), so nothing here can write, and no Asana client is ever built: no token is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tpmsync.config import Settings
from tpmsync.snapshots import fresh_status, today_in

if TYPE_CHECKING:
    from tpmsync.kpi.health import Thresholds
    from tpmsync.store.db import Store


@dataclass(frozen=True)
class LastReport:
    """The most recently sent report, from the delivery ledger."""

    kind: str
    period: str
    channel: str
    sent_on: date


class ReadOnlySource:
    """Answers from the local store for one `Settings`; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        """The store, opened read-only on first use (so the server starts before the first sync)."""
        with self._lock:
            if self._store is None:
                from tpmsync.store.db import open_store

                self._store = open_store(self.settings.database_url, read_only=True)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.dispose()
                self._store = None

    def today(self) -> date:
        return today_in(self.settings)

    def status(self, selectors: Sequence[str] = (), as_of: date | None = None) -> dict[str, Any]:
        """The `tpmsync status --format json` document."""
        day = as_of or self.today()
        document = fresh_status(self.settings, selectors, day)
        if document is not None:
            return document
        from tpmsync.status import read_status

        return read_status(self.store(), self.settings, selectors=selectors, as_of=day)

    def thresholds(self) -> Thresholds:
        from tpmsync.status import kpi_settings

        return kpi_settings(self.settings).thresholds

    def report_json(
        self, kind: str, selectors: Sequence[str] = (), *, as_of: date | None = None, since: date | None = None
    ) -> dict[str, Any]:
        """The JSON report (`tpmsync report KIND --format json`), "what changed" measured from `since`."""
        from tpmsync.report.build import build_report

        report = build_report(self.store(), self.settings, kind, projects=selectors, as_of=as_of, since=since)
        return report.to_json()

    def report_markdown(self, kind: str) -> str:
        """Today's `kind` report on every tracked project, as `tpmsync report KIND --format markdown`."""
        from tpmsync.report.build import build_report
        from tpmsync.report.render_markdown import render_markdown

        return render_markdown(build_report(self.store(), self.settings, kind))

    def last_report(self) -> LastReport | None:
        """The report most recently sent to any channel, or None when nothing was ever sent."""
        from sqlalchemy import select

        from tpmsync.store.models import Delivery

        with self.store().read() as session:
            row = session.execute(
                select(Delivery.kind, Delivery.period, Delivery.channel, Delivery.sent_at)
                .where(Delivery.status == "sent", Delivery.sent_at.is_not(None))
                .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
                .limit(1)
            ).first()
        if row is None or row.sent_at is None:
            return None
        return LastReport(row.kind, row.period, row.channel, _local_day(row.sent_at, self.settings.kpi.timezone))

    def last_sync(self) -> datetime | None:
        """When the last sync that committed data finished (naive UTC), or None."""
        from sqlalchemy import func, select

        from tpmsync.store.models import SyncRun

        with self.store().read() as session:
            return session.scalar(
                select(func.max(SyncRun.finished_at)).where(SyncRun.outcome.in_(("ok", "partial")))
            )


def _local_day(moment: datetime, zone: str) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()
