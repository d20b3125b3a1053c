"""What `tpmsync schedule list` and `tpmsync schedule status` show: each job's next and last run,
and whether the last finished sync is recent enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tpmsync.schedule.clock import Clock, SystemClock, duration_text
from tpmsync.schedule.jobstore import JobTable
from tpmsync.schedule.plan import JobSpec, SchedulePlan
from tpmsync.schedule.triggers import in_zone, trigger_key
from tpmsync.store.db import Store
from tpmsync.store.models import ScheduleRun
from tpmsync.store.snapshots import last_finished_sync


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
        finished = last_finished_sync(session)
    if finished is None:
        return SyncHealth(False, None, None, max_age_minutes, "stale: no sync has finished yet")
    last = finished.replace(tzinfo=UTC)
    age = max((now - last).total_seconds() / 60, 0.0)
    ok = age <= max_age_minutes
    verdict = "ok" if ok else "stale"
    message = (f"{verdict}: last sync finished {duration_text(timedelta(minutes=age))} ago "
               f"({last:%Y-%m-%d %H:%M} UTC); threshold {max_age_minutes} min")
    return SyncHealth(ok, last, age, max_age_minutes, message)
