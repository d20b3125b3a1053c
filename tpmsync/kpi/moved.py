"""Why the p85 date moved: the change since an earlier forecast split into scope, progress and pace.

The throughput forecast has three inputs: the open tasks, the day it starts from, and the 42
daily completion counts.  Between an earlier state and now the forecast is re-run with one
input changed at a time, in this order, with the same seed and trials:

1. scope: the open count plus the tasks added (open now, not open then: new or reopened) minus
   the tasks removed (open then, now neither open nor completed: deleted or moved out);
2. progress: the open count of now (the tasks completed since are gone) and today's date as
   the start (a week without completions moves the date a week later);
3. pace: today's throughput counts — which gives today's forecast.

Each part is the difference of the p85 dates of two consecutive runs, so the three sum to the
change exactly.  There is no split (None) when any of the four runs has no p85 date (too few
days with completions, or beyond the horizon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from tpmsync.kpi.forecast import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    HORIZON_DAYS,
    MIN_DAYS_WITH_COMPLETIONS,
    daily_throughput,
    nearest_rank,
    simulate_finish_days,
)
from tpmsync.kpi.forecast_detail import Moved
from tpmsync.kpi.model.inputs import TaskInput


@dataclass(frozen=True, slots=True)
class ForecastState:
    """What the throughput forecast of one day depended on."""

    as_of: date
    open_gids: frozenset[str]
    completed_gids: frozenset[str]
    throughput: tuple[int, ...]
    """Tasks completed on each of the 42 days ending on as_of (as `forecast.daily_throughput`)."""


def forecast_state(tasks: Sequence[TaskInput], as_of: date) -> ForecastState:
    """The state of a project's task set on `as_of`."""
    return ForecastState(
        as_of=as_of,
        open_gids=frozenset(task.gid for task in tasks if not task.completed),
        completed_gids=frozenset(task.gid for task in tasks if task.completed),
        throughput=tuple(daily_throughput(tasks, as_of)),
    )


def _p85(start: date, throughput: Sequence[int], remaining: int, trials: int, seed: int) -> date | None:
    if remaining <= 0:
        return start
    if sum(1 for count in throughput if count) < MIN_DAYS_WITH_COMPLETIONS:
        return None
    days = _p85_days(tuple(throughput), remaining, trials, seed)
    return None if days > HORIZON_DAYS else start + timedelta(days=days)


@lru_cache(maxsize=4096)
def _p85_days(throughput: tuple[int, ...], remaining: int, trials: int, seed: int) -> int:
    """The p85 of the finish days; the same inputs and seed give the same draws, so a report that
    explains many moves (and the refresh that explains them again) simulates each distinct run once."""
    return nearest_rank(simulate_finish_days(throughput, remaining, trials=trials, seed=seed), 85)


def explain_move(
    before: ForecastState,
    after: ForecastState,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> Moved | None:
    """The p85 change from `before` to `after`, split as the module docstring says."""
    added = after.open_gids - before.open_gids
    completed = before.open_gids & after.completed_gids
    removed = before.open_gids - after.open_gids - after.completed_gids
    scoped = len(before.open_gids) + len(added) - len(removed)
    now = len(after.open_gids)
    start = _p85(before.as_of, before.throughput, len(before.open_gids), trials, seed)
    with_scope = _p85(before.as_of, before.throughput, scoped, trials, seed)
    with_progress = _p85(after.as_of, before.throughput, now, trials, seed)
    end = _p85(after.as_of, after.throughput, now, trials, seed)
    if start is None or with_scope is None or with_progress is None or end is None:
        return None
    return Moved(
        since=before.as_of,
        p85_before=start,
        p85_after=end,
        p85_change_days=(end - start).days,
        scope_days=(with_scope - start).days,
        progress_days=(with_progress - with_scope).days,
        pace_days=(end - with_progress).days,
        tasks_added=len(added),
        tasks_removed=len(removed),
        tasks_completed=len(completed),
        throughput_before=sum(before.throughput),
        throughput_after=sum(after.throughput),
    )
