"""The delivery ledger: each (kind, period, scope, channel, target) is delivered at most once.

One `deliveries` row per key (a unique index), with `status` pending → sent | failed.

Claim protocol — the same SQL on SQLite and PostgreSQL, safe for two workers at once:

1. `INSERT … ON CONFLICT DO NOTHING` the row as pending (attempts 0), in its own transaction:
   whoever comes first creates it, nobody fails.
2. Read the row. sent (and not `force`) → skip; failed (and not `force`) → skip, it needs a person;
   leased (`claimed_until` in the future) → another worker is sending it right now.
3. Compare-and-swap: `UPDATE … SET attempts = attempts + 1, claim_token = <new>, claimed_until =
   now + lease WHERE id = … AND attempts = <read> AND (claimed_until IS NULL OR claimed_until <= now)`.
   Exactly one worker sees one updated row: on PostgreSQL the loser's UPDATE waits for the
   winner's commit and then re-checks the WHERE against the new row (READ COMMITTED), on SQLite
   writers are serialised. A worker that updates no row re-reads and reports what the winner did.
4. Send outside any transaction, then record the outcome: sent (with the channel's id), pending
   (transient: the lease is released so the next run retries) or failed (permanent, with the
   reason). Pending and failed are recorded only while the claim token is still ours.

A worker that crashes mid-send leaves the row pending with a lease; after `claimed_until` the next
run claims it again, and sees from `attempts > 0` that an earlier attempt's outcome is unknown
(`Claim.ambiguous`) — channels that can look (Asana) check whether it arrived before resending.

With `force`, a sent row is claimed again and stays sent (a failed resend records its error but does
not unsend the earlier delivery); a failed row is retried.
Timestamps are naive UTC, like the rest of the store.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError

from tpmsync.store.db import Store
from tpmsync.store.models import Delivery

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE_SECONDS = 600.0
MAX_SCOPE = 255
MAX_ERROR = 2000


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LedgerKey:
    kind: str
    period: str
    scope: str
    channel: str
    target: str = ""

    @property
    def stored_scope(self) -> str:
        """The scope as stored: longer than 255 characters, a prefix and a hash of the whole."""
        if len(self.scope) <= MAX_SCOPE:
            return self.scope
        digest = hashlib.sha256(self.scope.encode()).hexdigest()[:16]
        return self.scope[: MAX_SCOPE - 18] + "…#" + digest


@dataclass(frozen=True)
class DeliveryRecord:
    """One ledger row, as `tpmsync report history` shows it."""

    id: int
    kind: str
    period: str
    scope: str
    channel: str
    target: str
    status: str
    attempts: int
    external_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    attempted_at: datetime | None
    sent_at: datetime | None
    claimed_until: datetime | None

    @classmethod
    def from_row(cls, row: Delivery) -> DeliveryRecord:
        return cls(
            id=row.id,
            kind=row.kind,
            period=row.period,
            scope=row.scope,
            channel=row.channel,
            target=row.target,
            status=row.status,
            attempts=row.attempts,
            external_id=row.external_id,
            error=row.error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            attempted_at=row.attempted_at,
            sent_at=row.sent_at,
            claimed_until=row.claimed_until,
        )


@dataclass(frozen=True)
class Claim:
    """The outcome of `claim`: `claimed` (this worker sends; `token` is its lease), or why not:
    `sent`, `failed` (earlier, permanently) or `busy` (another worker holds the lease).
    `record` is the row as it was before this claim."""

    outcome: Literal["claimed", "sent", "failed", "busy"]
    record: DeliveryRecord
    token: str | None = None

    @property
    def ambiguous(self) -> bool:
        """An earlier attempt may have been delivered without being recorded as sent."""
        return self.outcome == "claimed" and self.record.status == PENDING and self.record.attempts > 0


def _where_key(key: LedgerKey) -> Any:
    return (
        (Delivery.kind == key.kind)
        & (Delivery.period == key.period)
        & (Delivery.scope == key.stored_scope)
        & (Delivery.channel == key.channel)
        & (Delivery.target == key.target)
    )


def _insert_if_missing(store: Store, key: LedgerKey, now: datetime) -> None:
    values = {
        "kind": key.kind,
        "period": key.period,
        "scope": key.stored_scope,
        "channel": key.channel,
        "target": key.target,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    columns = ["kind", "period", "scope", "channel", "target"]
    if store.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        with store.write() as session:
            session.execute(pg_insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=columns))
        return
    if store.dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        with store.write() as session:
            session.execute(sqlite_insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=columns))
        return
    try:  # other databases: the unique index decides
        with store.write() as session:
            session.add(Delivery(**values))
    except IntegrityError:
        pass


def lookup(store: Store, key: LedgerKey) -> DeliveryRecord | None:
    with store.read() as session:
        row = session.execute(select(Delivery).where(_where_key(key))).scalar_one_or_none()
        return DeliveryRecord.from_row(row) if row is not None else None


def claim(
    store: Store,
    key: LedgerKey,
    *,
    force: bool = False,
    lease_seconds: float = LEASE_SECONDS,
    now: datetime | None = None,
) -> Claim:
    """Claim the right to send `key` (see the module docstring for the protocol)."""
    now = now or utcnow()
    _insert_if_missing(store, key, now)
    record: DeliveryRecord | None = None
    for _ in range(3):
        record = lookup(store, key)
        assert record is not None, "the ledger row vanished after its insert"
        if record.status == SENT and not force:
            return Claim("sent", record)
        if record.status == FAILED and not force:
            return Claim("failed", record)
        if record.claimed_until is not None and record.claimed_until > now:
            return Claim("busy", record)
        token = uuid.uuid4().hex
        with store.write() as session:
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == record.id,
                    Delivery.attempts == record.attempts,
                    or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
                )
                .values(
                    status=SENT if record.status == SENT else PENDING,
                    attempts=Delivery.attempts + 1,
                    claim_token=token,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempted_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], result).rowcount == 1:
                return Claim("claimed", record, token)
        # another worker claimed it between our read and our update: look again at what it did
    assert record is not None
    return Claim("busy", record)


def _finish(store: Store, claim: Claim, values: dict[str, Any], *, ours_only: bool) -> bool:
    if claim.token is None:
        raise ValueError("only a claimed delivery can be finished")
    conditions = [Delivery.id == claim.record.id]
    if ours_only:
        conditions.append(Delivery.claim_token == claim.token)
    with store.write() as session:
        result = session.execute(
            update(Delivery)
            .where(*conditions)
            .values(claimed_until=None, claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount == 1


def mark_sent(
    store: Store, claim: Claim, external_id: str, *, note: str | None = None, now: datetime | None = None
) -> None:
    """Record a delivery. Unconditional: a send that happened is recorded even if our lease ran out."""
    now = now or utcnow()
    _finish(
        store,
        claim,
        {"status": SENT, "external_id": external_id[:512], "error": note, "sent_at": now, "updated_at": now},
        ours_only=False,
    )


def mark_pending(store: Store, claim: Claim, error: str, *, now: datetime | None = None) -> bool:
    """A transient failure: left for the next run (lease released). A failed resend of a sent
    delivery keeps it sent. False when another worker took the lease over meanwhile."""
    was_sent = claim.record.status == SENT
    values = {
        "status": SENT if was_sent else PENDING,
        "error": _error(("resend failed: " if was_sent else "") + error),
        "updated_at": now or utcnow(),
    }
    return _finish(store, claim, values, ours_only=True)


def mark_failed(store: Store, claim: Claim, error: str, *, now: datetime | None = None) -> bool:
    """A permanent failure, with its reason; not retried without `force`."""
    was_sent = claim.record.status == SENT
    values = {
        "status": SENT if was_sent else FAILED,
        "error": _error(("resend failed: " if was_sent else "") + error),
        "updated_at": now or utcnow(),
    }
    return _finish(store, claim, values, ours_only=True)


def _error(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def history(store: Store, limit: int = 50) -> list[DeliveryRecord]:
    """The most recently changed ledger rows, newest first."""
    with store.read() as session:
        rows = session.execute(
            select(Delivery).order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(limit)
        ).scalars()
        return [DeliveryRecord.from_row(row) for row in rows]
