"""What a milestone forecast draws each open task's duration from, and the draws themselves.

Each trial draws every open task's remaining duration from the history of the project it belongs
to (the forecast project for its own tasks, `project_gid` for the others; a project with no
usable history of its own lends the forecast project's):

- "cycle_time": with at least 5 cycle times (flow history), a duration is one of them, drawn
  uniformly;
- "span_ratio": else, with at least 5 tasks completed in the last 180 days that had a start
  and a due date (due ≥ start) and were completed on or after their start, a duration is the
  task's planned span — (due − start) + 1 days, or 1 day, as on the critical path — times one
  of their ratios actual span / planned span (actual span = completed − start + 1), rounded
  up, at least 1 day;
- otherwise the history is thin and the milestone's forecast is refused with a reason.

Milestones themselves are markers: they keep their planned span in every trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tpmsync.kpi.dependencies import task_days
from tpmsync.kpi.model.inputs import TaskInput

MIN_HISTORY = 5
"""Cycle times, or completed tasks with a planned and an actual span, that a basis needs."""
HISTORY_DAYS = 180
"""Span ratios come from tasks completed on as_of − 179 … as_of."""

CYCLE_TIME = "cycle_time"
SPAN_RATIO = "span_ratio"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DurationHistory:
    """A project's own history that task durations are drawn from (see the module docstring)."""

    cycle_times: tuple[int, ...] = ()
    span_ratios: tuple[float, ...] = ()

    @property
    def basis(self) -> str | None:
        if len(self.cycle_times) >= MIN_HISTORY:
            return CYCLE_TIME
        if len(self.span_ratios) >= MIN_HISTORY:
            return SPAN_RATIO
        return None

    def thin_reason(self, project_name: str) -> str:
        return (
            f"{project_name} has {len(self.cycle_times)} cycle time(s) and {len(self.span_ratios)} task(s) completed "
            f"in the last {HISTORY_DAYS} days with a start and a due date; a milestone forecast needs "
            f"{MIN_HISTORY} of either"
        )


def span_ratios(tasks: Sequence[TaskInput], as_of: date) -> tuple[float, ...]:
    """Actual span / planned span of the tasks completed on as_of − 179 … as_of that had both."""
    first = as_of - timedelta(days=HISTORY_DAYS - 1)
    ratios: list[float] = []
    for task in tasks:
        done, start, due = task.completed_on, task.start, task.due
        if not task.completed or done is None or start is None or due is None:
            continue
        if first <= done <= as_of and due >= start and done >= start:
            ratios.append(((done - start).days + 1) / ((due - start).days + 1))
    return tuple(ratios)


def duration_history(tasks: Sequence[TaskInput], as_of: date, cycle_times: Sequence[int] = ()) -> DurationHistory:
    """A project's history from its task set and its flow cycle times (days; empty without flow)."""
    cycles = tuple(int(days) for days in cycle_times)
    if any(days < 1 for days in cycles):
        raise ValueError("cycle times are whole days ≥ 1")
    return DurationHistory(cycle_times=cycles, span_ratios=span_ratios(tasks, as_of))


class Durations(NamedTuple):
    """Who draws from what: `tables[k]` are the durations class k draws from (uniformly)."""

    tables: list[npt.NDArray[np.int32]]
    members: list[IntArray]
    """The nodes of each class."""
    longest: IntArray
    """Each node's longest possible duration."""


def duration_classes(
    tasks: Sequence[TaskInput], home: str, own_gids: set[str], histories: Mapping[str, DurationHistory]
) -> Durations:
    """Nodes (`tasks` in node order) grouped by what they draw from: their project's history and,
    for span ratios, their planned span.

    Milestones keep their planned span (a table of one value).  A project without a usable
    history of its own draws from the home project's.
    """
    home_history = histories.get(home, DurationHistory())
    classes: dict[tuple[str, str, int], list[int]] = {}
    tables: dict[tuple[str, str, int], tuple[int, ...]] = {}
    lenders: dict[str | None, tuple[str, DurationHistory, str | None]] = {}  # project → whose history, basis
    for node, task in enumerate(tasks):
        planned = task_days(task)
        owner = home if task.gid in own_gids else task.project_gid
        if owner not in lenders:
            history = histories.get(owner, DurationHistory()) if owner is not None else DurationHistory()
            lender = (owner, history) if owner is not None and history.basis is not None else (home, home_history)
            lenders[owner] = (*lender, lender[1].basis)
        project, history, basis = lenders[owner]
        if task.is_milestone:
            key = ("", "fixed", planned)
        elif basis == CYCLE_TIME:
            key = (project, CYCLE_TIME, 0)
        else:
            key = (project, SPAN_RATIO, planned)
        if key not in tables:
            if key[1] == CYCLE_TIME:
                tables[key] = history.cycle_times
            elif key[1] == SPAN_RATIO:
                tables[key] = tuple(max(1, math.ceil(planned * ratio)) for ratio in history.span_ratios)
            else:
                tables[key] = (planned,)
        classes.setdefault(key, []).append(node)
    order = sorted(classes)
    longest = np.zeros(len(tasks), np.int64)
    for key in order:
        longest[classes[key]] = max(tables[key])
    return Durations(
        tables=[np.array(tables[key], np.int32) for key in order],
        members=[np.array(classes[key], np.int64) for key in order],
        longest=longest,
    )


_REJECT = 255


def _draw_small(table: npt.NDArray[np.int32], size: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """`size` values drawn uniformly from `table` (at most 255 values, each below 255).

    Random bytes (straight from the bit generator, 6× faster than `Generator.bytes`) go through
    one `bytes.translate` that both drops the bytes b ≥ usable = ⌊256/k⌋·k (rejection sampling)
    and turns every other b into table[b mod k], so every value is equally likely: one C pass per
    byte instead of an index array and a lookup.
    """
    k = len(table)
    usable = (256 // k) * k
    translation = bytes(int(table[b % k]) if b < usable else _REJECT for b in range(256))
    rejected = bytes(range(usable, 256))
    pieces: list[bytes] = []
    missing = size
    while missing > 0:
        words = (missing + missing * (256 - usable) // usable) // 8 + 8
        piece = rng.bit_generator.random_raw(words).tobytes().translate(translation, rejected)
        pieces.append(piece)
        missing -= len(piece)
    return np.frombuffer(pieces[0] if len(pieces) == 1 else b"".join(pieces), np.uint8, count=size)


def draw(durations: Durations, drawn: npt.NDArray[Any], rng: np.random.Generator) -> npt.NDArray[Any]:
    """One block's durations into `drawn`, a row per node; a class of one value draws nothing."""
    width = drawn.shape[1]
    for table, nodes in zip(durations.tables, durations.members, strict=True):
        shape = (len(nodes), width)
        if len(table) == 1:
            drawn[nodes] = table[0]
        elif len(table) < 256 and table.max() < _REJECT:
            drawn[nodes] = _draw_small(table, shape[0] * shape[1], rng).reshape(shape)
        else:
            drawn[nodes] = table[rng.integers(0, len(table), shape)]
    return drawn
