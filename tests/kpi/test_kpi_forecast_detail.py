"""How many by a date, why the date moved, how often it held, and the JSON of all of it."""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tpmsync.kpi import TaskInput
from tpmsync.kpi.calibration import ForecastRecord, compute_calibration
from tpmsync.kpi.forecast import compute_forecast, simulate_finish_days, simulate_trials
from tpmsync.kpi.forecast_detail import (
    Calibration,
    Criticality,
    ForecastDetail,
    HowMany,
    MilestoneForecast,
    Moved,
    TaskLink,
    UnblockItem,
)
from tpmsync.kpi.how_many import compute_how_many
from tpmsync.kpi.moved import ForecastState, explain_move, forecast_state

AS_OF = date(2026, 11, 25)


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


def history(per_day: list[int], as_of: date = AS_OF) -> list[TaskInput]:
    """Completed tasks: per_day[i] of them on as_of − 41 + i."""
    first = as_of - timedelta(days=41)
    return [
        TaskInput(f"c{i}-{n}", "done", completed=True, completed_on=first + timedelta(days=i))
        for i, count in enumerate(per_day)
        for n in range(count)
    ]


def open_tasks(count: int, prefix: str = "o") -> list[TaskInput]:
    return [TaskInput(f"{prefix}{i}", f"Open {i}") for i in range(count)]


# ---- how many ------------------------------------------------------------------------------


def test_constant_throughput_counts_exactly_and_stops_at_the_open_tasks() -> None:
    tasks = history([2] * 42) + open_tasks(10)
    assert compute_how_many(tasks, AS_OF, None, day(3)) == HowMany(by=day(3), p50=6, p85=6, open=10, trials=10_000)
    default = compute_how_many(tasks, AS_OF, None)
    assert (default.by, default.p50, default.p85) == (day(14), 10, 10)
    assert compute_how_many(tasks, AS_OF, None, AS_OF).p85 == 0


def test_p85_is_the_count_reached_in_at_least_85_percent_of_the_trials() -> None:
    """One day ahead a trial does 1 task with probability k/42 (k days with one completion), else 0:
    k = 10 (24 %) → p50 0, p85 0; k = 30 (71 %) → p50 1, p85 0; k = 41 (98 %) → both 1.  Two days
    ahead with k = 41, 2 tasks in 95 % of the trials → p85 2.  (A percentile of the counts taken the
    other way round would give 1 for k = 10.)"""
    five = open_tasks(5)
    by = [
        compute_how_many(history([1] * k + [0] * (42 - k)) + five, AS_OF, None, day(1)) for k in (10, 30, 41)
    ]
    assert [(h.p50, h.p85) for h in by] == [(0, 0), (1, 0), (1, 1)]
    two_days = compute_how_many(history([1] * 41 + [0]) + five, AS_OF, None, day(2))
    assert (two_days.p50, two_days.p85) == (2, 2)


def test_how_many_has_no_numbers_without_enough_history_and_zero_when_nothing_is_open() -> None:
    thin = compute_how_many(history([0] * 38 + [1] * 4) + open_tasks(3), AS_OF, None)
    assert (thin.p50, thin.p85, thin.open) == (None, None, 3)
    assert thin.reason is not None and "only 4 day(s)" in thin.reason
    assert compute_how_many(history([1] * 42), AS_OF, None) == HowMany(day(14), 0, 0, 0, 0)


def test_counting_by_a_day_does_not_change_the_draws_of_the_finish_dates() -> None:
    samples = [0, 3, 1, 0, 5, 2, 0, 1] * 5
    finish, counts = simulate_trials(samples, 40, trials=500, seed=9, by_day=10)
    assert finish == simulate_finish_days(samples, 40, trials=500, seed=9)
    assert len(counts) == 500 and counts == sorted(counts) and counts[-1] <= 40


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=42, max_size=42).filter(lambda days: sum(1 for d in days if d) >= 5),
    st.integers(1, 120),
    st.integers(0, 60),
    st.integers(0, 2**32),
)
def test_how_many_is_ordered_and_agrees_with_the_finish_dates(
    per_day: list[int], count: int, ahead: int, seed: int
) -> None:
    tasks = history(per_day) + open_tasks(count)
    how_many = compute_how_many(tasks, AS_OF, None, day(ahead), trials=200, seed=seed)
    forecast = compute_forecast(tasks, AS_OF, None, trials=200, seed=seed)
    assert how_many.p50 is not None and how_many.p85 is not None
    assert 0 <= how_many.p85 <= how_many.p50 <= count
    assert forecast.p85 is not None and forecast.p50 is not None
    # The same trials: every open task is done by the date in 85 % of them exactly when p85 ≤ the date.
    assert (how_many.p85 == count) == (forecast.p85 <= day(ahead))
    assert (how_many.p50 == count) == (forecast.p50 <= day(ahead))


# ---- why it moved --------------------------------------------------------------------------


def state(as_of: date, open_gids: set[str], completed: set[str], throughput: list[int]) -> ForecastState:
    return ForecastState(as_of, frozenset(open_gids), frozenset(completed), tuple(throughput))


def test_added_scope_alone_moves_the_date_by_scope_only() -> None:
    pace = [1, 0, 2] * 14
    before = state(AS_OF, {f"o{i}" for i in range(20)}, set(), pace)
    after = state(AS_OF, {f"o{i}" for i in range(32)}, set(), pace)
    moved = explain_move(before, after, trials=500)
    assert moved is not None
    assert moved.p85_change_days > 0
    assert (moved.scope_days, moved.progress_days, moved.pace_days) == (moved.p85_change_days, 0, 0)
    assert (moved.tasks_added, moved.tasks_removed, moved.tasks_completed) == (12, 0, 0)


def test_a_week_without_completions_is_a_week_of_progress_lost() -> None:
    pace = [1] * 42
    before = state(AS_OF, {"a", "b", "c"}, set(), pace)
    after = state(day(7), {"a", "b", "c"}, set(), pace)
    moved = explain_move(before, after, trials=100)
    assert moved is not None
    assert (moved.since, moved.p85_before, moved.p85_after) == (AS_OF, day(3), day(10))
    assert (moved.scope_days, moved.progress_days, moved.pace_days) == (0, 7, 0)


def test_forecast_state_splits_a_task_set_and_no_split_without_a_forecast() -> None:
    tasks = history([1] * 42) + open_tasks(4)
    now = forecast_state(tasks, AS_OF)
    assert (len(now.open_gids), len(now.completed_gids), sum(now.throughput)) == (4, 42, 42)
    thin = state(AS_OF, {"a"}, set(), [0] * 40 + [1, 1])
    assert explain_move(thin, now) is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=42, max_size=42),
    st.lists(st.integers(0, 4), min_size=42, max_size=42),
    st.sets(st.integers(0, 60), max_size=40),
    st.sets(st.integers(0, 60), max_size=40),
    st.sets(st.integers(0, 60), max_size=20),
    st.integers(0, 14),
    st.integers(0, 2**32),
)
def test_the_three_parts_sum_to_the_change(
    pace_before: list[int],
    pace_after: list[int],
    open_before: set[int],
    open_after: set[int],
    completed: set[int],
    days: int,
    seed: int,
) -> None:
    pace_before[0] = pace_before[5] = pace_before[9] = pace_before[20] = pace_before[30] = 1
    pace_after[1] = pace_after[6] = pace_after[11] = pace_after[22] = pace_after[33] = 2
    done = {f"t{i}" for i in completed - open_after}
    before = state(AS_OF, {f"t{i}" for i in open_before}, set(), pace_before)
    after = state(day(days), {f"t{i}" for i in open_after}, done, pace_after)
    moved = explain_move(before, after, trials=100, seed=seed)
    assert moved is not None
    assert moved.scope_days + moved.progress_days + moved.pace_days == moved.p85_change_days
    assert moved.p85_change_days == (moved.p85_after - moved.p85_before).days
    assert moved.tasks_completed == len(before.open_gids & done)
    assert len(before.open_gids) + moved.tasks_added - moved.tasks_removed - moved.tasks_completed == len(open_after)


# ---- calibration ---------------------------------------------------------------------------


def test_a_forecast_is_judged_once_its_p85_has_come_and_held_when_enough_was_completed() -> None:
    completions = [day(-20), day(-19), day(-19), day(-10), day(-2)]
    records = [
        ForecastRecord(day(-21), open=3, p85=day(-19)),  # 3 completed on −20 … −19: held
        ForecastRecord(day(-20), open=3, p85=day(-11)),  # 2 completed on −19 … −11 (not the day itself): missed
        ForecastRecord(day(-5), open=1, p85=day(-2)),  # held
        ForecastRecord(day(-3), open=1, p85=day(2)),  # its date has not come
        ForecastRecord(day(-4), open=1, p85=None),  # no forecast then
        ForecastRecord(day(-6), open=0, p85=day(-6)),  # nothing open: nothing to judge
        ForecastRecord(day(-180), open=1, p85=day(-170)),  # older than 180 days
        ForecastRecord(day(-179), open=9, p85=day(-170)),  # first day of the window: missed ...
        ForecastRecord(day(-179), open=0, p85=day(-170)),  # ... unless a later record of that day says otherwise
    ]
    assert compute_calibration(records[:8], completions, AS_OF) == Calibration(judged=4, held=2)
    assert compute_calibration(records, completions, AS_OF) == Calibration(judged=3, held=2)
    assert compute_calibration([], completions, AS_OF) == Calibration(0, 0)


def test_a_forecast_due_on_as_of_is_judged_and_a_completion_on_its_date_counts() -> None:
    """p85 = as_of: judged today, and the completion on as_of itself counts; p85 = as_of + 1 waits."""
    records = [ForecastRecord(day(-3), open=2, p85=AS_OF), ForecastRecord(day(-2), open=1, p85=day(1))]
    assert compute_calibration(records, [day(-3), day(-1), AS_OF], AS_OF) == Calibration(judged=1, held=1)
    assert compute_calibration(records, [day(-3), day(-1)], AS_OF) == Calibration(judged=1, held=0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-250, 0), st.integers(0, 30), st.one_of(st.none(), st.integers(0, 60)))),
    st.lists(st.integers(-260, 0)),
)
def test_calibration_judges_only_forecasts_whose_date_has_come(
    raw: list[tuple[int, int, int | None]], done: list[int]
) -> None:
    records = [ForecastRecord(day(d), count, None if ahead is None else day(d + ahead)) for d, count, ahead in raw]
    result = compute_calibration(records, [day(d) for d in done], AS_OF)
    judgeable = {r.day for r in records if (r.day - AS_OF).days >= -179}
    assert 0 <= result.held <= result.judged <= len(judgeable)
    latest = {r.day: r for r in records}
    assert result.judged == sum(
        1
        for r in latest.values()
        if (r.day - AS_OF).days >= -179 and r.p85 is not None and r.p85 <= AS_OF and r.open > 0
    )


# ---- JSON ----------------------------------------------------------------------------------


def test_the_forecast_detail_round_trips_through_json_at_full_precision() -> None:
    link = TaskLink("t1", "API ‮schema", "p1", "u1", "Ana", day(3))
    detail = ForecastDetail(
        how_many=HowMany(day(14), 7, 5, 12, 10_000),
        calibration=Calibration(9, 7),
        milestones=(
            MilestoneForecast(
                "m1",
                "Beta",
                "p1",
                day(20),
                day(18),
                day(24),
                1 / 3,
                "span_ratio",
                None,
                10_000,
                4,
                2,
                (Criticality("t1", "API ‮schema", 2 / 3),),
            ),
            MilestoneForecast("m2", "GA", "p1", None, None, None, None, None, "thin", 0, 0, 0, ()),
        ),
        moved=Moved(day(-7), day(10), day(19), 9, 5, 1, 3, 12, 1, 4, 30, 22),
        unblock_first=(
            UnblockItem(link, 2 / 3, "m1", "Beta", day(20), (TaskLink("t0", "x", None, None, None, None),)),
        ),
    )
    data = json.loads(json.dumps(detail.to_json()))
    assert ForecastDetail.from_json(data) == detail
    assert set(data) == {"how_many", "calibration", "milestones", "moved", "unblock_first"}
    assert data["how_many"] == {"by": "2026-12-09", "p50": 7, "p85": 5, "open": 12, "trials": 10_000, "reason": None}
    assert set(data["milestones"][0]) >= {"gid", "name", "p50", "p85", "due", "probability_on_time", "criticality"}
    assert data["milestones"][0]["probability_on_time"] == 1 / 3
    assert data["milestones"][0]["criticality"] == [{"gid": "t1", "name": "API ‮schema", "share": 2 / 3}]
    assert set(data["moved"]) >= {"since", "p85_change_days", "scope_days", "progress_days", "pace_days"}
    assert data["calibration"] == {"judged": 9, "held": 7}
    empty = ForecastDetail(None, Calibration(0, 0), (), None, ())
    assert ForecastDetail.from_json(json.loads(json.dumps(empty.to_json()))) == empty


# ---- one call for a project ----------------------------------------------------------------


def test_one_call_composes_every_part_with_the_settings_trials_and_seed() -> None:
    from tpmsync.kpi import KpiSettings, ProjectInput
    from tpmsync.kpi.milestone_durations import DurationHistory
    from tpmsync.kpi.outlook import compute_forecast_detail

    vendor = TaskInput("v1", "Vendor", project_gid="p2")
    tasks = [
        *history([1] * 42),
        TaskInput("a", "Build", dependency_gids=("v1",), assignee_name="Ana"),
        TaskInput("m", "Launch", due=day(30), dependency_gids=("a",), is_milestone=True),
    ]
    project = ProjectInput("p1", "Web", tasks, due_on=day(30), outside_tasks=[vendor])
    settings = KpiSettings(forecast_trials=300, forecast_seed=5)
    histories = {"p1": DurationHistory(span_ratios=(1.0,) * 5)}
    before = forecast_state([*tasks[:-1], TaskInput("x", "Gone")], day(-7))
    records = [ForecastRecord(day(-20), 2, day(-10))]
    detail = compute_forecast_detail(
        project, AS_OF, histories=histories, before=before, records=records, settings=settings
    )
    assert detail.how_many == compute_how_many(tasks, AS_OF, day(30), trials=300, seed=5)
    (launch,) = detail.milestones
    assert (launch.p85, launch.trials, launch.predecessors) == (day(3), 300, 2)  # vendor 1 + build 1 + launch 1
    assert [item.task.gid for item in detail.unblock_first] == ["v1", "a"]
    assert detail.moved is not None and (detail.moved.tasks_added, detail.moved.tasks_removed) == (1, 1)
    assert detail.calibration == Calibration(judged=1, held=1)
    assert compute_forecast_detail(project, AS_OF, settings=settings).moved is None
