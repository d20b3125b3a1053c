"""Sync history → the dated changes `kpi_inputs` needs: due and start date moves, and completions.

A task's due date is one value kept in two fields (`due_at` when set, else `due_on`), and a sync
records only the fields that changed. So a change is read with both fields as they stood at that
moment: a field the sync did not record then held its value from its nearest recorded change (the
new value of the one before, else the old value of the one after), else the value the task has
now. Clearing `due_at` while `due_on` keeps the same day is then no move at all, and setting a time
on a date is a move only when the time falls on another day in the configured zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tpmsync.kpi.model.inputs import DueChange
from tpmsync.store.models import TaskHistory

DayOf = Callable[[datetime | None], "date | None"]
"""Naive UTC → the date in the configured zone."""

Pair = tuple["date | None", "datetime | None"]
"""A task's current (`…_on`, `…_at`)."""

NO_PAIR: Pair = (None, None)

_Change = tuple[str | None, str | None]  # (old, new) as the history keeps them, text


def date_history(
    session: Session, day_of: DayOf, name: str, current: Callable[[str], Pair]
) -> dict[str, tuple[DueChange, ...]]:
    """Changes of the task's due (`name` "due") or start ("start") date, per task, oldest first, as
    dates in the configured zone; `current(gid)` is a task's (`…_on`, `…_at`) now, asked only
    for the tasks with history."""
    on_field, at_field = f"{name}_on", f"{name}_at"
    query = (
        select(
            TaskHistory.task_gid,
            TaskHistory.field,
            TaskHistory.old_value,
            TaskHistory.new_value,
            TaskHistory.observed_at,
        )
        .where(TaskHistory.field.in_((on_field, at_field)))
        .order_by(TaskHistory.observed_at, TaskHistory.id)
    )
    observed: dict[str, dict[datetime, dict[str, _Change]]] = defaultdict(dict)
    for task_gid, field, old, new, at in session.execute(query):
        moment = observed[task_gid].setdefault(at, {})
        # two records of one field at one moment (not written by sync): first old, last new
        moment[field] = (moment[field][0], new) if field in moment else (old, new)
    out: dict[str, tuple[DueChange, ...]] = {}
    for task_gid, moments in observed.items():
        now_on, now_at = current(task_gid)
        on_now = now_on.isoformat() if now_on is not None else None
        at_now = now_at.isoformat() if now_at is not None else None
        stamps = sorted(moments)
        filled = {
            field: _filled([moments[s].get(field) for s in stamps], now)
            for field, now in ((on_field, on_now), (at_field, at_now))
        }
        changes: list[DueChange] = []
        for i, stamp in enumerate(stamps):
            (old_on, new_on), (old_at, new_at) = filled[on_field][i], filled[at_field][i]
            change = DueChange(
                observed_on=day_of(stamp) or stamp.date(),
                old_due=_day(old_at, day_of) or _day(old_on, day_of),
                new_due=_day(new_at, day_of) or _day(new_on, day_of),
            )
            if change.old_due == change.new_due or (changes and changes[-1] == change):
                continue
            changes.append(change)
        if changes:
            out[task_gid] = tuple(changes)
    return out


def _filled(recorded: Sequence[_Change | None], now: str | None) -> list[_Change]:
    """Each moment's (old, new) of one field: as recorded, or, where the field was not recorded,
    its value then, held on both sides."""
    out: list[_Change] = []
    for i, change in enumerate(recorded):
        if change is not None:
            out.append(change)
            continue
        earlier = [c for c in recorded[:i] if c is not None]
        later = [c for c in recorded[i + 1 :] if c is not None]
        value = earlier[-1][1] if earlier else later[0][0] if later else now
        out.append((value, value))
    return out


def _day(value: str | None, day_of: DayOf) -> date | None:
    if not value:
        return None
    if "T" in value:
        return day_of(datetime.fromisoformat(value))
    return date.fromisoformat(value)


Completion = tuple[datetime, datetime | None, datetime | None]
"""A `completed_at` change sync saw: (observed at, value before, value after), naive UTC."""


def completion_history(session: Session) -> dict[str, list[Completion]]:
    """Per task, oldest first: the `completed_at` changes sync saw."""
    query = (
        select(TaskHistory.task_gid, TaskHistory.observed_at, TaskHistory.old_value, TaskHistory.new_value)
        .where(TaskHistory.field == "completed_at")
        .order_by(TaskHistory.observed_at, TaskHistory.id)
    )
    out: dict[str, list[Completion]] = defaultdict(list)
    for task_gid, observed, old, new in session.execute(query):
        out[task_gid].append((observed, _moment(old), _moment(new)))
    return out


def completion_then(changes: Sequence[Completion], cutoff: datetime, now: datetime | None) -> datetime | None:
    """`completed_at` as it stood at `cutoff`: the value before the first change seen after it, unless
    a value seen later is a completion stamped by then (it happened before sync saw it)."""
    later = [change for change in changes if change[0] > cutoff]
    if not later:
        return now
    value = later[0][1]
    for _observed, _old, new in later:
        if new is not None and new <= cutoff:
            value = new
    return value


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
