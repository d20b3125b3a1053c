"""How many of the open tasks will be done by a date, from the throughput Monte Carlo.

The trials are those of the finish-date forecast (`forecast.compute_forecast`): the same 42
daily counts, the same seed, the same horizon and the same draws, so trial i has done every
open task by `by` exactly when it finishes by `by`.  A trial's count is the tasks completed on
the days as_of + 1 … by, capped at the open tasks.  `p85` is the count reached in at least 85 %
of the trials: with the counts sorted ascending, the one at position n − ⌈0.85·n⌉ (and likewise
for `p50`), so p85 ≤ p50 ≤ open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from tpmsync.kpi.forecast import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    HORIZON_DAYS,
    MIN_DAYS_WITH_COMPLETIONS,
    THROUGHPUT_WINDOW_DAYS,
    daily_throughput,
    simulate_trials,
)
from tpmsync.kpi.forecast_detail import HowMany
from tpmsync.kpi.model.inputs import TaskInput

HOW_MANY_DAYS = 14
"""The default date is as_of + 14 days."""


def reached_in(sorted_counts: Sequence[int], percent: int) -> int:
    """The largest count that at least `percent` % of the trials reach (counts sorted ascending)."""
    trials = len(sorted_counts)
    return sorted_counts[trials - -(-percent * trials // 100)]


def compute_how_many(
    tasks: Sequence[TaskInput],
    as_of: date,
    due_on: date | None,
    by: date | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> HowMany:
    """How many open tasks of the set are done by `by` (default as_of + 14 days).

    `due_on` is the project's due date: it sets the horizon as in `compute_forecast`, which keeps
    the draws of both the same.
    """
    if trials < 1:
        raise ValueError(f"a forecast needs at least one trial, got {trials}")
    when = by if by is not None else as_of + timedelta(days=HOW_MANY_DAYS)
    if when < as_of:
        raise ValueError(f"the date to count by ({when.isoformat()}) is before as_of ({as_of.isoformat()})")
    remaining = sum(1 for task in tasks if not task.completed)
    if remaining == 0:
        return HowMany(by=when, p50=0, p85=0, open=0, trials=0)
    counts = daily_throughput(tasks, as_of)
    active_days = sum(1 for count in counts if count)
    if active_days < MIN_DAYS_WITH_COMPLETIONS:
        window_start = as_of - timedelta(days=THROUGHPUT_WINDOW_DAYS - 1)
        why = (
            f"only {active_days} day(s) with completed tasks between {window_start.isoformat()} and "
            f"{as_of.isoformat()}; a forecast needs at least {MIN_DAYS_WITH_COMPLETIONS}"
        )
        return HowMany(by=when, p50=None, p85=None, open=remaining, trials=0, reason=why)
    by_day = (when - as_of).days
    horizon = HORIZON_DAYS
    if due_on is not None:
        horizon = max(horizon, (due_on - as_of).days)
    horizon = max(horizon, by_day)
    _, done_by = simulate_trials(counts, remaining, trials=trials, seed=seed, horizon=horizon, by_day=by_day)
    return HowMany(
        by=when,
        p50=reached_in(done_by, 50),
        p85=reached_in(done_by, 85),
        open=remaining,
        trials=trials,
    )
