"""How flow reads a project's board and a day: which sections are started, and dates in the zone.

Shared by `flow.compute_flow` (one day) and `flow_daily.daily_flow` (every day of a window).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tpmsync.kpi.model.inputs import FlowProject, FlowTask

_UTC = ZoneInfo("UTC")


class Clock:
    """Naive-UTC timestamps → dates in the configured zone, and the end of a day as naive UTC.

    `day()` is called once or twice per task, so it avoids a time-zone conversion per call: for
    each UTC calendar day it remembers the local date at its start and, when a local midnight
    falls inside it, that instant and the local date after it (DST changes included, as
    zoneinfo knows them).  In UTC the date is the timestamp's own date.
    """

    __slots__ = ("_days", "utc", "zone")

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.utc = zone == "UTC"
        self._days: dict[date, tuple[date, datetime | None, date]] = {}

    def _utc_day(self, utc_day: date) -> tuple[date, datetime | None, date]:
        begin = datetime.combine(utc_day, time(), tzinfo=_UTC)
        first = begin.astimezone(self.zone).date()
        last = (begin + timedelta(days=1, microseconds=-1)).astimezone(self.zone).date()
        if first == last:
            return first, None, first
        midnight = datetime.combine(last, time(), tzinfo=self.zone).astimezone(_UTC).replace(tzinfo=None)
        return first, midnight, last

    def day(self, value: datetime) -> date:
        utc_day = value.date()
        if self.utc:
            return utc_day
        known = self._days.get(utc_day)
        if known is None:
            known = self._days[utc_day] = self._utc_day(utc_day)
        first, switch, last = known
        return first if switch is None or value < switch else last

    def end_of(self, day: date) -> datetime:
        """The first instant after `day` in the zone, as naive UTC (events before it are on or before `day`)."""
        local = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone)
        return local.astimezone(_UTC).replace(tzinfo=None)


def started_gids(project: FlowProject, names: frozenset[str]) -> frozenset[str]:
    return frozenset(s.gid for s in project.sections if s.name.strip().casefold() in names)


class Board:
    """A project's sections and which of them are started."""

    __slots__ = ("gid", "names", "section_names", "started_gids", "state")

    def __init__(self, project: FlowProject, names: frozenset[str]) -> None:
        self.gid = project.gid
        self.names = names
        self.started_gids = started_gids(project, names)
        self.state: dict[str | None, bool] = {s.gid: s.gid in self.started_gids for s in project.sections}
        self.section_names = {s.gid: s.name for s in project.sections}

    def is_started(self, gid: str | None, name: str | None) -> bool:
        """A section counts by its current name while it exists in the project, else by the name a story recorded.

        Hot loops look `state.get(gid)` up themselves and call `started_by_name` only when it is None.
        """
        known = self.state.get(gid)
        if known is not None:
            return known
        return self.started_by_name(name)

    def started_by_name(self, name: str | None) -> bool:
        return name is not None and name.strip().casefold() in self.names

    def label(self, gid: str | None, name: str | None) -> str:
        return self.section_names.get(gid or "", name or "")


def current_section(task: FlowTask, project_gid: str) -> str | None:
    for membership in task.memberships:
        if membership.project_gid == project_gid:
            return membership.section_gid
    return None
