"""The scheduler worker: runs the plan's jobs while it leads the workers of a store.

- `Worker.tick()` is one scheduling pass as leader: every job whose stored next run time has come is
  run once for the latest missed fire time (APScheduler's `coalesce`), or skipped and logged when
  that time is older than the job's `misfire_grace_time`; then its next run time is stored;
- `Worker.serve()` loops over `tick()` while `tpmsync.schedule.leader` keeps or waits for the lead,
  and finishes the job in flight before it stops.

The next run time of a job is stored only after the job has run. A leader killed in the middle of a
job leaves it due, so the next leader runs it again for the same fire time; the delivery ledger
makes that second report a no-op for every channel that already has it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from tpmsync.config import Settings
from tpmsync.schedule.clock import Clock, SystemClock, duration_text, first_line, naive_utc
from tpmsync.schedule.jobstore import JobTable, due_fire_times
from tpmsync.schedule.leader import Keeper, Leadership
from tpmsync.schedule.plan import JobSpec, SchedulePlan, report_date
from tpmsync.schedule.runs import (
    DEFAULT_RUNNERS,
    Runner,
    RunRecord,
    RunRequest,
    execute,
    log_record,
)
from tpmsync.schedule.triggers import in_zone, trigger_key
from tpmsync.store.db import Store
from tpmsync.store.models import ScheduleRun

log = logging.getLogger("tpmsync.scheduler")

KEEP_RUNS_DAYS = 30
# A report run that did not deliver everything (pending, partial, failed) is run again for the same
# fire time, within the job's grace: after 1, 2, 4, 8 then 15 minutes, at most this many times.
REPORT_RETRIES = 5
REPORT_RETRY_OUTCOMES = ("pending", "partial", "failed", "interrupted")
_MIN_WAIT = 0.05  # seconds; the loop never spins


def report_retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th run a report that did not deliver is tried again."""
    return timedelta(minutes=min(2 ** (max(attempts, 1) - 1), 15))


class Worker:
    """Runs the plan's jobs while its `leadership` holds the lead.

    `tick()` is one pass at `clock.now()`; `serve()` repeats it until `request_stop()`.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        plan: SchedulePlan,
        *,
        leadership: Leadership,
        clock: Clock | None = None,
        runners: Mapping[str, Runner] = DEFAULT_RUNNERS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.plan = plan
        self.leadership = leadership
        self.clock: Clock = clock or SystemClock()
        self.runners = runners
        self.worker_id = leadership.holder
        self.jobs = JobTable(store)
        self._specs = {spec.name: spec for spec in plan.jobs}
        self._term = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pruned_at: datetime | None = None

    # one pass

    def tick(self) -> list[RunRecord]:
        """Run what is due now, if leading; returns the runs and skips of this pass."""
        if not self.leadership.held:
            return []
        now = self.clock.now()
        if self._term != self.leadership.terms:
            self._take_over(now)
            self._term = self.leadership.terms
        records: list[RunRecord] = []
        for job in self.jobs.due(now):
            if self._stop.is_set() or not self.leadership.confirm():
                break
            spec = self._specs.get(job.id)
            if spec is None:  # left over from an older config; `_take_over` removes those
                continue
            record = self._run_due(job, spec, self.clock.now())
            if record is not None:
                records.append(record)
        for spec in self.plan.jobs:
            if spec.kind == "report" and not self._stop.is_set() and self.leadership.held:
                retry = self._retry_report(spec, self.clock.now())
                if retry is not None:
                    records.append(retry)
        self._prune(now)
        return records

    def _retry_report(self, spec: JobSpec, now: datetime) -> RunRecord | None:
        """Run a report again for the fire time of its last scheduled run, if that did not deliver."""
        with self.store.read() as session:
            last = session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.job == spec.name, ScheduleRun.trigger == "schedule")
                .order_by(ScheduleRun.id.desc())
                .limit(1)
            ).first()
            if last is None or last.outcome not in REPORT_RETRY_OUTCOMES:
                return None
            fire = last.fire_time.replace(tzinfo=UTC)
            attempts = session.scalar(
                select(func.count()).select_from(ScheduleRun).where(
                    ScheduleRun.job == spec.name, ScheduleRun.trigger == "schedule",
                    ScheduleRun.fire_time == last.fire_time,
                )
            ) or 0
            ended = (last.finished_at or last.started_at).replace(tzinfo=UTC)
        if attempts > REPORT_RETRIES or now - fire > timedelta(seconds=spec.misfire_grace_seconds):
            return None
        if now < ended + report_retry_delay(attempts) or not self.leadership.confirm():
            return None
        log.info("job %s: run due %s ended %s; trying again (attempt %d)", spec.name, _local(fire, spec.tz),
                 last.outcome, attempts + 1, extra={"job": spec.name})
        return execute(self.store, self.settings, RunRequest(spec, fire, report_date(spec, fire)),
                       runners=self.runners, clock=self.clock, worker=self.worker_id)

    def _run_due(self, job: Any, spec: JobSpec, now: datetime) -> RunRecord | None:
        fires = due_fire_times(job.trigger, job.next_run_time, now)
        if not fires:
            return None
        fire = fires[-1] if job.coalesce else fires[0]
        if len(fires) > 1 and job.coalesce:
            log.info("job %s: %d missed runs coalesced into the one due %s", spec.name, len(fires),
                     _local(fire, spec.tz), extra={"job": spec.name, "coalesced": len(fires)})
        late = now - fire
        grace = job.misfire_grace_time
        if grace is not None and late > timedelta(seconds=grace):
            record = self._missed(spec, fire, late, grace)
        else:
            record = execute(self.store, self.settings, RunRequest(spec, fire, report_date(spec, fire)),
                             runners=self.runners, clock=self.clock, worker=self.worker_id)
        following = job.trigger.get_next_fire_time(fire, self.clock.now())
        if self.leadership.held:
            self.jobs.reschedule(job, following)
        return record

    def _missed(self, spec: JobSpec, fire: datetime, late: timedelta, grace: int) -> RunRecord:
        now = self.clock.now()
        allowed = duration_text(timedelta(seconds=grace))
        detail = f"late by {duration_text(late)}, more than the {allowed} grace; skipped"
        with self.store.write() as session:
            session.add(ScheduleRun(
                job=spec.name, fire_time=naive_utc(fire), started_at=naive_utc(now), finished_at=naive_utc(now),
                duration_seconds=0.0, outcome="missed", trigger="schedule", worker=self.worker_id, detail=detail,
            ))
        record = RunRecord(spec.name, fire, now, 0.0, "missed", detail, "schedule", self.worker_id)
        log_record(record, spec.tz)
        return record

    def _take_over(self, now: datetime) -> None:
        """As the new leader: bring the job store in line with the config, close the old leader's runs."""
        self.jobs.start()
        stored = {job.id: job for job in self.jobs.all()}
        for spec in self.plan.jobs:
            fresh = spec.make_trigger(now)
            job = stored.pop(spec.name, None)
            if job is not None and trigger_key(job.trigger) == trigger_key(fresh):
                # same schedule: keep its next run time, so a run missed while no one led is seen
                self.jobs.put(spec, job.trigger, job.next_run_time, replace=True)
            else:
                first = fresh.get_next_fire_time(None, now)
                self.jobs.put(spec, fresh, first, replace=job is not None)
                log.info("job %s: %s, %s; first run %s", spec.name, spec.describe_trigger(), spec.describe_work(),
                         _local(first, spec.tz) if first else "never", extra={"job": spec.name})
        for job_id in stored:
            self.jobs.remove(job_id)
            log.info("job %s: no longer in the config; removed from the schedule", job_id, extra={"job": job_id})
        # no scheduled run is in flight here yet: one still "running" belongs to a leader that died
        # (or lost the lead; should it finish after all, its own update overwrites this)
        with self.store.write() as session:
            session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.outcome == "running", ScheduleRun.trigger == "schedule")
                .values(outcome="interrupted", finished_at=naive_utc(now), detail="its worker stopped leading mid-run")
            )

    def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < timedelta(days=1):
            return
        self._pruned_at = now
        cutoff = naive_utc(now - timedelta(days=KEEP_RUNS_DAYS))
        with self.store.write() as session:
            session.execute(delete(ScheduleRun).where(ScheduleRun.started_at < cutoff))

    # the loop

    def request_stop(self) -> None:
        """Stop after the job in flight (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def serve(self) -> None:
        """Lead or stand by until `request_stop()`; the lead is released on the way out."""
        poll = self.leadership.timing.poll_seconds
        extra = {"worker": self.worker_id}
        log.info("worker %s started: %d job(s), failover within %ss", self.worker_id, len(self.plan.jobs),
                 self.plan.failover_seconds, extra=extra)
        self.leadership.poll()
        keeper = Keeper(self.leadership, lambda _held: self._wake.set())
        keeper.start()
        leading: bool | None = None
        try:
            while not self._stop.is_set():
                timeout = poll
                try:
                    if self.leadership.held != leading:
                        leading = self.leadership.held
                        if leading:
                            log.info("worker %s leads: running jobs", self.worker_id, extra=extra)
                        else:
                            log.info("worker %s stands by: another worker leads", self.worker_id, extra=extra)
                    if leading:
                        self.tick()
                        upcoming = self.jobs.next_run_time()
                        if upcoming is not None:
                            timeout = min(poll, max((upcoming - self.clock.now()).total_seconds(), _MIN_WAIT))
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("database error (%s); trying again in %.0fs", first_line(exc), poll, extra=extra)
                self._wake.wait(timeout)
                self._wake.clear()
        finally:
            keeper.stop()
            self.leadership.release()
            log.info("worker %s stopped", self.worker_id, extra=extra)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{in_zone(moment, tz):%Y-%m-%d %H:%M:%S %Z}"
