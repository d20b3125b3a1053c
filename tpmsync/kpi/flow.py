"""Flow metrics: how work moves through a project's board (docs/kpis.md "Flow").

Pure: typed inputs in, typed results out, no I/O.  A task's history is a list of `FlowEvent`s
(Asana stories: `section_changed`, `marked_complete`, `marked_incomplete`) with naive-UTC
timestamps, as the store keeps them; every date is taken in `FlowSettings.timezone`.

- started_on (per project): the date of the earliest `section_changed` event that moved the task
  into a started section of THAT project; for a task in a started section on as_of with no such
  event, its created date.
- lead time = completed_on − created_on + 1; cycle time = completed_on − started_on + 1 (only
  where started_on ≤ completed_on); both over the tasks completed on as_of − window_days + 1 …
  as_of.  p50/p85/p95 are nearest-rank; fewer than `MIN_VALUES` values give None and a reason.
- wip: open tasks in a started section of the project on as_of; age = as_of − started_on + 1;
  aging: WIP tasks older than the cycle-time p85 (None when that p85 is None).

`compute_flow` gives the KPIs of one day; `daily_flow` gives, for every day of a window, the
count per section and completed (cumulative flow) and the completions of the day (throughput).
Choices are written down in docs/kpis.md, "Flow".
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

JsonObject = dict[str, Any]

DEFAULT_STARTED_SECTIONS = ("In progress", "Doing", "In review", "Review", "QA", "Testing")
DEFAULT_WINDOW_DAYS = 42
MIN_VALUES = 5
"""Fewer lead or cycle times than this give no percentiles (None and a reason)."""

_UTC = ZoneInfo("UTC")


class StoryKind(StrEnum):
    SECTION_CHANGED = "section_changed"
    MARKED_COMPLETE = "marked_complete"
    MARKED_INCOMPLETE = "marked_incomplete"


_SECTION_CHANGED = StoryKind.SECTION_CHANGED
_MARKED_COMPLETE = StoryKind.MARKED_COMPLETE
_at = itemgetter(0)


class FlowEvent(NamedTuple):
    """One story of a task.  `at` is naive UTC.

    For `section_changed`: `project_gid` is the project the sections belong to (None when the
    store could not tell), `section_gid`/`section_name` the section moved into and
    `old_section_gid`/`old_section_name` the one moved out of.  Completion stories carry only
    `kind` and `at`.
    """

    at: datetime
    kind: StoryKind
    project_gid: str | None = None
    section_gid: str | None = None
    section_name: str | None = None
    old_section_gid: str | None = None
    old_section_name: str | None = None


class SectionRef(NamedTuple):
    gid: str
    name: str


class Membership(NamedTuple):
    """The section a task is in within one project now (section None: not in any section)."""

    project_gid: str
    section_gid: str | None


@dataclass(frozen=True, slots=True)
class FlowTask:
    """One task of a project's set as flow sees it.  Timestamps are naive UTC.

    `memberships` are the task's project memberships now (a subtask has none); `events` its
    stories **oldest first** (as `store.stories.load_stories` returns them; `sort_events` puts
    a list in that order).  `moves` and `completions` are the same stories split by kind, made
    once here so that `compute_flow` reads only the few it needs.
    """

    gid: str
    name: str
    created_at: datetime
    completed: bool = False
    completed_at: datetime | None = None
    memberships: Sequence[Membership] = ()
    events: Sequence[FlowEvent] = ()
    moves: tuple[FlowEvent, ...] = field(init=False, repr=False, compare=False)
    completions: tuple[FlowEvent, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        moves = tuple(event for event in self.events if event[1] is _SECTION_CHANGED)
        completions = () if len(moves) == len(self.events) else tuple(
            event for event in self.events if event[1] is not _SECTION_CHANGED
        )
        object.__setattr__(self, "moves", moves)
        object.__setattr__(self, "completions", completions)


@dataclass(frozen=True, slots=True)
class FlowProject:
    """A project's sections (board order) and its task set (members plus subtasks, not deleted)."""

    gid: str
    name: str
    sections: Sequence[SectionRef]
    tasks: Sequence[FlowTask]


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """`[flow]`: started section names (case-insensitive), per-project overrides keyed by project
    gid or exact name, the window, and the time zone dates are taken in (`[kpi] timezone`)."""

    started_sections: Sequence[str] = DEFAULT_STARTED_SECTIONS
    project_started_sections: Mapping[str, Sequence[str]] = field(default_factory=dict)
    window_days: int = DEFAULT_WINDOW_DAYS
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"flow.window_days must be at least 1, got {self.window_days}")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def started_names(self, project_gid: str, project_name: str) -> frozenset[str]:
        """The casefolded started section names for a project (its override, else the default)."""
        names = self.project_started_sections.get(project_gid)
        if names is None:
            names = self.project_started_sections.get(project_name, self.started_sections)
        return frozenset(name.strip().casefold() for name in names)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Nearest-rank p50/p85/p95 of `n` values in days; all None (and `reason`) when n < 5."""

    p50: int | None
    p85: int | None
    p95: int | None
    n: int
    reason: str | None = None

    def to_json(self) -> JsonObject:
        return {"p50": self.p50, "p85": self.p85, "p95": self.p95, "n": self.n, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Percentiles:
        return cls(p50=data["p50"], p85=data["p85"], p95=data["p95"], n=data["n"], reason=data.get("reason"))


class WipItem(NamedTuple):
    """An open task in a started section on as_of, `age_days` = as_of − started_on + 1."""

    gid: str
    name: str
    section: str
    started_on: date
    age_days: int

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "section": self.section,
            "started_on": self.started_on.isoformat(),
            "age_days": self.age_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WipItem:
        return cls(data["gid"], data["name"], data["section"], date.fromisoformat(data["started_on"]), data["age_days"])


class CompletedItem(NamedTuple):
    """A task completed in the window, with its lead time and cycle time (None: never started)."""

    gid: str
    name: str
    completed_on: date
    lead_days: int
    cycle_days: int | None

    def to_json(self) -> JsonObject:
        return {
            "gid": self.gid,
            "name": self.name,
            "completed_on": self.completed_on.isoformat(),
            "lead_days": self.lead_days,
            "cycle_days": self.cycle_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompletedItem:
        return cls(
            data["gid"], data["name"], date.fromisoformat(data["completed_on"]), data["lead_days"], data["cycle_days"]
        )


@dataclass(frozen=True, slots=True)
class FlowKpis:
    """Flow of one project on `as_of`.  `to_json()` is the `flow` object of docs/kpis.md plus extra keys.

    `aging_tasks` are the aging WIP tasks, oldest first; `wip_tasks` every WIP task, oldest
    first (the aging chart); `completed` the tasks completed in the window, latest first (the
    cycle-time scatterplot).
    """

    as_of: date
    window_start: date
    started_sections: tuple[str, ...]
    wip: int
    aging: int | None
    lead_time: Percentiles
    cycle_time: Percentiles
    aging_tasks: tuple[WipItem, ...]
    wip_tasks: tuple[WipItem, ...]
    completed: tuple[CompletedItem, ...]

    def to_json(self, max_items: int | None = None) -> JsonObject:
        """`max_items` caps the lists (not the counts); None keeps them whole."""

        def cap(items: Sequence[Any]) -> list[JsonObject]:
            return [item.to_json() for item in (items if max_items is None else items[:max_items])]

        return {
            "wip": self.wip,
            "aging": self.aging,
            "lead_time": self.lead_time.to_json(),
            "cycle_time": self.cycle_time.to_json(),
            "aging_tasks": cap(self.aging_tasks),
            "as_of": self.as_of.isoformat(),
            "window": {"start": self.window_start.isoformat(), "end": self.as_of.isoformat()},
            "started_sections": list(self.started_sections),
            "wip_tasks": cap(self.wip_tasks),
            "completed_tasks": cap(self.completed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FlowKpis:
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            window_start=date.fromisoformat(data["window"]["start"]),
            started_sections=tuple(data["started_sections"]),
            wip=data["wip"],
            aging=data["aging"],
            lead_time=Percentiles.from_json(data["lead_time"]),
            cycle_time=Percentiles.from_json(data["cycle_time"]),
            aging_tasks=tuple(WipItem.from_json(item) for item in data["aging_tasks"]),
            wip_tasks=tuple(WipItem.from_json(item) for item in data["wip_tasks"]),
            completed=tuple(CompletedItem.from_json(item) for item in data["completed_tasks"]),
        )


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def sort_events(events: Iterable[FlowEvent]) -> tuple[FlowEvent, ...]:
    """Stories oldest first, the order `FlowTask.events` must have."""
    return tuple(sorted(events, key=_at))


class _Clock:
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


def nearest_rank(values: Sequence[int], percent: float) -> int:
    """The nearest-rank percentile of sorted `values`: the value at rank ⌈percent/100 · n⌉."""
    rank = max(1, math.ceil(percent / 100 * len(values)))
    return values[rank - 1]


def percentiles(values: Iterable[int], what: str) -> Percentiles:
    ordered = sorted(values)
    n = len(ordered)
    if n < MIN_VALUES:
        return Percentiles(
            None, None, None, n, f"only {n} {what} value{'' if n == 1 else 's'} in the window; {MIN_VALUES} needed"
        )
    return Percentiles(nearest_rank(ordered, 50), nearest_rank(ordered, 85), nearest_rank(ordered, 95), n)


# --------------------------------------------------------------------------------------------
# One task in one project
# --------------------------------------------------------------------------------------------


def _started_gids(project: FlowProject, names: frozenset[str]) -> frozenset[str]:
    return frozenset(s.gid for s in project.sections if s.name.strip().casefold() in names)


class _Board:
    """A project's sections and which of them are started."""

    __slots__ = ("gid", "names", "section_names", "started_gids", "state")

    def __init__(self, project: FlowProject, names: frozenset[str]) -> None:
        self.gid = project.gid
        self.names = names
        self.started_gids = _started_gids(project, names)
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


def _current_section(task: FlowTask, project_gid: str) -> str | None:
    for membership in task.memberships:
        if membership.project_gid == project_gid:
            return membership.section_gid
    return None


def _before(events: Sequence[FlowEvent], cutoff: datetime) -> int:
    """How many of `events` (oldest first) are before `cutoff`."""
    if not events or events[-1][0] < cutoff:
        return len(events)
    return bisect_left(events, cutoff, key=_at)


def _latest_move(moves: Sequence[FlowEvent], before: int, project_gid: str) -> FlowEvent | None:
    """The latest move in the project among `moves[:before]`, read backwards."""
    for i in range(before - 1, -1, -1):
        if moves[i][2] == project_gid:
            return moves[i]
    return None


def _first_moves(moves: Sequence[FlowEvent], before: int, board: _Board) -> tuple[FlowEvent | None, datetime | None]:
    """(first move in the project, time of the first move into a started section) among `moves[:before]`."""
    project_gid = board.gid
    state = board.state
    first: FlowEvent | None = None
    for i in range(before):
        event = moves[i]
        if event[2] != project_gid:
            continue
        if first is None:
            first = event
        started = state.get(event[3])
        if started or (started is None and board.started_by_name(event[4])):
            return first, event[0]
    return first, None


def _section_before_move(
    moves: Sequence[FlowEvent], start: int, task: FlowTask, project_gid: str
) -> tuple[str | None, str | None]:
    """The section the first move in the project at or after `start` left; without one, the task's section now."""
    for i in range(start, len(moves)):
        event = moves[i]
        if event[2] == project_gid:
            return event[5], event[6]
    return _current_section(task, project_gid), None


# --------------------------------------------------------------------------------------------
# The KPIs of one day
# --------------------------------------------------------------------------------------------


def compute_flow(project: FlowProject, as_of: date, settings: FlowSettings | None = None) -> FlowKpis | None:
    """Flow KPIs of a project on `as_of`, or None when none of its sections is a started section.

    Tasks created after as_of are left out; events after as_of are not seen (a past day is
    measured as it stood then).
    """
    settings = settings or FlowSettings()
    names = settings.started_names(project.gid, project.name)
    if not _started_gids(project, names):
        return None
    # See docs/kpis.md "Flow" for the rules below; each task's stories are read only as far as
    # each answer needs: the cutoff by bisection, its state backwards, its first start forwards.
    board = _Board(project, names)
    clock = _Clock(settings.timezone)
    cutoff = clock.end_of(as_of)
    window_start = as_of - timedelta(days=settings.window_days - 1)

    wip: list[WipItem] = []
    done: list[CompletedItem] = []
    project_gid = project.gid
    is_started = board.is_started
    state = board.state
    day: Callable[[datetime], date] = datetime.date if clock.utc else clock.day
    for task in project.tasks:
        created_at = task.created_at
        if created_at >= cutoff:
            continue
        # completed on as_of? The latest completion story before the cutoff decides (a reopening
        # undoes it; completed_at wins when it is a later time before the cutoff), else completed_at.
        completions = task.completions
        seen = len(completions) if not completions or completions[-1][0] < cutoff else _before(completions, cutoff)
        completed_at = task.completed_at
        completed_on: date | None = None
        if seen:
            completion = completions[seen - 1]
            if completion[1] is _MARKED_COMPLETE:
                later = completed_at is not None and completion[0] <= completed_at < cutoff
                completed_on = day(completed_at if later and completed_at is not None else completion[0])
        elif task.completed and completed_at is not None and completed_at < cutoff:
            completed_on = day(completed_at)
        if completed_on is not None and completed_on < window_start:
            continue

        # the section on as_of, the one before the first move, and the first start
        moves = task.moves
        # the moves before the cutoff are moves[:before]; the latest one is mostly this project's
        before = len(moves) if not moves or moves[-1][0] < cutoff else _before(moves, cutoff)
        if before and moves[before - 1][2] == project_gid:
            latest_move: FlowEvent | None = moves[before - 1]
        else:
            latest_move = _latest_move(moves, before, project_gid)
        if latest_move is not None:
            section: tuple[str | None, str | None] = (latest_move[3], latest_move[4])
            first_move, first_start = _first_moves(moves, before, board)
            initial = section if first_move is None else (first_move[5], first_move[6])
        else:
            section = _section_before_move(moves, before, task, project_gid)
            initial, first_start = section, None
        section_started = state.get(section[0])
        if section_started is None:
            section_started = board.started_by_name(section[1])
        if first_start is not None:
            started_on: date | None = day(first_start)
        elif section_started or is_started(*initial):
            started_on = day(created_at)  # in a started section since its creation
        else:
            started_on = None

        if completed_on is None:
            if section_started and started_on is not None:
                age = (as_of - started_on).days + 1
                wip.append(WipItem(task.gid, task.name, board.label(*section), started_on, age))
            continue
        lead = (completed_on - day(created_at)).days + 1
        cycle = None if started_on is None or started_on > completed_on else (completed_on - started_on).days + 1
        done.append(CompletedItem(task.gid, task.name, completed_on, lead, cycle))

    lead_time = percentiles((item.lead_days for item in done), "lead time")
    cycle_time = percentiles((item.cycle_days for item in done if item.cycle_days is not None), "cycle time")
    wip.sort(key=lambda item: (-item.age_days, item.name.casefold(), item.gid))
    done.sort(key=lambda item: (-item.completed_on.toordinal(), item.name.casefold(), item.gid))
    p85 = cycle_time.p85
    aging_tasks = () if p85 is None else tuple(item for item in wip if item.age_days > p85)
    return FlowKpis(
        as_of=as_of,
        window_start=window_start,
        started_sections=tuple(s.name for s in project.sections if s.gid in board.started_gids),
        wip=len(wip),
        aging=None if p85 is None else len(aging_tasks),
        lead_time=lead_time,
        cycle_time=cycle_time,
        aging_tasks=aging_tasks,
        wip_tasks=tuple(wip),
        completed=tuple(done),
    )


# --------------------------------------------------------------------------------------------
# Every day of a window: cumulative flow and throughput
# --------------------------------------------------------------------------------------------

_COMPLETED = -1
_NO_SECTION = -2


class FlowDay(NamedTuple):
    """One day at its end: open tasks per section (in `FlowHistory.sections` order), open tasks in
    no section of the project (subtasks), tasks completed so far, and tasks completed that day."""

    day: date
    sections: tuple[int, ...]
    no_section: int
    completed: int
    throughput: int

    def to_json(self) -> JsonObject:
        return {
            "day": self.day.isoformat(),
            "sections": list(self.sections),
            "no_section": self.no_section,
            "completed": self.completed,
            "throughput": self.throughput,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FlowDay:
        return cls(
            date.fromisoformat(data["day"]),
            tuple(data["sections"]),
            data["no_section"],
            data["completed"],
            data["throughput"],
        )


@dataclass(frozen=True, slots=True)
class FlowHistory:
    """The cumulative flow diagram and the throughput run chart of one project.

    `sections` are the columns: the project's sections in board order, then sections that only
    stories still name (deleted since); `started[i]` says whether column i is a started section.
    """

    sections: tuple[SectionRef, ...]
    started: tuple[bool, ...]
    days: tuple[FlowDay, ...]

    def to_json(self) -> JsonObject:
        return {
            "sections": [
                {"gid": ref.gid, "name": ref.name, "started": flag}
                for ref, flag in zip(self.sections, self.started, strict=True)
            ],
            "days": [day.to_json() for day in self.days],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FlowHistory:
        return cls(
            sections=tuple(SectionRef(item["gid"], item["name"]) for item in data["sections"]),
            started=tuple(bool(item["started"]) for item in data["sections"]),
            days=tuple(FlowDay.from_json(item) for item in data["days"]),
        )


class _Columns:
    """Column numbers of sections, by gid, adding sections only stories name."""

    def __init__(self, project: FlowProject) -> None:
        self.refs: list[SectionRef] = list(project.sections)
        self.index = {s.gid: i for i, s in enumerate(self.refs)}

    def of(self, gid: str | None, name: str | None) -> int:
        if gid is None:
            return _NO_SECTION
        found = self.index.get(gid)
        if found is None:
            found = self.index[gid] = len(self.refs)
            self.refs.append(SectionRef(gid, name or ""))
        return found


def _timeline(task: FlowTask, board: _Board, columns: _Columns, clock: _Clock) -> list[tuple[date, int]]:
    """(day, column at the end of that day) from the task's created day on, one entry per change."""
    project_gid = board.gid
    changes: list[tuple[datetime, int, FlowEvent | None]] = []
    completion_events = False
    for event in task.events:
        if event.kind is StoryKind.SECTION_CHANGED:
            if event.project_gid == project_gid:
                changes.append((event.at, 0, event))
        else:
            completion_events = True
            changes.append((event.at, 1, event))
    if not completion_events and task.completed and task.completed_at is not None:
        changes.append((task.completed_at, 1, FlowEvent(task.completed_at, StoryKind.MARKED_COMPLETE)))
    changes.sort(key=lambda change: (change[0], change[1]))

    moves = [event for _, kind, event in changes if kind == 0 and event is not None]
    if moves:
        section = columns.of(moves[0].old_section_gid, moves[0].old_section_name)
    else:
        section = columns.of(_current_section(task, project_gid), None)
    completions = [event for _, kind, event in changes if kind == 1 and event is not None]
    completed = bool(completions) and completions[0].kind is StoryKind.MARKED_INCOMPLETE

    created = clock.day(task.created_at)
    timeline = [(created, _COMPLETED if completed else section)]
    for at, _, change in changes:
        assert change is not None
        if change.kind is StoryKind.SECTION_CHANGED:
            section = columns.of(change.section_gid, change.section_name)
        else:
            completed = change.kind is StoryKind.MARKED_COMPLETE
        day = max(created, clock.day(at))
        state = _COMPLETED if completed else section
        if timeline[-1][0] == day:
            timeline[-1] = (day, state)
        else:
            timeline.append((day, state))
    return timeline


def daily_flow(project: FlowProject, start: date, end: date, settings: FlowSettings | None = None) -> FlowHistory:
    """Per day start … end (both included), the count per section and completed, and throughput.

    A task counts from its created day on, in the state it had at the end of each day (its
    stories replayed; without stories, its section now and its completion date).  Throughput
    of a day: tasks that went from open to completed that day (a task reopened and completed
    again counts again).
    """
    if end < start:
        raise ValueError(f"daily_flow: end {end} is before start {start}")
    settings = settings or FlowSettings()
    board = _Board(project, settings.started_names(project.gid, project.name))
    columns = _Columns(project)
    clock = _Clock(settings.timezone)
    length = (end - start).days + 1
    # difference arrays: +1 on the day a task enters a column, −1 on the day it leaves
    diffs: dict[int, list[int]] = {}
    throughput = [0] * length

    def add(column: int, first: int, last: int) -> None:
        """The task is in `column` on days first … last − 1 (offsets from start)."""
        first = max(first, 0)
        last = min(last, length)
        if first >= last:
            return
        row = diffs.get(column)
        if row is None:
            row = diffs[column] = [0] * (length + 1)
        row[first] += 1
        row[last] -= 1

    for task in project.tasks:
        timeline = _timeline(task, board, columns, clock)
        previous = None
        for i, (day, column) in enumerate(timeline):
            offset = (day - start).days
            following = (timeline[i + 1][0] - start).days if i + 1 < len(timeline) else length
            add(column, offset, following)
            if column == _COMPLETED and previous != _COMPLETED and 0 <= offset < length:
                throughput[offset] += 1
            previous = column

    def running(column: int) -> list[int]:
        row = diffs.get(column)
        if row is None:
            return [0] * length
        out: list[int] = []
        total = 0
        for change in row[:length]:
            total += change
            out.append(total)
        return out

    per_section = [running(i) for i in range(len(columns.refs))]
    no_section = running(_NO_SECTION)
    completed = running(_COMPLETED)
    days = tuple(
        FlowDay(
            start + timedelta(days=n),
            tuple(counts[n] for counts in per_section),
            no_section[n],
            completed[n],
            throughput[n],
        )
        for n in range(length)
    )
    refs = tuple(columns.refs)
    return FlowHistory(sections=refs, started=tuple(board.is_started(s.gid, s.name) for s in refs), days=days)
