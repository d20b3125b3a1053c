"""The one freshness rule of stored KPI snapshots, stdlib only (the fast path of `status` uses it).

A snapshot is current when it was computed under the same KPI settings (`fingerprint`) and not
before the last finished sync. A sync has finished when its outcome is ok or partial.
"""

from __future__ import annotations

from datetime import datetime

FINISHED_OUTCOMES = ("ok", "partial")
DEFAULT_STALE_SYNC_MINUTES = 60  # `[schedule] stale_sync_minutes`: worker health and data freshness alike


def snapshot_is_current(
    computed_at: datetime | str, fingerprint: str, current_fingerprint: str, last_sync: datetime | str | None
) -> bool:
    """Whether a snapshot still stands (timestamps as naive UTC, or SQLite's text of them)."""
    if fingerprint != current_fingerprint:
        return False
    return last_sync is None or _moment(computed_at) >= _moment(last_sync)


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
