"""The worker's scheduling decisions, driven by a fake clock: DST, misfires, coalescing, restarts,
leader changes and report retries. Runs on SQLite and PostgreSQL (the job store is APScheduler's
SQLAlchemy store in the same database)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.job import Job

from tests.scheduler.conftest import WorkerFactory
from tests.scheduler.scheduler_support import BERLIN, FakeClock, Recorder, local, runs
from tpmsync.jobs import Outcome
from tpmsync.schedule.jobstore import JOBSTORE_TABLE, JobTable, due_fire_times
from tpmsync.schedule.runs import RunRequest
from tpmsync.schedule.triggers import crontab_trigger, in_zone
from tpmsync.schedule.worker import REPORT_RETRIES
from tpmsync.store.db import Store

TZ = ZoneInfo(BERLIN)
DAILY_AT_8 = {"daily": {"cron": "0 8 * * *", "timezone": BERLIN, "report": "daily", "channels": ["archive"]}}


def walk(worker_factory_result: object, clock: FakeClock, until: datetime, step: timedelta) -> None:
    from tpmsync.schedule.worker import Worker

    assert isinstance(worker_factory_result, Worker)
    while clock.now() < until:
        clock.advance(seconds=step.total_seconds())
        worker_factory_result.tick()


# -- DST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # clocks go back on 2026-10-25 at 03:00 CEST: 02:30 happens twice, the job runs once
        ("2026-10-24 00:00", ["2026-10-24 02:30+02:00", "2026-10-25 02:30+02:00", "2026-10-26 02:30+01:00"]),
        # clocks go forward on 2026-03-29 at 02:00 CET: 02:30 does not exist, the job runs once at 03:30
        ("2026-03-28 00:00", ["2026-03-28 02:30+01:00", "2026-03-29 03:30+02:00", "2026-03-30 02:30+02:00"]),
    ],
)
def test_a_cron_job_in_a_time_zone_fires_once_a_day_across_a_dst_change(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, start: str, expected: list[str]
) -> None:
    schedule = {"nightly": {"cron": "30 2 * * *", "timezone": BERLIN},
                "daily": DAILY_AT_8["daily"]}
    worker = make_worker(schedule, at=local(start))
    worker.tick()
    walk(worker, clock, local(start) + timedelta(days=3), timedelta(minutes=10))
    nightly = [in_zone(fire, TZ).isoformat(" ", "minutes") for fire in recorder.fires("nightly")]
    assert nightly == expected
    daily = [in_zone(fire, TZ) for fire in recorder.fires("daily")]
    first_day = int(start[8:10])
    assert [(f.day, f.hour, f.minute) for f in daily] == [(d, 8, 0) for d in range(first_day, first_day + 3)]
    assert len({f.utcoffset() for f in daily}) == 2  # 08:00 local on both sides of the change
    assert [as_of for name, _, as_of in recorder.calls if name == "nightly"] == [
        date.fromisoformat(text[:10]) for text in expected
    ]


def test_apscheduler_alone_would_fire_twice_in_the_repeated_hour() -> None:
    """Why `WallClockCronTrigger` exists: the stock CronTrigger fires at both 02:30s."""
    from apscheduler.triggers.cron import CronTrigger

    stock = CronTrigger(minute=30, hour=2, timezone=TZ)
    ours = crontab_trigger("30 2 * * *", TZ)
    first = local("2026-10-25 02:30")
    now = first + timedelta(hours=2)
    in_utc = [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    assert [fire.astimezone(UTC) for fire in due_fire_times(stock, first, now)] == in_utc
    assert [fire.astimezone(UTC) for fire in due_fire_times(ours, first, now)] == in_utc[:1]


def test_due_fire_times_are_apschedulers_run_times(store: Store) -> None:
    trigger = crontab_trigger("*/20 7-9 * * 1-5", TZ)
    table = JobTable(store)
    first = local("2026-11-20 07:00")
    job = Job(table, id="x", func="tpmsync.schedule.runs:run_named_job", args=("x",), kwargs={}, name="x",
              trigger=trigger, executor="default", misfire_grace_time=60, coalesce=True, max_instances=1,
              next_run_time=first)
    for hours in (0, 1, 2.5, 30, 80):
        now = first + timedelta(hours=hours)
        assert due_fire_times(trigger, first, now) == job._get_run_times(now)


# -- misfires and coalescing --------------------------------------------------------------------


def test_a_worker_down_at_8_runs_the_report_once_on_return_within_the_grace(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store
) -> None:
    worker = make_worker(DAILY_AT_8, at=local("2026-11-23 07:00"))
    assert worker.tick() == []
    worker.leadership.release()  # the worker goes away at 07:00 …
    clock.set(local("2026-11-23 08:40"))  # … and a new one starts at 08:40
    back = make_worker(DAILY_AT_8, name="b")
    records = back.tick()
    assert [(r.job, r.outcome) for r in records] == [("daily", "ok")]
    assert recorder.calls == [("daily", local("2026-11-23 08:00"), date(2026, 11, 23))]
    assert back.tick() == []
    clock.set(local("2026-11-24 08:00:30"))
    assert [r.fire_time for r in back.tick()] == [local("2026-11-24 08:00")]
    assert [row.outcome for row in runs(store, "daily")] == ["ok", "ok"]


def test_a_run_missed_by_more_than_the_grace_is_skipped_and_logged(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    schedule = {"daily": {**DAILY_AT_8["daily"], "misfire_grace_seconds": 3600}}
    worker = make_worker(schedule, at=local("2026-11-23 07:00"))
    worker.tick()
    clock.set(local("2026-11-23 09:30"))
    with caplog.at_level(logging.WARNING, logger="tpmsync.scheduler"):
        records = worker.tick()
    assert [(r.outcome, r.fire_time) for r in records] == [("missed", local("2026-11-23 08:00"))]
    assert recorder.calls == []
    (logged,) = [r for r in caplog.records if getattr(r, "outcome", None) == "missed"]
    assert logged.getMessage() == (
        "job daily (2026-11-23 08:00:00 CET): missed — late by 1h30m, more than the 1h00m grace; skipped"
    )
    (row,) = runs(store, "daily")
    assert (row.outcome, row.fire_time) == ("missed", datetime(2026, 11, 23, 7, 0))
    clock.set(local("2026-11-24 08:01"))
    assert [r.outcome for r in worker.tick()] == ["ok"]
    assert recorder.fires() == [local("2026-11-24 08:00")]


def test_days_of_missed_runs_coalesce_into_one_run_for_the_latest(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    worker = make_worker(DAILY_AT_8, at=local("2026-11-23 07:00"))
    worker.tick()
    clock.set(local("2026-11-26 08:05"))  # Monday to Thursday: four 08:00s passed
    with caplog.at_level(logging.INFO, logger="tpmsync.scheduler"):
        worker.tick()
    assert recorder.calls == [("daily", local("2026-11-26 08:00"), date(2026, 11, 26))]
    assert any(getattr(r, "coalesced", None) == 4 for r in caplog.records)


def test_an_interval_sync_runs_at_start_then_every_interval(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder
) -> None:
    start = local("2026-11-23 10:00")
    worker = make_worker({"sync": {"every_minutes": 15}}, at=start)
    worker.tick()
    walk(worker, clock, start + timedelta(hours=1), timedelta(minutes=1))
    assert recorder.fires() == [start + timedelta(minutes=m) for m in (0, 15, 30, 45, 60)]


def test_a_long_job_is_followed_by_one_run_not_a_backlog(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder
) -> None:
    start = local("2026-11-23 10:00")
    recorder.during = lambda request: clock.advance(minutes=7) and None  # each run takes 7 minutes
    worker = make_worker({"sync": {"every_minutes": 1}}, at=start)
    worker.tick()
    worker.tick()
    worker.tick()
    assert recorder.fires() == [start, start + timedelta(minutes=7), start + timedelta(minutes=14)]


# -- restarts, config changes, leaders ----------------------------------------------------------


def test_the_job_store_keeps_next_run_times_in_apschedulers_table(
    make_worker: WorkerFactory, clock: FakeClock, store: Store
) -> None:
    from sqlalchemy import inspect

    worker = make_worker({**DAILY_AT_8, "sync": {"every_minutes": 15}}, at=local("2026-11-23 07:00"))
    worker.tick()
    assert inspect(store.engine).has_table(JOBSTORE_TABLE)
    jobs = {job.id: job for job in JobTable(store).all()}
    assert jobs["daily"].next_run_time == local("2026-11-23 08:00")
    assert jobs["daily"].coalesce is True
    assert jobs["daily"].misfire_grace_time == 3600
    assert jobs["daily"].func_ref == "tpmsync.schedule.runs:run_named_job"
    assert jobs["sync"].next_run_time == local("2026-11-23 07:15")


def test_a_changed_trigger_is_rescheduled_and_a_removed_job_dropped(
    make_worker: WorkerFactory, clock: FakeClock, store: Store
) -> None:
    first = make_worker({**DAILY_AT_8, "sync": {"every_minutes": 15}}, at=local("2026-11-23 07:00"))
    first.tick()
    first.leadership.release()
    clock.set(local("2026-11-23 07:05"))
    changed = {"daily": {**DAILY_AT_8["daily"], "cron": "0 9 * * *", "channels": ["archive"]}}
    second = make_worker(changed, name="b")
    second.tick()
    jobs = {job.id: job for job in JobTable(store).all()}
    assert set(jobs) == {"daily"}
    assert jobs["daily"].next_run_time == local("2026-11-23 09:00")


def test_job_rows_stored_under_the_old_module_name_load_and_a_new_leader_rewrites_them(
    make_worker: WorkerFactory, store: Store
) -> None:
    first = local("2026-11-23 08:00")
    table = JobTable(store)
    table.start()
    old = Job(table, id="daily", func="tpmsync.scheduler:run_named_job", args=("daily",), kwargs={}, name="daily",
              trigger=crontab_trigger("0 8 * * *", TZ), executor="default", misfire_grace_time=3600, coalesce=True,
              max_instances=1, next_run_time=first)
    table._jobstore.add_job(old)
    assert [job.func_ref for job in JobTable(store).all()] == ["tpmsync.scheduler:run_named_job"]
    make_worker(DAILY_AT_8, at=local("2026-11-23 07:00")).tick()
    [job] = JobTable(store).all()
    assert (job.func_ref, job.next_run_time) == ("tpmsync.schedule.runs:run_named_job", first)


def test_a_standby_runs_nothing_while_the_leader_lives(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store
) -> None:
    leader = make_worker({"sync": {"every_seconds": 5}}, name="a", at=local("2026-11-23 10:00"))
    standby = make_worker({"sync": {"every_seconds": 5}}, name="b")
    assert leader.leadership.held and not standby.leadership.held
    for _ in range(3):
        standby.tick()
        leader.tick()
        clock.advance(seconds=5)  # the leader renews well within its lease
        leader.leadership.poll()
        standby.leadership.poll()
    assert {row.worker for row in runs(store)} == {"a"}
    assert len(recorder.calls) == 3


class Killed(BaseException):
    """Stands in for SIGKILL in the middle of a job: nothing after it runs."""


@pytest.mark.parametrize("successor", ["b", "a"], ids=["a standby", "the same worker restarted"])
def test_a_job_in_flight_when_its_leader_dies_is_run_again_by_the_next_leader(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store, successor: str
) -> None:
    leader = make_worker(DAILY_AT_8, name="a", at=local("2026-11-23 07:59"))
    leader.tick()

    def die(request: RunRequest) -> None:
        raise Killed

    recorder.during = die
    clock.set(local("2026-11-23 08:00:01"))
    with pytest.raises(Killed):
        leader.tick()
    recorder.during = None
    # the dead leader's lease runs out (SQLite) or its connection is gone (PostgreSQL)
    leader.leadership.dispose()
    clock.advance(seconds=leader.leadership.timing.lease_seconds + 1)
    standby = make_worker(DAILY_AT_8, name=successor)
    assert standby.leadership.held
    records = standby.tick()
    assert [(r.fire_time, r.worker) for r in records] == [(local("2026-11-23 08:00"), successor)]
    assert recorder.fires() == [local("2026-11-23 08:00")] * 2
    assert [(row.worker, row.outcome) for row in runs(store, "daily")] == [("a", "interrupted"), (successor, "ok")]


# -- outcomes -----------------------------------------------------------------------------------


def test_a_report_that_did_not_deliver_everything_is_retried_for_the_same_day(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store
) -> None:
    recorder.outcomes = [Outcome("pending", "1 pending (archive: 503)"), Outcome("partial", "1 sent, 1 failed")]
    worker = make_worker(DAILY_AT_8, at=local("2026-11-23 07:59"))
    worker.tick()
    clock.set(local("2026-11-23 08:00:05"))
    assert [r.outcome for r in worker.tick()] == ["pending"]
    clock.advance(seconds=30)
    assert worker.tick() == []  # one minute after the first attempt
    clock.advance(seconds=40)
    assert [r.outcome for r in worker.tick()] == ["partial"]
    clock.advance(seconds=90)
    assert worker.tick() == []  # two minutes after the second
    clock.advance(seconds=40)
    assert [r.outcome for r in worker.tick()] == ["ok"]
    clock.advance(minutes=30)
    assert worker.tick() == []
    assert {(fire, as_of) for _, fire, as_of in recorder.calls} == {(local("2026-11-23 08:00"), date(2026, 11, 23))}
    assert len(recorder.calls) == 3


def test_report_retries_stop_after_the_limit(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder
) -> None:
    recorder.outcomes = [Outcome("pending", "still down")] * 20
    worker = make_worker({"daily": {**DAILY_AT_8["daily"], "misfire_grace_seconds": 6 * 3600}},
                         at=local("2026-11-23 07:59"))
    worker.tick()
    walk(worker, clock, local("2026-11-23 13:00"), timedelta(minutes=1))
    assert len(recorder.calls) == 1 + REPORT_RETRIES


def test_a_job_that_raises_is_recorded_as_failed_and_the_worker_goes_on(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store
) -> None:
    recorder.raises = RuntimeError("boom")
    worker = make_worker({"sync": {"every_minutes": 5}}, at=local("2026-11-23 10:00"))
    (record,) = worker.tick()
    assert (record.outcome, record.detail) == ("failed", "RuntimeError: boom")
    recorder.raises = None
    clock.advance(minutes=5)
    assert [r.outcome for r in worker.tick()] == ["ok"]
    rows = runs(store, "sync")
    assert [(r.outcome, r.finished_at is not None, r.duration_seconds is not None) for r in rows] == [
        ("failed", True, True), ("ok", True, True)
    ]


def test_a_stop_request_lets_the_job_in_flight_finish_and_runs_nothing_after(
    make_worker: WorkerFactory, clock: FakeClock, recorder: Recorder, store: Store
) -> None:
    schedule = {"a-sync": {"every_minutes": 5}, "b-sync": {"every_minutes": 5}}
    worker = make_worker(schedule, at=local("2026-11-23 10:00"))
    recorder.during = lambda request: worker.request_stop()
    records = worker.tick()
    assert [(r.job, r.outcome) for r in records] == [("a-sync", "ok")]
    assert [(row.job, row.outcome) for row in runs(store)] == [("a-sync", "ok")]
    assert {job.id: job.next_run_time for job in JobTable(store).all()}["b-sync"] == local("2026-11-23 10:00")


def test_fire_times_are_stored_as_utc(make_worker: WorkerFactory, clock: FakeClock, store: Store) -> None:
    worker = make_worker(DAILY_AT_8, at=local("2026-07-01 07:00"))
    worker.tick()
    clock.set(local("2026-07-01 08:00:10"))
    worker.tick()
    (row,) = runs(store)
    assert row.fire_time == datetime(2026, 7, 1, 6, 0)
    assert row.fire_time.replace(tzinfo=UTC) == local("2026-07-01 08:00")


def test_the_leader_prunes_runs_older_than_30_days(
    make_worker: WorkerFactory, clock: FakeClock, store: Store
) -> None:
    from tpmsync.store.models import ScheduleRun

    worker = make_worker({"sync": {"every_minutes": 5}}, at=local("2026-11-23 10:00"))
    with store.write() as session:
        for days in (31, 29):
            moment = datetime(2026, 11, 23, 9, 0) - timedelta(days=days)
            session.add(ScheduleRun(job="sync", fire_time=moment, started_at=moment, outcome="ok",
                                    trigger="schedule", worker="old"))
    worker.tick()
    assert sorted(row.started_at.date() for row in runs(store)) == [date(2026, 10, 25), date(2026, 11, 23)]
