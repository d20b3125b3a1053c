"""The `[schedule]` config as a validated plan.

`load_plan(settings)` turns `[schedule]` and every `[schedule.NAME]` table into a `SchedulePlan` of
`JobSpec`s; a mistake is a one-line `ConfigError` naming the key and the file. The triggers they
fire on are in `tpmsync.schedule.triggers`; `tpmsync.schedule.worker` runs the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.interval import IntervalTrigger

from tpmsync.config import ConfigError, Settings, check_keys
from tpmsync.errors import TpmsyncError
from tpmsync.schedule.triggers import crontab_trigger, in_zone
from tpmsync.store.freshness import DEFAULT_STALE_SYNC_MINUTES

DEFAULT_FAILOVER_SECONDS = 30
DEFAULT_MISFIRE_GRACE_SECONDS = 3600
REPORT_KINDS = ("daily", "weekly")
JOB_KINDS = ("sync", "report")
OPTION_KEYS = ("failover_seconds", "misfire_grace_seconds", "stale_sync_minutes")
JOB_KEYS = (
    "job", "cron", "every_minutes", "every_seconds", "timezone", "report", "channels", "projects", "full",
    "misfire_grace_seconds",
)
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# -- the plan from the config -----------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One `[schedule.NAME]` table, validated."""

    name: str
    kind: str  # sync | report
    timezone: str
    cron: str | None = None
    every_seconds: int | None = None
    report: str | None = None  # daily | weekly
    channels: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    full: bool = False
    misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def make_trigger(self, now: datetime) -> Any:
        """A fresh APScheduler trigger; an interval's first run is `now`, rounded up to the second."""
        if self.cron is not None:
            return crontab_trigger(self.cron, self.tz)
        assert self.every_seconds is not None
        start = now if not now.microsecond else now.replace(microsecond=0) + timedelta(seconds=1)
        return IntervalTrigger(seconds=self.every_seconds, start_date=start, timezone=self.tz)

    def describe_trigger(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron} ({self.timezone})"
        assert self.every_seconds is not None
        if self.every_seconds % 60 == 0:
            return f"every {self.every_seconds // 60} min"
        return f"every {self.every_seconds} s"

    def describe_work(self) -> str:
        scope = f" [{', '.join(self.projects)}]" if self.projects else ""
        if self.kind == "sync":
            return f"sync{' --full' if self.full else ''}{scope}"
        return f"{self.report} report{scope} → {', '.join(self.channels)}"


@dataclass(frozen=True)
class SchedulePlan:
    jobs: tuple[JobSpec, ...] = ()
    failover_seconds: int = DEFAULT_FAILOVER_SECONDS
    stale_sync_minutes: int = DEFAULT_STALE_SYNC_MINUTES
    source: str = "(defaults)"

    def job(self, name: str) -> JobSpec:
        for spec in self.jobs:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.jobs) or "none"
        raise TpmsyncError(f"no job {name!r} in [schedule.*] of {self.source}; configured: {known}")


def load_plan(settings: Settings, options: Mapping[str, Any] | None = None) -> SchedulePlan:
    """Validate `[schedule]` and every `[schedule.NAME]`; a mistake is a one-line ConfigError.

    `options` are the plain keys of `[schedule]` (failover_seconds, …); by default the settings'.
    """
    where = settings.source
    options = settings.schedule_options if options is None else options
    check_keys(where, "schedule", options, OPTION_KEYS,
               expected=f"expected a [schedule.NAME] table or one of {', '.join(OPTION_KEYS)}")
    failover = _integer(options, "failover_seconds", DEFAULT_FAILOVER_SECONDS, "schedule.failover_seconds", where,
                        minimum=1)
    grace = _integer(options, "misfire_grace_seconds", DEFAULT_MISFIRE_GRACE_SECONDS,
                     "schedule.misfire_grace_seconds", where, minimum=1)
    stale = _integer(options, "stale_sync_minutes", DEFAULT_STALE_SYNC_MINUTES, "schedule.stale_sync_minutes",
                     where, minimum=1)
    jobs = tuple(
        _job_spec(name, table, settings, where, grace) for name, table in settings.schedule.items()
    )
    return SchedulePlan(jobs=jobs, failover_seconds=failover, stale_sync_minutes=stale, source=where)


def check_channels(settings: Settings, plan: SchedulePlan) -> None:
    """Validate the `[channels.NAME]` tables the report jobs use and that their secrets are set.

    `schedule run` calls this first: a worker that refuses to start (exit 2, one line) is better
    than one that fails every report at 08:00.
    """
    used = sorted({name for spec in plan.jobs if spec.kind == "report" for name in spec.channels})
    if not used:
        return
    from tpmsync.deliver.channels import load_channels

    channels = load_channels(settings)
    for name in used:
        channels[name].check_ready()


def _job_spec(name: str, table: Mapping[str, Any], settings: Settings, where: str, grace: int) -> JobSpec:
    key = f"schedule.{name}"
    if not _JOB_NAME.match(name):
        raise ConfigError(f"{where}: [{key}]: a job name is letters, digits, '-', '_' and '.', got {name!r}")
    check_keys(where, key, table, JOB_KEYS)
    kind = table.get("job", "report" if "report" in table else "sync")
    if kind not in JOB_KINDS:
        raise ConfigError(f"{where}: {key}.job must be one of {', '.join(JOB_KINDS)}, got {kind!r}")
    timezone = table.get("timezone", settings.kpi.timezone)
    if not isinstance(timezone, str):
        raise ConfigError(f"{where}: {key}.timezone must be an IANA time zone such as Europe/Berlin, got {timezone!r}")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{where}: {key}.timezone {timezone!r} is not an IANA time zone such as Europe/Berlin"
        ) from exc
    triggers = [t for t in ("cron", "every_minutes", "every_seconds") if t in table]
    if len(triggers) != 1:
        raise ConfigError(f"{where}: [{key}] needs exactly one of cron, every_minutes, every_seconds; "
                          f"got {', '.join(triggers) or 'none'}")
    cron: str | None = None
    every: int | None = None
    if triggers[0] == "cron":
        cron = table["cron"]
        if not isinstance(cron, str):
            raise ConfigError(f"{where}: {key}.cron must be a crontab line such as \"0 8 * * 1-5\", got {cron!r}")
        try:
            crontab_trigger(cron, tz)
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}.cron {cron!r} is not a valid crontab line: {exc}") from exc
    elif triggers[0] == "every_minutes":
        every = 60 * _integer(table, "every_minutes", 0, f"{key}.every_minutes", where, minimum=1)
    else:
        every = _integer(table, "every_seconds", 0, f"{key}.every_seconds", where, minimum=1)
    projects = table.get("projects", [])
    if isinstance(projects, str):
        projects = [projects]
    if not isinstance(projects, list) or not all(isinstance(p, str | int) and not isinstance(p, bool)
                                                 for p in projects):
        raise ConfigError(f"{where}: {key}.projects must be a list of gids or names, got {projects!r}")
    job_grace = _integer(table, "misfire_grace_seconds", grace, f"{key}.misfire_grace_seconds", where, minimum=1)
    spec = JobSpec(name=name, kind=kind, timezone=timezone, cron=cron, every_seconds=every,
                   projects=tuple(str(p) for p in projects), misfire_grace_seconds=job_grace)
    if kind == "sync":
        for only in ("report", "channels"):
            if only in table:
                raise ConfigError(f"{where}: {key}.{only} is for report jobs; this job syncs (set job = \"report\")")
        full = table.get("full", False)
        if not isinstance(full, bool):
            raise ConfigError(f"{where}: {key}.full must be true or false, got {full!r}")
        return replace(spec, full=full)
    if "full" in table:
        raise ConfigError(f"{where}: {key}.full is for sync jobs")
    report = table.get("report")
    if report not in REPORT_KINDS:
        raise ConfigError(f"{where}: {key}.report must be one of {', '.join(REPORT_KINDS)}, got {report!r}")
    channels = table.get("channels")
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"{where}: {key}.channels must be a non-empty list of [channels.NAME] names, "
                          f"got {channels!r}")
    for channel in channels:
        if channel not in settings.channels:
            known = ", ".join(sorted(settings.channels)) or "none configured"
            raise ConfigError(f"{where}: {key}.channels names {channel!r}, which is not a [channels.NAME] table "
                              f"({known})")
    return replace(spec, report=report, channels=tuple(channels))


def _integer(table: Mapping[str, Any], name: str, default: int, key: str, where: str, *, minimum: int) -> int:
    value = table.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{where}: {key} must be a whole number ≥ {minimum}, got {value!r}")
    return value


def report_date(spec: JobSpec, fire_time: datetime) -> date:
    """The day a report fired at `fire_time` covers: the fire date in the job's time zone."""
    return in_zone(fire_time, spec.tz).date()
