"""Scheduled jobs from `[schedule.*]`, run by one leader among the workers of a store.

The pieces, each testable with an injected clock:

- `tpmsync.schedule_plan.load_plan(settings)` validates the config into `JobSpec`s and triggers;
- `JobTable` is APScheduler's SQLAlchemy job store on the store's own engine (table
  `apscheduler_jobs`): each job's trigger and next run time survive restarts and leader changes;
- `Worker.tick()` is one scheduling pass as leader: every job whose stored next run time has come is
  run once for the latest missed fire time (APScheduler's `coalesce`), or skipped and logged when
  that time is older than the job's `misfire_grace_time`; then its next run time is stored;
- `Worker.serve()` loops over `tick()` while `tpmsync.leader` keeps or waits for the lead, and
  finishes the job in flight before it stops.

The next run time of a job is stored only after the job has run. A leader killed in the middle of a
job leaves it due, so the next leader runs it again for the same fire time; the delivery ledger
makes that second report a no-op for every channel that already has it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError

from tpmsync.config import Settings
from tpmsync.leader import Clock, Keeper, Leadership, SystemClock, default_worker_id
from tpmsync.schedule_plan import JobSpec, SchedulePlan, in_zone, load_plan, report_date, trigger_key
from tpmsync.store.db import Store
from tpmsync.store.models import ScheduleRun, SyncRun

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
KEEP_RUNS_DAYS = 30
# A report run that did not deliver everything (pending, partial, failed) is run again for the same
# fire time, within the job's grace: after 1, 2, 4, 8 then 15 minutes, at most this many times.
REPORT_RETRIES = 5
REPORT_RETRY_OUTCOMES = ("pending", "partial", "failed", "interrupted")
_MIN_WAIT = 0.05  # seconds; the loop never spins
# What APScheduler would call to run a stored job; the worker runs the job from the config instead.
RUN_FUNC_REF = "tpmsync.scheduler:run_named_job"


def due_fire_times(trigger: Any, next_run_time: datetime | None, now: datetime) -> list[datetime]:
    """Every fire time from `next_run_time` up to `now` (APScheduler's `Job._get_run_times`)."""
    times: list[datetime] = []
    fire = next_run_time
    while fire is not None and fire <= now:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, now)
    return times


def report_retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th run a report that did not deliver is tried again."""
    return timedelta(minutes=min(2 ** (max(attempts, 1) - 1), 15))


# -- the job store ----------------------------------------------------------------------------


class JobTable:
    """APScheduler's SQLAlchemy job store on the store's engine: one row per job, its next run time."""

    timezone = UTC  # what APScheduler's Job asks of its scheduler for naive times (all of ours are aware)

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOBSTORE_TABLE)
        self._started = False

    def exists(self) -> bool:
        return bool(inspect(self.store.engine).has_table(JOBSTORE_TABLE))

    def start(self) -> None:
        """Create the table if missing (the leader does; readers check `exists` instead)."""
        if not self._started:
            self._jobstore.start(self, "default")
            self._started = True

    def all(self) -> list[Any]:
        if not self._started:
            if not self.exists():
                return []
            self.start()
        return list(self._jobstore.get_all_jobs())

    def due(self, now: datetime) -> list[Any]:
        return list(self._jobstore.get_due_jobs(now))

    def next_run_time(self) -> datetime | None:
        value: datetime | None = self._jobstore.get_next_run_time()
        return value

    def put(self, spec: JobSpec, trigger: Any, next_run_time: datetime | None, *, replace: bool) -> Any:
        job = Job(
            self,
            id=spec.name,
            func=RUN_FUNC_REF,
            args=(spec.name,),
            kwargs={},
            name=spec.name,
            trigger=trigger,
            executor="default",
            misfire_grace_time=spec.misfire_grace_seconds,
            coalesce=True,
            max_instances=1,
            next_run_time=next_run_time,
        )
        if replace:
            self._jobstore.update_job(job)
        else:
            self._jobstore.add_job(job)
        return job

    def reschedule(self, job: Any, next_run_time: datetime | None) -> None:
        if next_run_time is None:  # a trigger that will never fire again
            self._jobstore.remove_job(job.id)
            return
        state = job.__getstate__()
        state["next_run_time"] = next_run_time
        job.__setstate__(state)
        self._jobstore.update_job(job)

    def remove(self, job_id: str) -> None:
        self._jobstore.remove_job(job_id)


# -- running one job --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    spec: JobSpec
    fire_time: datetime  # aware
    as_of: date  # the day a report covers: the fire date in the job's time zone


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | partial | failed | busy | pending
    detail: str = ""


Runner = Callable[[Store, Settings, RunRequest], Outcome]


def run_sync(store: Store, settings: Settings, request: RunRequest) -> Outcome:
    """A sync job: `tpmsync.jobs.sync_job`, what `tpmsync sync` runs."""
    from tpmsync.jobs import sync_job
    from tpmsync.store.lock import LockBusy

    try:
        result = sync_job(store, settings, projects=request.spec.projects, full=request.spec.full)
    except LockBusy as exc:
        return Outcome("busy", str(exc))
    status = result.outcome if result.outcome in ("ok", "partial", "failed") else "failed"
    return Outcome(status, result.summary())


def run_report(store: Store, settings: Settings, request: RunRequest) -> Outcome:
    """A report job: `tpmsync.jobs.report_job` for the fire date, through the delivery ledger."""
    from tpmsync.jobs import report_job

    spec = request.spec
    assert spec.report is not None
    results = report_job(
        store, settings, spec.report, channels=spec.channels, projects=spec.projects, as_of=request.as_of
    )
    return summarize_deliveries(results)


def summarize_deliveries(results: Sequence[Any]) -> Outcome:
    """One outcome for a report's deliveries (`tpmsync.deliver.DeliveryResult`s).

    pending when any is pending (the scheduler retries the report; the ledger skips what went
    out); failed when nothing went out and something failed (or failed before and was skipped);
    partial when some went out and some failed; else ok.
    """
    counts: dict[str, int] = {}
    errors: list[str] = []
    for result in results:
        status = str(getattr(result, "status", "sent"))
        error = getattr(result, "error", None)
        if status == "skipped" and error:
            status = "failed earlier"
        counts[status] = counts.get(status, 0) + 1
        if error and len(errors) < 2:
            errors.append(f"{getattr(result, 'channel', '?')}: {error}")
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no delivery"
    if errors:
        detail += " (" + "; ".join(errors) + ")"
    failed = counts.get("failed", 0) + counts.get("failed earlier", 0)
    if counts.get("pending"):
        return Outcome("pending", detail)
    if failed:
        return Outcome("failed" if failed == len(results) else "partial", detail)
    return Outcome("ok", detail)


DEFAULT_RUNNERS: Mapping[str, Runner] = {"sync": run_sync, "report": run_report}


@dataclass(frozen=True)
class RunRecord:
    """A job run (or skip) as recorded in `schedule_runs` and logged in one line."""

    job: str
    fire_time: datetime
    started_at: datetime
    duration_seconds: float
    outcome: str  # ok | partial | failed | busy | pending | missed
    detail: str
    trigger: str  # schedule | manual
    worker: str

    def line(self, tz: ZoneInfo | None = None) -> str:
        fire = in_zone(self.fire_time, tz or UTC)
        took = "" if self.outcome == "missed" else f" in {self.duration_seconds:.2f}s"
        tail = f" — {self.detail}" if self.detail else ""
        return f"job {self.job} ({fire:%Y-%m-%d %H:%M:%S %Z}): {self.outcome}{took}{tail}"


_LEVELS = {"ok": logging.INFO, "partial": logging.WARNING, "busy": logging.WARNING, "pending": logging.WARNING,
           "missed": logging.WARNING}


def _log_record(record: RunRecord, tz: ZoneInfo) -> None:
    log.log(
        _LEVELS.get(record.outcome, logging.ERROR),
        record.line(tz),
        extra={
            "job": record.job,
            "fire_time": record.fire_time.isoformat(),
            "outcome": record.outcome,
            "duration_s": round(record.duration_seconds, 3),
            "trigger": record.trigger,
            "worker": record.worker,
        },
    )


def execute(
    store: Store,
    settings: Settings,
    request: RunRequest,
    *,
    runners: Mapping[str, Runner] = DEFAULT_RUNNERS,
    clock: Clock | None = None,
    worker: str = "",
    trigger: str = "schedule",
) -> RunRecord:
    """Run one job now, record it in `schedule_runs` (running → outcome) and log one line."""
    clock = clock or SystemClock()
    spec = request.spec
    started = clock.now()
    with store.write() as session:
        row = ScheduleRun(
            job=spec.name, fire_time=_naive(request.fire_time), started_at=_naive(started), outcome="running",
            trigger=trigger, worker=worker,
        )
        session.add(row)
        session.flush()
        run_id = row.id
    began = time.monotonic()
    try:
        outcome = runners[spec.kind](store, settings, request)
    except Exception as exc:  # a failing job is recorded and logged; the worker goes on
        log.debug("job %s raised", spec.name, exc_info=True)
        outcome = Outcome("failed", f"{type(exc).__name__}: {_first_line(exc)}")
    duration = time.monotonic() - began
    with store.write() as session:
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id)
            .values(outcome=outcome.status, detail=outcome.detail, duration_seconds=duration,
                    finished_at=_naive(started + timedelta(seconds=duration)))
        )
    record = RunRecord(spec.name, request.fire_time, started, duration, outcome.status, outcome.detail, trigger,
                       worker)
    _log_record(record, spec.tz)
    return record


def run_once(
    store: Store,
    settings: Settings,
    plan: SchedulePlan,
    name: str,
    *,
    as_of: date | None = None,
    runners: Mapping[str, Runner] = DEFAULT_RUNNERS,
    clock: Clock | None = None,
    worker: str | None = None,
) -> RunRecord:
    """Run the job `name` now, whoever leads (`tpmsync schedule run-once`); reports cover `as_of`."""
    clock = clock or SystemClock()
    spec = plan.job(name)
    now = clock.now()
    request = RunRequest(spec, now, as_of or report_date(spec, now))
    return execute(store, settings, request, runners=runners, clock=clock, worker=worker or default_worker_id(),
                   trigger="manual")


def run_named_job(job_name: str, *, config: str | None = None) -> RunRecord:
    """Load the config, open the store and run one job now: the callable stored with each job.

    APScheduler's job rows name a callable; this is it, so a stored job says what it runs. The
    worker itself runs jobs from the current config (`Worker.tick`).
    """
    from tpmsync.config import load_settings
    from tpmsync.store.db import open_store

    settings = load_settings(config)
    store = open_store(settings.database_url)
    try:
        return run_once(store, settings, load_plan(settings), job_name)
    finally:
        store.dispose()


# -- the worker -------------------------------------------------------------------------------


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
        detail = f"late by {_duration(late)}, more than the {_duration(timedelta(seconds=grace))} grace; skipped"
        with self.store.write() as session:
            session.add(ScheduleRun(
                job=spec.name, fire_time=_naive(fire), started_at=_naive(now), finished_at=_naive(now),
                duration_seconds=0.0, outcome="missed", trigger="schedule", worker=self.worker_id, detail=detail,
            ))
        record = RunRecord(spec.name, fire, now, 0.0, "missed", detail, "schedule", self.worker_id)
        _log_record(record, spec.tz)
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
                .values(outcome="interrupted", finished_at=_naive(now), detail="its worker stopped leading mid-run")
            )

    def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < timedelta(days=1):
            return
        self._pruned_at = now
        cutoff = _naive(now - timedelta(days=KEEP_RUNS_DAYS))
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
                    log.warning("database error (%s); trying again in %.0fs", _first_line(exc), poll, extra=extra)
                self._wake.wait(timeout)
                self._wake.clear()
        finally:
            keeper.stop()
            self.leadership.release()
            log.info("worker %s stopped", self.worker_id, extra=extra)


# -- what `schedule list` and `schedule status` show ----------------------------------------------


@dataclass(frozen=True)
class LastRun:
    outcome: str
    fire_time: datetime
    started_at: datetime
    duration_seconds: float | None
    detail: str | None
    worker: str


@dataclass(frozen=True)
class JobStatus:
    spec: JobSpec
    next_run: datetime | None
    scheduled: bool  # next_run comes from the job store (a leader scheduled it), not from the config alone
    last: LastRun | None

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "job": self.spec.name,
            "kind": self.spec.kind,
            "trigger": self.spec.describe_trigger(),
            "work": self.spec.describe_work(),
            "timezone": self.spec.timezone,
            "next_run": in_zone(self.next_run, self.spec.tz).isoformat() if self.next_run else None,
            "scheduled": self.scheduled,
            "last": None if last is None else {
                "outcome": last.outcome,
                "fire_time": last.fire_time.isoformat(),
                "started_at": last.started_at.isoformat(),
                "duration_seconds": last.duration_seconds,
                "detail": last.detail,
                "worker": last.worker,
            },
        }


def job_statuses(store: Store, plan: SchedulePlan, clock: Clock | None = None) -> list[JobStatus]:
    """Each configured job: its next run (from the job store when a leader scheduled it) and last run."""
    now = (clock or SystemClock()).now()
    stored = {job.id: job for job in JobTable(store).all()}
    out: list[JobStatus] = []
    with store.read() as session:
        for spec in plan.jobs:
            fresh = spec.make_trigger(now)
            job = stored.get(spec.name)
            if job is not None and trigger_key(job.trigger) == trigger_key(fresh):
                next_run, scheduled = job.next_run_time, True
            else:
                next_run, scheduled = fresh.get_next_fire_time(None, now), False
            row = session.scalars(
                select(ScheduleRun).where(ScheduleRun.job == spec.name).order_by(ScheduleRun.id.desc()).limit(1)
            ).first()
            last = None if row is None else LastRun(
                row.outcome, row.fire_time.replace(tzinfo=UTC), row.started_at.replace(tzinfo=UTC),
                row.duration_seconds, row.detail, row.worker,
            )
            out.append(JobStatus(spec, next_run, scheduled, last))
    return out


@dataclass(frozen=True)
class SyncHealth:
    ok: bool
    last_sync_at: datetime | None  # aware UTC, when the last ok/partial sync finished
    age_minutes: float | None
    max_age_minutes: int
    message: str


def sync_health(store: Store, max_age_minutes: int, clock: Clock | None = None) -> SyncHealth:
    """Whether the last finished sync (ok or partial, by any worker or CLI) is recent enough."""
    now = (clock or SystemClock()).now()
    with store.read() as session:
        finished = session.scalar(
            select(func.max(SyncRun.finished_at)).where(SyncRun.outcome.in_(("ok", "partial")))
        )
    if finished is None:
        return SyncHealth(False, None, None, max_age_minutes, "stale: no sync has finished yet")
    last = finished.replace(tzinfo=UTC)
    age = max((now - last).total_seconds() / 60, 0.0)
    ok = age <= max_age_minutes
    verdict = "ok" if ok else "stale"
    message = (f"{verdict}: last sync finished {_duration(timedelta(minutes=age))} ago "
               f"({last:%Y-%m-%d %H:%M} UTC); threshold {max_age_minutes} min")
    return SyncHealth(ok, last, age, max_age_minutes, message)


# -- small helpers ----------------------------------------------------------------------------


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{in_zone(moment, tz):%Y-%m-%d %H:%M:%S %Z}"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__

