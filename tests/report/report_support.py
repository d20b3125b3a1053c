"""Helpers of the report tests: a store filled by real syncs from the sandbox, and its snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select, update

from tests.sync_support import sync
from tpmsync.config import Settings
from tpmsync.report.model import Report
from tpmsync.reporting import build_report
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.status import refresh_snapshots
from tpmsync.store.db import Store
from tpmsync.store.models import KpiSnapshot
from tpmsync.store.snapshots import PEOPLE_ROW


@dataclass
class Synced:
    """A store filled by a real sync of `workspace` through the sandbox server."""

    store: Store
    settings: Settings
    workspace: Workspace
    server: SandboxServer
    today: date

    def sync(self) -> None:
        assert sync(self.store, self.settings).outcome == "ok"

    def refresh(self) -> None:
        refresh_snapshots(self.store, self.settings)

    def report(self, kind: str, **kwargs: Any) -> Report:
        return build_report(self.store, self.settings, kind, **kwargs)

    def snapshots(self, day: date) -> dict[str, dict[str, Any]]:
        """The projects' snapshots of `day` (not the people row stored beside them)."""

        with self.store.read() as session:
            rows = session.execute(
                select(KpiSnapshot.project_gid, KpiSnapshot.data).where(
                    KpiSnapshot.as_of == day, KpiSnapshot.project_gid != PEOPLE_ROW  # projects only
                )
            )
            return {gid: data for gid, data in rows}

    def move_snapshots(self, from_day: date, to_day: date) -> None:
        """Pretend the snapshots of `from_day` were taken on `to_day` (an earlier report's state)."""
        with self.store.write() as session:
            session.execute(delete(KpiSnapshot).where(KpiSnapshot.as_of == to_day))
            session.execute(update(KpiSnapshot).where(KpiSnapshot.as_of == from_day).values(as_of=to_day))

    def put_snapshot(self, gid: str, day: date, data: dict[str, Any]) -> None:
        """Store `data` as project `gid`'s snapshot of `day` (replacing one that is there)."""
        with self.store.write() as session:
            session.execute(delete(KpiSnapshot).where(KpiSnapshot.project_gid == gid, KpiSnapshot.as_of == day))
            session.add(
                KpiSnapshot(
                    project_gid=gid,
                    as_of=day,
                    computed_at=datetime.now(UTC).replace(tzinfo=None),
                    sync_run_id=None,
                    fingerprint="test",
                    health=data["health"],
                    data=data,
                )
            )
