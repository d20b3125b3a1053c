"""A deterministic story history for a generated workspace, and one overloaded person.

`add_history` gives every task the stories Asana would have recorded while it moved across its
project's board ("Backlog" → "In progress" → "Review" → "Done") during the last weeks, consistent
with what the generator already decided: a completed task reaches "Done" when it was completed, an
open task in "Review" went through "In progress" first, an open task's time in its section is its
age (work started weeks ago is more common in some projects than in others).  Some tasks
completed since were created straight into "In progress" (no story moved them there), some went
back from "In progress" to "Backlog", some were completed and reopened, tasks shared with a second
project were added to it later, and one task bounced between "In progress" and "Review" so often
that its stories take two pages.

`add_overload` reassigns open, already assigned tasks so that one person carries far more
estimated work in the next two weeks than a week of 32 hours allows, across projects, including
every task on the critical path of the first two projects.

Both draw from their own random generators, so the tasks' fields, gids and every other generated
value stay as they were without them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tpmsync.sandbox.model import Task
from tpmsync.sandbox.workspace import Workspace

AGING_SHARE = (0.04, 0.12, 0.3)  # by project, in turn: how much open work started weeks ago
BOUNCING_ROUND_TRIPS = 55  # 1 + 2 × 55 = 111 stories: more than one page of 100
OVERLOAD_HOURS = 128.0  # twice 32 hours a week over 14 days
OVERLOAD_HORIZON_DAYS = 14
_EPSILON = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Board:
    """A project's sections by role, for a project whose sections look like a board."""

    backlog: str
    doing: str
    review: str
    done: str


@dataclass(slots=True)
class _Moves:
    """Stories of one task before they are recorded: (time, subtype, story arguments)."""

    items: list[tuple[datetime, str, dict[str, Any]]]

    def add(self, at: datetime, subtype: str, **refs: Any) -> None:
        self.items.append((at, subtype, refs))


def add_history(ws: Workspace, *, seed: int, today: date) -> None:
    """Record the story history of every generated task (no events, no ``modified_at`` change)."""
    rng = random.Random(f"history:{seed}")
    latest = datetime.combine(today, time(), UTC) - timedelta(seconds=1)
    moves: dict[str, _Moves] = {}
    bounce_done = False
    for index, project in enumerate(list(ws.projects.values())):
        board = _board(ws, project.section_gids)
        aging = AGING_SHARE[index % len(AGING_SHARE)]
        for gid in ws.project_member_gids(project.gid):
            task = ws.tasks[gid]
            entered = task.created_at
            first = task.memberships[0].project_gid == project.gid
            story_list = moves.setdefault(gid, _Moves([]))
            if not first:
                end = task.completed_at or latest
                entered = _between(rng, task.created_at, min(end, task.created_at + timedelta(days=10)))
                story_list.add(entered, "added_to_project", project_gid=project.gid)
            if board is None:
                continue
            section = next(m.section_gid for m in task.memberships if m.project_gid == project.gid)
            if not bounce_done and first and section == board.doing and latest - entered > timedelta(days=30):
                _bounce(story_list, board, entered, latest)
                bounce_done = True
                continue
            _walk(rng, story_list, board, section, task, entered, latest, first, aging)
    for task in ws.tasks.values():
        story_list = moves.setdefault(task.gid, _Moves([]))
        if task.completed_at is not None:
            story_list.add(task.completed_at, "marked_complete", by=task.completed_by_gid)
        elif rng.random() < 0.04 and latest - task.created_at > timedelta(days=6):
            done = _between(rng, task.created_at + timedelta(days=1), latest - timedelta(days=3))
            story_list.add(done, "marked_complete")
            story_list.add(_between(rng, done + _EPSILON, latest), "marked_incomplete")
    with ws.lock:
        for gid in sorted(moves, key=int):
            items = moves[gid].items
            if not items:
                continue
            fallback = ws.tasks[gid].assignee_gid or ws.me_gid or None
            items.sort(key=lambda item: item[0])
            for at, subtype, refs in items:
                by = refs.pop("by", None) or fallback
                ws.insert_story(gid, subtype, at, created_by_gid=by, **refs)


def _board(ws: Workspace, section_gids: list[str]) -> _Board | None:
    names = {ws.sections[g].name.casefold(): g for g in section_gids}
    wanted = ("backlog", "in progress", "review", "done")
    if not all(name in names for name in wanted):
        return None
    return _Board(*(names[name] for name in wanted))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment in [start, end] (``start`` when the range is empty), whole milliseconds."""
    if end <= start:
        return start
    span_ms = int((end - start) / timedelta(milliseconds=1))
    return start + timedelta(milliseconds=rng.randint(0, span_ms))


def _age_days(rng: random.Random, aging: float) -> float:
    """How long ago work started: mostly days, for a share ``aging`` weeks (the aging work)."""
    if rng.random() < aging:
        return rng.uniform(15, 40)
    return rng.uniform(0.5, 10)


def _walk(rng: random.Random, moves: _Moves, board: _Board, section: str | None, task: Task,
          entered: datetime, latest: datetime, first: bool, aging: float) -> None:
    """The section moves that bring a task from "Backlog" (or straight from "In progress") to
    ``section`` by now, or by its completion for a task in "Done".  A tenth of the completed
    tasks were created straight into "In progress", and a few open ones in projects with much
    aging work (in progress since their creation, weeks ago)."""
    direct = first and rng.random() < (0.1 if section == board.done else aging / 3)
    start_section = board.doing if direct else board.backlog
    if section == board.done:
        end = task.completed_at or latest
        cycle = timedelta(days=rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 14, 21)) * rng.uniform(0.5, 1.0))
        started = entered if direct else max(entered + _EPSILON, end - cycle)
        path = [board.doing, board.review, board.done] if rng.random() < 0.8 else [board.doing, board.done]
        _path(moves, start_section, path, started, end, direct)
    elif section in (board.doing, board.review):
        started = entered if direct else max(entered + _EPSILON, latest - timedelta(days=_age_days(rng, aging)))
        path = [board.doing] if section == board.doing else [board.doing, board.review]
        end = _between(rng, started, latest) if section == board.review else started
        _path(moves, start_section, path, started, end, direct)
    elif section == board.backlog and not direct and rng.random() < 0.12:
        went = _between(rng, entered + _EPSILON, latest - timedelta(days=2))
        back = _between(rng, went + _EPSILON, latest)
        moves.add(went, "section_changed", old_section_gid=board.backlog, new_section_gid=board.doing)
        moves.add(back, "section_changed", old_section_gid=board.doing, new_section_gid=board.backlog)


def _path(moves: _Moves, start_section: str, path: list[str], started: datetime, end: datetime,
          direct: bool) -> None:
    """Moves along ``path`` from ``start_section``: the first at ``started``, the last at ``end``,
    the ones between spread in between.  A task created in ``path[0]`` skips that first move."""
    times = _spread(started, end, len(path))
    previous = start_section
    for at, target in zip(times, path, strict=True):
        if direct and target == start_section:
            continue
        moves.add(at, "section_changed", old_section_gid=previous, new_section_gid=target)
        previous = target


def _spread(start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` increasing moments from ``start`` to ``end`` (equal steps, at least a second)."""
    if count == 1:
        return [start]
    step = max((end - start) / (count - 1), timedelta(seconds=1))
    return [start + step * i for i in range(count)]


def _bounce(moves: _Moves, board: _Board, entered: datetime, latest: datetime) -> None:
    """A task that went back and forth between "In progress" and "Review" all month."""
    times = _spread(entered + _EPSILON, latest - timedelta(hours=1), 1 + 2 * BOUNCING_ROUND_TRIPS)
    moves.add(times[0], "section_changed", old_section_gid=board.backlog, new_section_gid=board.doing)
    for i in range(BOUNCING_ROUND_TRIPS):
        moves.add(times[1 + 2 * i], "section_changed", old_section_gid=board.doing, new_section_gid=board.review)
        moves.add(times[2 + 2 * i], "section_changed", old_section_gid=board.review, new_section_gid=board.doing)


# ---------------------------------------------------------------------------- one overloaded person

def add_overload(ws: Workspace, *, seed: int, today: date, estimate_field: str) -> str | None:
    """Make one person overloaded across projects and the owner of critical-path work; returns
    their gid (``None`` when the workspace is too small for it).  Only open tasks that already
    have an assignee change hands, so unassigned counts stay as generated."""
    users = list(ws.users)
    projects = list(ws.projects)
    if len(users) < 3 or len(projects) < 2:
        return None
    rng = random.Random(f"overload:{seed}")
    person = users[1]
    for project in projects[:2]:
        for gid in critical_path_gids(ws, project, today):
            _give(ws, gid, person)
    horizon_end = today + timedelta(days=OVERLOAD_HORIZON_DAYS - 1)
    candidates = sorted(
        (t for t in ws.tasks.values()
         if not t.completed and t.assignee_gid is not None and t.memberships
         and isinstance(t.custom_values.get(estimate_field), float)
         and (due := _due(t)) is not None and due <= horizon_end),
        key=lambda t: int(t.gid),
    )
    rng.shuffle(candidates)
    load = sum(_estimate(t, estimate_field) for t in candidates if t.assignee_gid == person)
    for task in candidates:
        if load >= OVERLOAD_HOURS:
            break
        if task.assignee_gid != person:
            _give(ws, task.gid, person)
            load += _estimate(task, estimate_field)
    return person


def _give(ws: Workspace, gid: str, person: str) -> None:
    task = ws.tasks[gid]
    if task.assignee_gid is not None and not task.completed:
        task.assignee_gid = person


def _estimate(task: Task, field: str) -> float:
    value = task.custom_values.get(field)
    return value if isinstance(value, float) else 0.0


def _due(task: Task) -> date | None:
    return task.due_at.astimezone(UTC).date() if task.due_at is not None else task.due_on


def critical_path_gids(ws: Workspace, project_gid: str, today: date) -> set[str]:
    """Open tasks of the project's task set with no float: on a longest path (in planned days,
    ``due − start + 1`` or 1) through the dependencies between its open tasks."""
    open_gids = sorted((g for g in ws.project_task_gids(project_gid) if not ws.tasks[g].completed), key=int)
    days = {g: _days(ws.tasks[g]) for g in open_gids}
    preds = {g: [d for d in ws.tasks[g].dependency_gids if d in days] for g in open_gids}
    order = _topological(open_gids, preds)
    finish: dict[str, int] = {}
    for g in order:
        finish[g] = max((finish[p] for p in preds[g]), default=0) + days[g]
    if not finish:
        return set()
    length = max(finish.values())
    succs: dict[str, list[str]] = {g: [] for g in order}
    for g in order:
        for p in preds[g]:
            succs[p].append(g)
    late_finish: dict[str, int] = {}
    for g in reversed(order):
        late_finish[g] = min((late_finish[s] - days[s] for s in succs[g]), default=length)
    return {g for g in order if late_finish[g] == finish[g]}


def _days(task: Task) -> int:
    due = _due(task)
    if due is not None and task.start_on is not None and due >= task.start_on:
        return (due - task.start_on).days + 1
    return 1


def _topological(nodes: Iterable[str], preds: dict[str, list[str]]) -> list[str]:
    """Kahn's order; nodes in or behind a cycle are left out (the generator makes none)."""
    indegree = {g: len(p) for g, p in preds.items()}
    succs: dict[str, list[str]] = {g: [] for g in preds}
    for g, ps in preds.items():
        for p in ps:
            succs[p].append(g)
    ready = [g for g in nodes if indegree[g] == 0]
    order: list[str] = []
    while ready:
        g = ready.pop()
        order.append(g)
        for s in succs[g]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    return order
