"""One leader per store: a lease row on SQLite, an advisory lock on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.scheduler.scheduler_support import FakeClock
from tpmsync.schedule.leader import (
    AdvisoryLockLeadership,
    Keeper,
    Leadership,
    LeaseLeadership,
    Timing,
    current_leader,
    make_leadership,
)
from tpmsync.store.db import Store, open_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))


@pytest.fixture
def pair(store: Store, clock: FakeClock) -> Iterator[tuple[Leadership, Leadership]]:
    a = make_leadership(store, "a", failover_seconds=30, clock=clock)
    b = make_leadership(store, "b", failover_seconds=30, clock=clock)
    yield a, b
    for one in (a, b):
        one.release()
        one.dispose()


def test_the_kind_follows_the_database(store: Store, pair: tuple[Leadership, Leadership]) -> None:
    expected = AdvisoryLockLeadership if store.dialect == "postgresql" else LeaseLeadership
    assert all(isinstance(one, expected) for one in pair)


def test_failover_timing_fits_within_failover_seconds() -> None:
    timing = Timing(30)
    assert (timing.poll_seconds, timing.lease_seconds) == (5, 20)
    assert timing.lease_seconds + timing.poll_seconds < 30
    assert Timing(0.3).poll_seconds == 0.1


def test_exactly_one_leads_and_keeps_leading(pair: tuple[Leadership, Leadership], clock: FakeClock) -> None:
    a, b = pair
    assert a.poll()
    assert not b.poll()
    for _ in range(10):
        clock.advance(seconds=5)
        assert a.poll()
        assert not b.poll()
    assert (a.terms, b.terms) == (1, 0)


def test_a_clean_release_hands_over_at_once(
    store: Store, pair: tuple[Leadership, Leadership], clock: FakeClock
) -> None:
    a, b = pair
    assert a.poll()
    a.release()
    assert not a.held
    assert b.poll()
    info = current_leader(store, clock)
    assert info is not None and info.holder == b.lease_holder and info.active


def test_two_workers_with_the_same_id_do_not_both_lead(store: Store, clock: FakeClock) -> None:
    one = make_leadership(store, "same", failover_seconds=30, clock=clock)
    two = make_leadership(store, "same", failover_seconds=30, clock=clock)
    try:
        assert one.poll()
        assert not two.poll()
    finally:
        for leadership in (one, two):
            leadership.release()
            leadership.dispose()


def test_a_dead_leader_is_replaced_within_the_failover_time(
    store: Store, pair: tuple[Leadership, Leadership], clock: FakeClock
) -> None:
    a, b = pair
    assert a.poll()
    a.dispose()  # the process is gone: no release, its connection closed (PostgreSQL) or lease left (SQLite)
    if store.dialect == "sqlite":
        clock.advance(seconds=a.timing.lease_seconds - 1)
        assert not b.poll()  # the lease still runs
        clock.advance(seconds=2)
    assert b.poll()
    assert b.terms == 1


def test_a_leader_that_lost_the_lead_notices_on_its_next_poll(
    store: Store, pair: tuple[Leadership, Leadership], clock: FakeClock
) -> None:
    a, b = pair
    assert a.poll()
    if store.dialect == "postgresql":
        assert isinstance(a, AdvisoryLockLeadership)
        pid = a._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with store.engine.connect() as conn:  # the server drops the leader's session (a network cut)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:
        clock.advance(seconds=a.timing.lease_seconds + 1)  # the leader stalled past its lease …
    assert b.poll()  # … and another took over
    assert not a.poll()
    assert a.held is False


def test_the_lease_row_says_who_leads(store: Store, pair: tuple[Leadership, Leadership], clock: FakeClock) -> None:
    assert current_leader(store, clock) is None
    a, _ = pair
    a.poll()
    clock.advance(seconds=3)
    a.poll()
    info = current_leader(store, clock)
    assert info is not None
    assert info.holder.startswith("a #") and info.holder == a.lease_holder and info.active
    assert info.acquired_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert info.renewed_at == datetime(2026, 11, 25, 9, 0, 3, tzinfo=UTC)
    clock.advance(seconds=60)
    info = current_leader(store, clock)
    assert info is not None and not info.active


@pytest.mark.postgres
def test_stores_in_two_schemas_have_a_leader_each(pg_schema_url: str) -> None:
    import uuid

    import psycopg

    from tests.conftest import PG_URL

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    one, two = open_store(pg_schema_url), open_store(f"{PG_URL}?options=-csearch_path%3D{schema}")
    a = make_leadership(one, "a", failover_seconds=30)
    b = make_leadership(two, "b", failover_seconds=30)
    try:
        assert a.poll()
        assert b.poll()
    finally:
        for leadership in (a, b):
            leadership.release()
            leadership.dispose()
        one.dispose()
        two.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_the_keeper_thread_takes_the_lead_and_reports_it(store: Store) -> None:
    import threading

    leadership = make_leadership(store, "k", failover_seconds=0.6)
    changed = threading.Event()
    keeper = Keeper(leadership, lambda held: changed.set() if held else None)
    keeper.start()
    try:
        assert changed.wait(5)
        assert leadership.held
    finally:
        keeper.stop()
        leadership.release()
        leadership.dispose()
