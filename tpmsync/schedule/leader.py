"""One leader among the scheduler workers of a store; the others wait as hot standbys.

PostgreSQL: a session-level advisory lock, keyed like the sync lock by the current schema but with
its own key, held on a dedicated connection outside the pool. The server releases it when that
connection ends: at once when the leader's process dies, and within about `failover_seconds` when
its host vanishes (the connection asks the server for TCP keepalives that short). The leader pings
the connection before every job and every `poll_seconds`; when the ping fails it stops leading.

SQLite: a lease row (`scheduler_leases`) that the leader renews every `poll_seconds` and that
expires `lease_seconds` after the last renewal; a standby takes an expired lease over.

Either way a standby tries every `poll_seconds`, so it leads within `failover_seconds` of the
leader's death: lease_seconds + poll_seconds = ⅚ · failover_seconds.
"""

from __future__ import annotations

import logging
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, create_engine, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from tpmsync.schedule.clock import Clock, SystemClock, default_worker_id, first_line, naive_utc
from tpmsync.store.db import Store
from tpmsync.store.models import SchedulerLease

log = logging.getLogger("tpmsync.leader")  # the name operators filter by

LEADER_KEY = 0x7470_6D6C  # "tpml"; the sync lock is "tpms"
LEASE_NAME = "scheduler"
_SCHEMA_KEY = "hashtext(current_schema())"


@dataclass(frozen=True)
class Timing:
    """How often workers poll and how long a lease lasts, from `failover_seconds`."""

    failover_seconds: float

    @property
    def poll_seconds(self) -> float:
        return max(self.failover_seconds / 6, 0.1)

    @property
    def lease_seconds(self) -> float:
        return self.failover_seconds * 2 / 3


@dataclass(frozen=True)
class LeaderInfo:
    holder: str
    acquired_at: datetime  # aware UTC
    renewed_at: datetime
    expires_at: datetime
    active: bool  # the lease has not expired


class Leadership(ABC):
    """Whether this worker leads. `poll` tries to take or keep the lead; it never raises."""

    def __init__(self, store: Store, holder: str, *, failover_seconds: float, clock: Clock | None = None) -> None:
        self.store = store
        self.holder = holder
        # the lease row names this process, not just the worker id: two workers started with the
        # same --worker-id (or a restart reusing host:pid) never both hold it
        self.lease_holder = f"{holder} #{secrets.token_hex(3)}"
        self.timing = Timing(failover_seconds)
        self.clock: Clock = clock or SystemClock()
        self.terms = 0  # how many times this worker took the lead
        self._held = False
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held

    def poll(self) -> bool:
        """Take the lead if it is free, or confirm and renew it if held; True while leading."""
        with self._lock:
            was = self._held
            try:
                held = self._poll(was)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("leader check failed (%s); standing by", first_line(exc))
                self._drop()
                held = False
            if held and not was:
                self.terms += 1
            self._held = held
            return held

    confirm = poll

    def release(self) -> None:
        """Give the lead up at once (a clean stop), so a standby need not wait for expiry."""
        with self._lock:
            if self._held:
                try:
                    self._release()
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("could not release the lead cleanly (%s)", first_line(exc))
            self._drop()
            self._held = False

    def dispose(self) -> None:
        """Close whatever this leadership holds open (after `release`)."""
        with self._lock:
            self._drop()

    @abstractmethod
    def _poll(self, held: bool) -> bool: ...

    @abstractmethod
    def _release(self) -> None: ...

    @abstractmethod
    def _drop(self) -> None:
        """Forget any connection state after an error or a release."""

    def _write_lease(self, *, take: bool) -> bool:
        """Upsert the lease row for this holder; with `take`, only if it is ours or expired."""
        now = naive_utc(self.clock.now())
        expires = now + timedelta(seconds=self.timing.lease_seconds)
        row = SchedulerLease
        condition = row.name == LEASE_NAME
        if take:
            condition = condition & or_(row.holder == self.lease_holder, row.expires_at <= now)
        try:
            with self.store.write() as session:
                result = session.execute(
                    update(row)
                    .where(condition)
                    .values(
                        holder=self.lease_holder,
                        renewed_at=now,
                        expires_at=expires,
                        acquired_at=case((row.holder == self.lease_holder, row.acquired_at), else_=now),
                    )
                    .execution_options(synchronize_session=False)
                )
                if getattr(result, "rowcount", 0) == 1:
                    return True
                if session.scalar(select(func.count()).select_from(row).where(row.name == LEASE_NAME)):
                    return False
                session.add(
                    SchedulerLease(
                        name=LEASE_NAME, holder=self.lease_holder, acquired_at=now, renewed_at=now, expires_at=expires
                    )
                )
        except IntegrityError:  # another worker inserted the row first
            return False
        return True

    def _expire_lease(self) -> None:
        now = naive_utc(self.clock.now())
        with self.store.write() as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.lease_holder)
                .values(expires_at=now, renewed_at=now)
                .execution_options(synchronize_session=False)
            )


class LeaseLeadership(Leadership):
    """SQLite: the lease row is the lock."""

    def _poll(self, held: bool) -> bool:
        return self._write_lease(take=True)

    def _release(self) -> None:
        self._expire_lease()

    def _drop(self) -> None:
        return None  # the row is all the state there is


class AdvisoryLockLeadership(Leadership):
    """PostgreSQL: a session advisory lock on a connection of its own."""

    def __init__(self, store: Store, holder: str, *, failover_seconds: float, clock: Clock | None = None) -> None:
        super().__init__(store, holder, failover_seconds=failover_seconds, clock=clock)
        # outside the pool: closing the connection really ends the session, and with it the lock
        self._engine = create_engine(store.engine.url, poolclass=NullPool)
        self._conn: Any = None

    def _connect(self) -> Any:
        conn = self._engine.connect()
        # let the server notice a vanished leader host within the failover time, not hours later
        idle = max(int(self.timing.failover_seconds / 3), 1)
        interval = max(int(self.timing.failover_seconds / 6), 1)
        for setting, value in (("tcp_keepalives_idle", idle), ("tcp_keepalives_interval", interval),
                               ("tcp_keepalives_count", 3)):
            conn.execute(text(f"SET {setting} = {value}"))
        conn.commit()
        return conn

    def _poll(self, held: bool) -> bool:
        if held and self._conn is not None:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            self._renew_row()
            return True
        if self._conn is None:
            self._conn = self._connect()
        got = bool(
            self._conn.execute(
                text(f"SELECT pg_try_advisory_lock(:k, {_SCHEMA_KEY})"), {"k": LEADER_KEY}
            ).scalar()
        )
        self._conn.commit()
        if got:
            self._renew_row()
        return got

    def _renew_row(self) -> None:
        # informational on PostgreSQL (`schedule list` shows who leads); the lock decides
        try:
            self._write_lease(take=False)
        except SQLAlchemyError as exc:
            log.debug("could not record the leader row: %s", first_line(exc))

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.execute(text(f"SELECT pg_advisory_unlock(:k, {_SCHEMA_KEY})"), {"k": LEADER_KEY})
            self._conn.commit()
        self._expire_lease()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except (SQLAlchemyError, OSError) as exc:
                log.debug("closing the leader connection: %s", first_line(exc))

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()


def make_leadership(
    store: Store, holder: str | None = None, *, failover_seconds: float, clock: Clock | None = None
) -> Leadership:
    holder = holder or default_worker_id()
    if store.dialect == "postgresql":
        return AdvisoryLockLeadership(store, holder, failover_seconds=failover_seconds, clock=clock)
    return LeaseLeadership(store, holder, failover_seconds=failover_seconds, clock=clock)


def current_leader(store: Store, clock: Clock | None = None) -> LeaderInfo | None:
    """The last worker to lead this store, from the lease row; None when none ever has."""
    now = naive_utc((clock or SystemClock()).now())
    with store.read() as session:
        row = session.get(SchedulerLease, LEASE_NAME)
        if row is None:
            return None
        return LeaderInfo(
            holder=row.holder,
            acquired_at=row.acquired_at.replace(tzinfo=UTC),
            renewed_at=row.renewed_at.replace(tzinfo=UTC),
            expires_at=row.expires_at.replace(tzinfo=UTC),
            active=row.expires_at > now,
        )


class Keeper:
    """A thread that polls the leadership every `poll_seconds` and reports each change."""

    def __init__(self, leadership: Leadership, on_change: Callable[[bool], None]) -> None:
        self.leadership = leadership
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tpmsync-leader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        interval = self.leadership.timing.poll_seconds
        while not self._stop.wait(interval):
            before = self.leadership.held
            after = self.leadership.poll()
            if after != before:
                self.on_change(after)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
