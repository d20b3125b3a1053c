"""The one place the MCP server reaches into tpmsync: today's library functions, over a read-only store.

Everything the tools, resources and prompts answer comes through `ReadOnlySource`:
the status document (`status.status_for`, the one call of `tpmsync status`, given the read-only
store), reports (`reporting.build_report`: gathered from the store, built by the pure
`report.build`, rendered as Markdown), the thresholds in force and the delivery ledger. The store
is opened read-only (SQLite `mode=ro`, PostgreSQL READ ONLY transactions), so nothing here can
write, and no Asana client is ever built: no token is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tpmsync.config import ConfigError, Settings
from tpmsync.errors import TpmsyncError
from tpmsync.mcp.answers import cap_lists
from tpmsync.status import today_in

if TYPE_CHECKING:
    from tpmsync.kpi.thresholds import Thresholds
    from tpmsync.store.db import Store


log = logging.getLogger(__name__)

WARM_SECONDS = 2.0
"""How often the server checks whether the store changed, to re-read today's status ahead of questions."""

CACHED_ANSWERS = 16
"""Status answers (per projects and max_items) kept in memory for the store's current state."""

DEFAULT_STATUS_ITEMS = 3
"""Task entries per list in a `status` answer unless the caller asks for more (counts stay whole)."""


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
        self._reading = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}

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

    def status(
        self, selectors: Sequence[str] = (), as_of: date | None = None, max_items: int | None = None
    ) -> dict[str, Any]:
        """The `tpmsync status --format json` document, its task lists cut to `max_items` (None: whole).

        Today's document is kept between calls while the store says nothing changed (no sync
        finished or is running, no snapshot was stored since), so a call costs one small query.
        """
        day = as_of or self.today()
        if day != self.today():
            return self._capped(self._read_status(selectors, day), max_items)
        key = (day, tuple(selectors), max_items)
        token = self._freshness(day)
        if token is None:  # a sync is writing: read what is there now, keep nothing
            return self._capped(self._read_status(selectors, day), max_items)
        with self._reading:  # one reader at a time fills the cache; the others then find it there
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and cached[0] == token:
                return cached[1]
            document = self._capped(self._read_status(selectors, day), max_items)
            with self._lock:
                kept = [(k, v) for k, v in self._cache.items() if v[0] == token][-(CACHED_ANSWERS - 1) :]
                self._cache = {**dict(kept), key: (token, document)}
        return document

    def warm(self) -> None:
        """Read today's status if the store changed since it was last read (not while a sync writes)."""
        day = self.today()
        token = self._freshness(day)
        with self._lock:
            cached = self._cache.get((day, (), DEFAULT_STATUS_ITEMS))
        if token is not None and (cached is None or cached[0] != token):
            self.status(max_items=DEFAULT_STATUS_ITEMS)

    def keep_warm(self, stop: threading.Event, every_seconds: float = WARM_SECONDS) -> None:
        """Until `stop` is set: re-read today's status soon after each sync, so that questions find
        it in memory. Errors are left to the callers, who get them with their message."""
        failure = ""
        while not stop.is_set():
            try:
                self.warm()
            except (TpmsyncError, ConfigError):
                pass
            except Exception as exc:  # a database that went away: say so once, keep answering from calls
                if str(exc) != failure:
                    log.warning("tpmsync mcp: could not read the store ahead of questions: %s", exc)
                failure = str(exc)
            else:
                failure = ""
            stop.wait(every_seconds)

    def _read_status(self, selectors: Sequence[str], day: date) -> dict[str, Any]:
        from tpmsync.status import status_for

        return status_for(self.settings, selectors, day, store=self.store())

    @staticmethod
    def _capped(document: dict[str, Any], max_items: int | None) -> dict[str, Any]:
        return document if max_items is None else cap_lists(document, max_items)

    def _freshness(self, day: date) -> tuple[Any, ...] | None:
        """What today's status depends on in the store, or None while a sync is running."""
        from sqlalchemy import func, select

        from tpmsync.store.models import KpiSnapshot, SyncRun
        from tpmsync.store.snapshots import last_finished_sync

        with self.store().read() as session:
            running = session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.outcome == "running"))
            if running:
                return None
            last_sync = last_finished_sync(session)
            snapshots = session.execute(
                select(func.count(), func.max(KpiSnapshot.computed_at)).where(KpiSnapshot.as_of == day)
            ).one()
        return (last_sync, *snapshots)

    def thresholds(self) -> Thresholds:
        from tpmsync.status import kpi_settings

        return kpi_settings(self.settings).thresholds

    def report_json(
        self, kind: str, selectors: Sequence[str] = (), *, as_of: date | None = None, since: date | None = None
    ) -> dict[str, Any]:
        """The JSON report (`tpmsync report KIND --format json`), "what changed" measured from `since`."""
        from tpmsync.reporting import build_report

        report = build_report(self.store(), self.settings, kind, projects=selectors, as_of=as_of, since=since)
        return report.to_json()

    def report_markdown(self, kind: str) -> str:
        """Today's `kind` report on every tracked project, as `tpmsync report KIND --format markdown`."""
        from tpmsync.report.render_markdown import render_markdown
        from tpmsync.reporting import build_report

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
        from tpmsync.store.snapshots import last_finished_sync

        with self.store().read() as session:
            return last_finished_sync(session)


def _local_day(moment: datetime, zone: str) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()
