"""Monte Carlo finish-date forecast from daily completed-task throughput.

Throughput is the number of tasks of the project's set completed on each of the 42 days
as_of − 41 … as_of, zero days included.  Each trial draws one of those 42 days, uniformly and
with replacement, for every day after as_of and subtracts its count from the open tasks until
none remain; the trial's finish date is the day that happens.  p50/p85/p95 are nearest-rank
percentiles of the finish dates over `trials` trials (the dates by which that share of trials
finished), `probability_on_time` the share finishing on or before the project's due date.

How it stays fast without numpy: a trial's days are drawn in blocks straight from the random
bit stream.  `Random.getrandbits(8·k)` gives k random bytes; `bytes.translate` maps each byte
b < 252 to sample b mod 42 (252 = 6·42, so every sample is equally likely) and bytes ≥ 252 to a
reject marker that `bytes.replace` removes.  When every daily count is below 255 the translation
yields the counts themselves, so `sum()` of a block is one C call; only the block in which the
trial finishes is walked with `itertools.accumulate` and `bisect` to find the exact day.  With
larger daily counts the bytes are indices and `map(samples.__getitem__, …)` looks them up —
the same draws, so both paths give identical results for a seed.  The cost is a few
nanoseconds per simulated day; trials stop at a horizon (10 years, or the due date if later),
and a percentile beyond it is reported as None.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from itertools import accumulate

from tpmsync.kpi.model.forecast import Forecast
from tpmsync.kpi.model.inputs import TaskInput

THROUGHPUT_WINDOW_DAYS = 42
MIN_DAYS_WITH_COMPLETIONS = 5
DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 20_261_125
HORIZON_DAYS = 3653
"""Trials stop 10 years after as_of (or at the due date, if that is later)."""

PERCENTILES = (50, 85, 95)

_REJECT = 255
_REJECT_BYTE = bytes([_REJECT])
_MIN_BLOCK = 32
_MAX_BLOCK = 1 << 15


def daily_throughput(tasks: Sequence[TaskInput], as_of: date) -> list[int]:
    """Tasks completed on each day as_of − 41 … as_of (index 0 is as_of − 41)."""
    first = as_of - timedelta(days=THROUGHPUT_WINDOW_DAYS - 1)
    counts = [0] * THROUGHPUT_WINDOW_DAYS
    for task in tasks:
        done = task.completed_on
        if task.completed and done is not None and first <= done <= as_of:
            counts[(done - first).days] += 1
    return counts


def simulate_finish_days(
    samples: Sequence[int],
    remaining: int,
    *,
    trials: int,
    seed: int,
    horizon: int = HORIZON_DAYS,
    force_lookup: bool = False,
) -> list[int]:
    """Days after as_of on which each trial finishes `remaining` tasks, sorted ascending.

    Trials that have not finished `horizon` days out are reported as `horizon + 1`.
    `samples` are daily counts (at most 255 of them, at least one positive); `force_lookup`
    takes the index path even for small counts (used to test that both paths agree).
    """
    finish_days, _ = simulate_trials(
        samples, remaining, trials=trials, seed=seed, horizon=horizon, force_lookup=force_lookup
    )
    return finish_days


def simulate_trials(
    samples: Sequence[int],
    remaining: int,
    *,
    trials: int,
    seed: int,
    horizon: int = HORIZON_DAYS,
    by_day: int | None = None,
    force_lookup: bool = False,
) -> tuple[list[int], list[int]]:
    """The trials of `simulate_finish_days`, and how many tasks each has done by day `by_day`.

    Returns (finish days, done-by counts), each sorted ascending; the counts are capped at
    `remaining` and empty when `by_day` is None.  The draws are the same whether or not
    `by_day` is given, so trial i's count reaches `remaining` exactly when it finishes by `by_day`.
    """
    n = len(samples)
    if not 0 < n <= 255:
        raise ValueError("between 1 and 255 throughput samples are needed")
    if any(count < 0 for count in samples) or not any(samples):
        raise ValueError("throughput samples must be ≥ 0 with at least one positive")
    if by_day is not None and by_day > horizon:
        raise ValueError(f"by_day {by_day} lies beyond the horizon of {horizon} days")
    if remaining <= 0:
        return [0] * trials, ([] if by_day is None else [0] * trials)
    usable = (256 // n) * n
    direct = not force_lookup and max(samples) < _REJECT
    if direct:
        table = bytes(samples[b % n] if b < usable else _REJECT for b in range(256))
    else:
        table = bytes(b % n if b < usable else _REJECT for b in range(256))
    lookup = tuple(samples).__getitem__
    getrandbits = random.Random(seed).getrandbits
    expected_bytes = remaining / (sum(samples) / n) * 256 / usable
    block = int(min(max(_MIN_BLOCK, expected_bytes / 8), _MAX_BLOCK))
    bits = 8 * block

    draw: Callable[[], Sequence[int]]
    if direct:

        def draw() -> Sequence[int]:
            return getrandbits(bits).to_bytes(block, "little").translate(table).replace(_REJECT_BYTE, b"")

    else:

        def draw() -> Sequence[int]:
            raw = getrandbits(bits).to_bytes(block, "little").translate(table).replace(_REJECT_BYTE, b"")
            return list(map(lookup, raw))

    beyond = horizon + 1
    by = horizon + 2 if by_day is None else by_day
    results: list[int] = []
    append = results.append
    counts: list[int] = []
    count = counts.append
    for _ in range(trials):
        days = 0
        done = 0
        done_by = 0 if by <= 0 else -1
        while True:
            chunk = draw()
            total = sum(chunk)
            if done + total < remaining:
                if done_by < 0 and days + len(chunk) >= by:
                    done_by = done + sum(chunk[: by - days])
                days += len(chunk)
                done += total
                if days > horizon:
                    append(beyond)
                    break
                continue
            finish = days + bisect_left(list(accumulate(chunk, initial=done)), remaining)
            if done_by < 0:
                done_by = remaining if finish <= by else done + sum(chunk[: by - days])
            append(finish if finish <= horizon else beyond)
            break
        count(done_by)
    results.sort()
    if by_day is None:
        return results, []
    counts.sort()
    return results, counts


def nearest_rank(sorted_values: Sequence[int], percent: int) -> int:
    """The smallest value with at least `percent` % of the values at or below it."""
    rank = -(-percent * len(sorted_values) // 100)
    return sorted_values[max(rank, 1) - 1]


def compute_forecast(
    tasks: Sequence[TaskInput],
    as_of: date,
    due_on: date | None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> Forecast:
    """The finish-date forecast of a project's task set (see the module docstring)."""
    if trials < 1:
        raise ValueError(f"a forecast needs at least one trial, got {trials}")
    window_start = as_of - timedelta(days=THROUGHPUT_WINDOW_DAYS - 1)
    counts = daily_throughput(tasks, as_of)
    active_days = sum(1 for count in counts if count)
    remaining = sum(1 for task in tasks if not task.completed)

    def result(
        p50: date | None,
        p85: date | None,
        p95: date | None,
        probability: float | None,
        reason: str | None,
        ran: int,
    ) -> Forecast:
        return Forecast(
            due_on=due_on,
            remaining=remaining,
            p50=p50,
            p85=p85,
            p95=p95,
            probability_on_time=probability,
            trials=ran,
            window_start=window_start,
            window_end=as_of,
            days_with_completions=active_days,
            completed_in_window=sum(counts),
            reason=reason,
        )

    if remaining == 0:
        completions = [task.completed_on for task in tasks if task.completed_on is not None]
        finished = min(max(completions), as_of) if completions else as_of
        probability = None if due_on is None else float(finished <= due_on)
        return result(finished, finished, finished, probability, None, 0)

    if active_days < MIN_DAYS_WITH_COMPLETIONS:
        why = (
            f"only {active_days} day(s) with completed tasks between {window_start.isoformat()} and "
            f"{as_of.isoformat()}; a forecast needs at least {MIN_DAYS_WITH_COMPLETIONS}"
        )
        return result(None, None, None, None, why, 0)

    horizon = HORIZON_DAYS
    if due_on is not None:
        horizon = max(horizon, (due_on - as_of).days)
    finish_days = simulate_finish_days(counts, remaining, trials=trials, seed=seed, horizon=horizon)
    dates: list[date | None] = []
    for percent in PERCENTILES:
        days = nearest_rank(finish_days, percent)
        dates.append(None if days > horizon else as_of + timedelta(days=days))
    probability = None
    if due_on is not None:
        probability = bisect_right(finish_days, (due_on - as_of).days) / trials
    beyond = [f"p{percent}" for percent, day in zip(PERCENTILES, dates, strict=True) if day is None]
    reason = None
    if beyond:
        last_day = (as_of + timedelta(days=horizon)).isoformat()
        which = beyond[0] if len(beyond) == 1 else f"{', '.join(beyond[:-1])} and {beyond[-1]}"
        reason = f"{which} beyond the simulation horizon of {horizon} days ({last_day})"
    return result(dates[0], dates[1], dates[2], probability, reason, trials)
