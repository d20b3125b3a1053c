"""Every day of a window: the cumulative flow diagram and the throughput run chart of a project.

`daily_flow` replays each task's stories (docs/kpis.md "Flow") into a `model.flow.FlowHistory`:
for every day, the open tasks per section, those in no section, the completed ones and the
completions of the day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tpmsync.kpi.flow import FlowSettings
from tpmsync.kpi.flow_board import Board, Clock, current_section
from tpmsync.kpi.model.flow import FlowDay, FlowHistory
from tpmsync.kpi.model.inputs import FlowEvent, FlowProject, FlowTask, SectionRef, StoryKind

_COMPLETED = -1
_NO_SECTION = -2


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


def _timeline(task: FlowTask, board: Board, columns: _Columns, clock: Clock) -> list[tuple[date, int]]:
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
        section = columns.of(current_section(task, project_gid), None)
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
    board = Board(project, settings.started_names(project.gid, project.name))
    columns = _Columns(project)
    clock = Clock(settings.timezone)
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
