"""`tpmsync schedule …`: the scheduler worker and what it has done. Parse, one library call, render.

Only click is imported here; the scheduler (and APScheduler) load inside the commands, so that
`tpmsync status` does not pay for them.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from tpmsync.cli.context import Context
from tpmsync.config import ConfigError

if TYPE_CHECKING:
    from tpmsync.schedule.health import JobStatus
    from tpmsync.schedule.leader import LeaderInfo
    from tpmsync.schedule.plan import SchedulePlan

log = logging.getLogger("tpmsync.scheduler")


@click.group()
def schedule() -> None:
    """Scheduled syncs and reports from the [schedule.*] tables of the config.

    Start `schedule run` on one or more machines against the same database: one worker leads
    and runs the jobs, the others stand by and take over within `failover_seconds`.

    \b
    Example:
      tpmsync schedule list
      tpmsync --log-format json schedule run
      tpmsync schedule status || echo "last sync too old"
    """


def _plan(obj: Context) -> SchedulePlan:
    from tpmsync.logs import register_secrets
    from tpmsync.schedule.plan import load_plan

    register_secrets(obj.settings)
    return load_plan(obj.settings)


@schedule.command("run")
@click.option("--worker-id", metavar="ID", help="This worker's name in logs and `schedule list` (default host:pid).")
@click.pass_obj
def run(obj: Context, worker_id: str | None) -> None:
    """Run the scheduler worker in the foreground until SIGTERM or Ctrl-C.

    Logs one line per job run with its outcome and duration (at info level unless --log-level
    says otherwise). A stop signal lets the job in flight finish, releases the lead to a
    standby, and exits 0; a second signal stops at once.

    \b
    Example:
      tpmsync schedule run
      tpmsync --log-format json --log-level info schedule run --worker-id worker-a
    """
    from tpmsync.schedule.leader import make_leadership
    from tpmsync.schedule.plan import check_channels
    from tpmsync.schedule.worker import Worker

    plan = _plan(obj)
    if not plan.jobs:
        raise ConfigError(f"{plan.source}: no [schedule.NAME] job to run; see config/tpmsync.example.toml")
    check_channels(obj.settings, plan)
    _job_lines_at_info()
    with obj.open_store() as store:
        leadership = make_leadership(store, worker_id, failover_seconds=plan.failover_seconds)
        worker = Worker(store, obj.settings, plan, leadership=leadership)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("%s: finishing the job in flight, then stopping", signal.Signals(signum).name)
            worker.request_stop()
            signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            worker.serve()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            leadership.dispose()


def _job_lines_at_info() -> None:
    """Show the worker's one line per job unless --log-level was given explicitly."""
    root = click.get_current_context().find_root()
    if root.get_parameter_source("log_level") in (None, click.core.ParameterSource.DEFAULT):
        for name in ("tpmsync.scheduler", "tpmsync.leader"):
            logging.getLogger(name).setLevel(logging.INFO)


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def list_jobs(obj: Context, as_json: bool) -> None:
    """Each job: what it runs, its trigger, its next run in the job's time zone, its last outcome.

    \b
    Example:
      tpmsync schedule list
      tpmsync schedule list --json
    """
    from tpmsync.schedule.clock import SystemClock
    from tpmsync.schedule.health import job_statuses
    from tpmsync.schedule.leader import current_leader

    plan = _plan(obj)
    clock = SystemClock()
    with obj.open_store() as store:
        statuses = job_statuses(store, plan, clock)
        leader = current_leader(store, clock)
    if as_json:
        document = {"leader": _leader_json(leader), "jobs": [item.to_json() for item in statuses]}
        click.echo(json.dumps(document, indent=2))
    elif not statuses:
        click.echo(f"no [schedule.NAME] jobs in {plan.source}; see config/tpmsync.example.toml")
    else:
        click.echo(_render_list(leader, statuses, clock.now()))


@schedule.command("run-once")
@click.argument("job")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Report on this day (YYYY-MM-DD).")
@click.pass_obj
def run_once(obj: Context, job: str, as_of: datetime | None) -> None:
    """Run one configured job now, whichever worker leads, and print its outcome.

    A report covers today in the job's time zone, or --as-of; the delivery ledger still sends
    each report to each channel once. Exits 1 unless the outcome is ok.

    \b
    Example:
      tpmsync schedule run-once sync
      tpmsync schedule run-once daily-report --as-of 2026-11-25
    """
    from tpmsync.schedule.runs import run_once as run_job_once

    plan = _plan(obj)
    spec = plan.job(job)
    with obj.open_store() as store:
        record = run_job_once(store, obj.settings, plan, job, as_of=as_of.date() if as_of else None)
    click.echo(record.line(spec.tz))
    if record.outcome != "ok":
        sys.exit(1)


@schedule.command("status")
@click.option("--max-age-minutes", type=click.IntRange(min=1), metavar="N",
              help="Oldest acceptable sync (default: [schedule] stale_sync_minutes, 60).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status(obj: Context, max_age_minutes: int | None, as_json: bool) -> None:
    """Exit 0 when the last finished sync is recent enough, 1 when it is older (or there is none).

    For container health checks and monitoring; reads the database only.

    \b
    Example:
      tpmsync schedule status
      tpmsync schedule status --max-age-minutes 30 --json
    """
    from sqlalchemy.exc import SQLAlchemyError

    from tpmsync.schedule.health import sync_health

    plan = _plan(obj)
    with obj.open_store(migrate=False) as store:
        try:
            health = sync_health(store, max_age_minutes or plan.stale_sync_minutes)
        except SQLAlchemyError as exc:
            click.echo(f"unhealthy: cannot read the last sync from {store.safe_url} ({type(exc).__name__})", err=True)
            sys.exit(1)
    if as_json:
        click.echo(json.dumps({
            "ok": health.ok,
            "last_sync_at": health.last_sync_at.isoformat() if health.last_sync_at else None,
            "age_minutes": None if health.age_minutes is None else round(health.age_minutes, 1),
            "max_age_minutes": health.max_age_minutes,
            "message": health.message,
        }))
    else:
        click.echo(health.message)
    if not health.ok:
        sys.exit(1)


def _render_list(leader: LeaderInfo | None, statuses: list[JobStatus], now: datetime) -> str:
    from tpmsync.schedule.triggers import in_zone

    lines = [_leader_line(leader, now)]
    rows = [("JOB", "WORK", "TRIGGER", "NEXT RUN", "LAST RUN")]
    for item in statuses:
        tz = item.spec.tz
        next_run = f"{in_zone(item.next_run, tz):%Y-%m-%d %H:%M %Z}" if item.next_run else "never"
        if item.next_run and not item.scheduled:
            next_run += " *"
        last = "—"
        if item.last is not None:
            took = f", {item.last.duration_seconds:.1f}s" if item.last.duration_seconds is not None else ""
            last = f"{item.last.outcome} {in_zone(item.last.fire_time, tz):%Y-%m-%d %H:%M %Z}{took}"
        rows.append((item.spec.name, item.spec.describe_work(), item.spec.describe_trigger(), next_run, last))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if any(item.next_run and not item.scheduled for item in statuses):
        lines.append("* from the config: no worker has scheduled this job yet")
    return "\n".join(lines)


def _leader_line(leader: LeaderInfo | None, now: datetime) -> str:
    if leader is None:
        return "leader: none yet (no worker has run against this database)"
    if leader.active:
        return (f"leader: {leader.holder} since {leader.acquired_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(renewed {_ago(now, leader.renewed_at)} ago)")
    return f"leader: none (last: {leader.holder}, gone {_ago(now, leader.expires_at)} ago)"


def _ago(now: datetime, then: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _leader_json(leader: LeaderInfo | None) -> dict[str, Any] | None:
    if leader is None:
        return None
    return {
        "holder": leader.holder,
        "active": leader.active,
        "acquired_at": leader.acquired_at.isoformat(),
        "renewed_at": leader.renewed_at.isoformat(),
        "expires_at": leader.expires_at.isoformat(),
    }
