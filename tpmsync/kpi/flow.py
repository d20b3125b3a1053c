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

`compute_flow` gives the KPIs of one day (`model.flow.FlowKpis`); `flow_daily.daily_flow` gives,
for every day of a window, the count per section and completed (cumulative flow) and the
completions of the day (throughput).  The inputs are in `model.inputs`, the board and the clock
both read in `flow_board`.  Choices are written down in docs/kpis.md, "Flow".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

from tpmsync.kpi.flow_board import Board, Clock, current_section, started_gids
from tpmsync.kpi.forecast import nearest_rank
from tpmsync.kpi.model.flow import CompletedItem, FlowKpis, Percentiles, WipItem
from tpmsync.kpi.model.inputs import FlowEvent, FlowProject, FlowTask, StoryKind

DEFAULT_STARTED_SECTIONS = ("In progress", "Doing", "In review", "Review", "QA", "Testing")
DEFAULT_WINDOW_DAYS = 42
MIN_VALUES = 5
"""Fewer lead or cycle times than this give no percentiles (None and a reason)."""

_MARKED_COMPLETE = StoryKind.MARKED_COMPLETE
_at = itemgetter(0)


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


def _first_moves(moves: Sequence[FlowEvent], before: int, board: Board) -> tuple[FlowEvent | None, datetime | None]:
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
    return current_section(task, project_gid), None


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
    if not started_gids(project, names):
        return None
    # See docs/kpis.md "Flow" for the rules below; each task's stories are read only as far as
    # each answer needs: the cutoff by bisection, its state backwards, its first start forwards.
    board = Board(project, names)
    clock = Clock(settings.timezone)
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
