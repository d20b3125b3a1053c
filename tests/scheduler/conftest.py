"""Fixtures of the scheduler tests: a fake clock, recording job runners, and a worker factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from tests.scheduler.scheduler_support import BERLIN, FakeClock, Recorder, local, settings_with
from tpmsync.schedule.leader import Leadership, make_leadership
from tpmsync.schedule.plan import SchedulePlan, load_plan
from tpmsync.schedule.worker import Worker
from tpmsync.store.db import Store

WorkerFactory = Callable[..., Worker]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local("2026-11-23 07:00", BERLIN))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_worker(store: Store, clock: FakeClock, recorder: Recorder) -> Iterator[WorkerFactory]:
    """`make_worker(schedule, name="a", options=None)` → a Worker on the test's store and fake clock
    whose leadership has been polled once (so the first one made leads)."""
    made: list[Leadership] = []

    def make(
        schedule: Mapping[str, Mapping[str, Any]],
        *,
        name: str = "a",
        options: Mapping[str, Any] | None = None,
        timezone: str = "UTC",
        at: datetime | None = None,
    ) -> Worker:
        if at is not None:
            clock.set(at)
        settings = settings_with(schedule, database_url=store.url, timezone=timezone)
        plan: SchedulePlan = load_plan(settings, options or {})
        leadership = make_leadership(store, name, failover_seconds=plan.failover_seconds, clock=clock)
        made.append(leadership)
        leadership.poll()
        return Worker(store, settings, plan, leadership=leadership, clock=clock, runners=recorder.runners)

    yield make
    for leadership in made:
        leadership.release()
        leadership.dispose()
