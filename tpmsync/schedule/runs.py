"""Running one job: record it in `schedule_runs` (running → outcome), log one line.

`execute` is what the worker and `tpmsync schedule run-once` both call; a job's work is a `Runner`
(`run_sync`, `run_report`), the very functions `tpmsync sync` and `tpmsync report` run
(`tpmsync.jobs`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from tpmsync.config import Settings
from tpmsync.jobs import Outcome
from tpmsync.schedule.clock import Clock, SystemClock, default_worker_id, first_line, naive_utc
from tpmsync.schedule.plan import JobSpec, SchedulePlan, load_plan, report_date
from tpmsync.schedule.triggers import in_zone
from tpmsync.store.db import Store
from tpmsync.store.models import ScheduleRun

log = logging.getLogger("tpmsync.scheduler")  # the name operators filter the job lines by


@dataclass(frozen=True)
class RunRequest:
    spec: JobSpec
    fire_time: datetime  # aware
    as_of: date  # the day a report covers: the fire date in the job's time zone


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
    from tpmsync.jobs import delivery_outcome, report_job

    spec = request.spec
    assert spec.report is not None
    results = report_job(
        store, settings, spec.report, channels=spec.channels, projects=spec.projects, as_of=request.as_of
    )
    return delivery_outcome(results)


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


def log_record(record: RunRecord, tz: ZoneInfo) -> None:
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
            job=spec.name, fire_time=naive_utc(request.fire_time), started_at=naive_utc(started), outcome="running",
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
        outcome = Outcome("failed", f"{type(exc).__name__}: {first_line(exc)}")
    duration = time.monotonic() - began
    with store.write() as session:
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id)
            .values(outcome=outcome.status, detail=outcome.detail, duration_seconds=duration,
                    finished_at=naive_utc(started + timedelta(seconds=duration)))
        )
    record = RunRecord(spec.name, request.fire_time, started, duration, outcome.status, outcome.detail, trigger,
                       worker)
    log_record(record, spec.tz)
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
