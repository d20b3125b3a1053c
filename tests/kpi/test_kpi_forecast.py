"""Monte Carlo forecast: throughput window, the no-forecast rules, exact and statistical cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpmsync.kpi import TaskInput
from tpmsync.kpi.forecast import (
    HORIZON_DAYS,
    compute_forecast,
    daily_throughput,
    nearest_rank,
    simulate_finish_days,
)


def completed(gid: str, on: date) -> TaskInput:
    return TaskInput(gid, gid, completed=True, completed_on=on)


def open_tasks(count: int) -> list[TaskInput]:
    return [TaskInput(f"open{i}", f"Open {i}") for i in range(count)]


def every_day(as_of: date, per_day: int) -> list[TaskInput]:
    """`per_day` completions on each of the 42 window days."""
    return [completed(f"d{offset}-{n}", as_of - timedelta(days=offset)) for offset in range(42) for n in range(per_day)]


def test_throughput_window_is_the_42_days_ending_on_as_of(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [
        completed("first", day(-41)),
        completed("last", as_of),
        completed("last-2", as_of),
        completed("too-old", day(-42)),
        completed("future", day(1)),
        TaskInput("no-date", "Completed without a date", completed=True),
        TaskInput("open", "Open", completed_on=day(-3)),
    ]
    counts = daily_throughput(tasks, as_of)
    assert len(counts) == 42
    assert counts[0] == 1
    assert counts[-1] == 2
    assert sum(counts) == 3


def test_constant_throughput_gives_an_exact_answer(as_of: date, day: Callable[[int], date]) -> None:
    """2 completions every day, 10 open tasks: every trial finishes on day 5."""
    tasks = every_day(as_of, 2) + open_tasks(10)
    forecast = compute_forecast(tasks, as_of, day(5))
    assert (forecast.p50, forecast.p85, forecast.p95) == (day(5), day(5), day(5))
    assert forecast.probability_on_time == 1.0
    assert compute_forecast(tasks, as_of, day(4)).probability_on_time == 0.0
    assert forecast.reason is None
    assert (forecast.remaining, forecast.trials, forecast.days_with_completions, forecast.completed_in_window) == (
        10,
        10_000,
        42,
        84,
    )


def test_geometric_case_matches_the_distribution(as_of: date, day: Callable[[int], date]) -> None:
    """Half the window days saw one completion, half none, one task open: the finish day is
    geometric with p = 1/2, so P(day 1) = 0.5, P(≤ 2) = 0.75, P(≤ 3) = 0.875, P(≤ 4) = 0.9375,
    P(≤ 5) = 0.96875: p85 is day 3 and p95 day 5 (each ≥ 7 standard errors from a boundary)."""
    tasks = [completed(f"c{offset}", as_of - timedelta(days=offset)) for offset in range(0, 42, 2)]
    tasks += open_tasks(1)
    forecast = compute_forecast(tasks, as_of, day(1))
    assert forecast.probability_on_time == pytest.approx(0.5, abs=0.03)
    assert forecast.p85 == day(3)
    assert forecast.p95 == day(5)
    assert compute_forecast(tasks, as_of, day(2)).probability_on_time == pytest.approx(0.75, abs=0.03)


def test_fewer_than_five_days_with_completions_gives_no_forecast(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [completed(f"c{n}", day(-n)) for n in range(4)] + [completed("c4b", day(-3))] + open_tasks(3)
    forecast = compute_forecast(tasks, as_of, day(30))
    assert (forecast.p50, forecast.p85, forecast.p95, forecast.probability_on_time) == (None, None, None, None)
    assert forecast.due_on == day(30)
    assert forecast.reason is not None and "only 4 day(s)" in forecast.reason
    assert forecast.trials == 0

    tasks.append(completed("c5", day(-5)))
    assert compute_forecast(tasks, as_of, day(30)).p50 is not None


def test_no_open_tasks_finishes_on_the_last_completion(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [completed("a", day(-9)), completed("b", day(-3))]
    forecast = compute_forecast(tasks, as_of, day(-5))
    assert (forecast.p50, forecast.p85, forecast.p95) == (day(-3), day(-3), day(-3))
    assert forecast.probability_on_time == 0.0
    assert compute_forecast(tasks, as_of, day(-3)).probability_on_time == 1.0
    assert compute_forecast(tasks, as_of, None).probability_on_time is None


def test_no_tasks_at_all_finishes_on_as_of(as_of: date) -> None:
    forecast = compute_forecast([], as_of, None)
    assert forecast.p50 == as_of
    assert forecast.remaining == 0


def test_due_date_in_the_past_with_open_tasks_has_probability_zero(as_of: date, day: Callable[[int], date]) -> None:
    tasks = every_day(as_of, 1) + open_tasks(3)
    assert compute_forecast(tasks, as_of, day(-1)).probability_on_time == 0.0
    assert compute_forecast(tasks, as_of, as_of).probability_on_time == 0.0


def test_no_due_date_means_no_probability(as_of: date) -> None:
    forecast = compute_forecast(every_day(as_of, 1) + open_tasks(3), as_of, None)
    assert forecast.probability_on_time is None
    assert forecast.p50 is not None


def test_same_seed_gives_the_same_forecast(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [completed(f"c{n}", day(-(n % 30))) for n in range(60)] + open_tasks(40)
    first = compute_forecast(tasks, as_of, day(20), seed=1)
    assert compute_forecast(tasks, as_of, day(20), seed=1) == first
    assert first.trials == 10_000


def test_percentiles_beyond_the_horizon_are_none(as_of: date, day: Callable[[int], date]) -> None:
    """5 completions in 42 days and 3,000 open tasks: about 69 years."""
    tasks = [completed(f"c{n}", day(-n)) for n in range(5)] + open_tasks(3000)
    forecast = compute_forecast(tasks, as_of, day(30), trials=50)
    assert (forecast.p50, forecast.p85, forecast.p95) == (None, None, None)
    assert forecast.probability_on_time == 0.0
    assert forecast.reason == "p50, p85 and p95 beyond the simulation horizon of 3653 days (2036-11-25)"


def test_a_late_due_date_extends_the_horizon(as_of: date, day: Callable[[int], date]) -> None:
    """5 completions in 42 days and 500 open tasks: about 4,200 days, past the 10-year horizon."""
    tasks = [completed(f"c{n}", day(-n)) for n in range(5)] + open_tasks(500)
    assert compute_forecast(tasks, as_of, None, trials=200).p50 is None
    late = compute_forecast(tasks, as_of, day(6000), trials=200)
    assert late.p50 is not None and day(HORIZON_DAYS) < late.p50 < day(6000)
    assert late.probability_on_time == 1.0


def test_unfinished_trials_are_reported_past_the_horizon() -> None:
    days = simulate_finish_days([1] + [0] * 41, 100, trials=20, seed=3, horizon=100)
    assert days == [101] * 20


def test_both_sampling_paths_give_identical_results() -> None:
    samples = [0, 3, 0, 7, 1, 0, 2] * 6
    direct = simulate_finish_days(samples, 250, trials=500, seed=11)
    lookup = simulate_finish_days(samples, 250, trials=500, seed=11, force_lookup=True)
    assert direct == lookup


def test_large_daily_counts_take_the_lookup_path() -> None:
    samples = [300] * 42
    assert simulate_finish_days(samples, 900, trials=10, seed=1) == [3] * 10
    assert simulate_finish_days(samples, 901, trials=10, seed=1) == [4] * 10


def test_simulation_rejects_unusable_samples() -> None:
    with pytest.raises(ValueError):
        simulate_finish_days([0] * 42, 5, trials=1, seed=1)
    with pytest.raises(ValueError):
        simulate_finish_days([], 5, trials=1, seed=1)
    with pytest.raises(ValueError):
        simulate_finish_days([-1, 2], 5, trials=1, seed=1)
    with pytest.raises(ValueError, match="at least one trial"):
        compute_forecast([], date(2026, 11, 25), None, trials=0)


def test_nearest_rank() -> None:
    values = list(range(1, 101))
    assert (nearest_rank(values, 50), nearest_rank(values, 85), nearest_rank(values, 95)) == (50, 85, 95)
    assert nearest_rank([7], 50) == 7
    assert nearest_rank([1, 2, 3], 50) == 2


@settings(max_examples=60, deadline=None)
@given(
    samples=st.lists(st.integers(min_value=0, max_value=6), min_size=42, max_size=42).filter(
        lambda counts: sum(1 for c in counts if c) >= 5
    ),
    remaining=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_percentiles_are_ordered(samples: list[int], remaining: int, seed: int) -> None:
    as_of = date(2026, 11, 25)
    tasks = [
        completed(f"c{offset}-{n}", as_of - timedelta(days=41 - offset))
        for offset, count in enumerate(samples)
        for n in range(count)
    ]
    tasks += open_tasks(remaining)
    forecast = compute_forecast(tasks, as_of, as_of + timedelta(days=remaining), trials=500, seed=seed)
    assert forecast.p50 is not None and forecast.p85 is not None and forecast.p95 is not None
    assert as_of < forecast.p50 <= forecast.p85 <= forecast.p95
    assert forecast.probability_on_time is not None and 0.0 <= forecast.probability_on_time <= 1.0
    # Never faster than the best day every day, never slower than the horizon.
    fastest = -(-remaining // max(samples))
    assert forecast.p50 >= as_of + timedelta(days=fastest)
