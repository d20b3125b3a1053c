"""The KPI read model: every query about stored KPI snapshots and the last finished sync.

SQLAlchemy only; the stdlib twin that keeps `tpmsync status` instant is `tpmsync.store.fastread`,
and both decide freshness by `tpmsync.store.freshness`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tpmsync.store.freshness import FINISHED_OUTCOMES
from tpmsync.store.models import SyncRun


def last_finished_sync(session: Session) -> datetime | None:
    """When the last sync that finished (ok or partial, by any worker or the CLI) ended; naive UTC."""
    value: datetime | None = session.scalar(
        select(func.max(SyncRun.finished_at)).where(SyncRun.outcome.in_(FINISHED_OUTCOMES))
    )
    return value
