"""APScheduler's SQLAlchemy job store on the store's own engine (table `apscheduler_jobs`).

Each job's trigger and next run time survive restarts and leader changes. The next run time of a
job is stored only after the job has run (`tpmsync.schedule.worker`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import inspect

from tpmsync.schedule.plan import JobSpec
from tpmsync.store.db import Store

JOBSTORE_TABLE = "apscheduler_jobs"
# What APScheduler would call to run a stored job; the worker runs the job from the config instead.
# Stored in every job row; rows written under the old name (`tpmsync.scheduler`) still load, and a
# new leader rewrites them with this one.
RUN_FUNC_REF = "tpmsync.schedule.runs:run_named_job"


def due_fire_times(trigger: Any, next_run_time: datetime | None, now: datetime) -> list[datetime]:
    """Every fire time from `next_run_time` up to `now` (APScheduler's `Job._get_run_times`)."""
    times: list[datetime] = []
    fire = next_run_time
    while fire is not None and fire <= now:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, now)
    return times


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
