"""Red/amber/green verdicts: each threshold at its boundary, and reasons a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tpmsync.kpi import (
    DueChange,
    Health,
    KpiSettings,
    ProjectInput,
    ProjectKpis,
    TaskInput,
    Thresholds,
    compute_project_kpis,
)
from tpmsync.kpi.wording import day_text

Factory = Callable[..., ProjectInput]


@pytest.fixture
def kpis(project: Factory, as_of: date) -> Callable[..., ProjectKpis]:
    def run(tasks: list[TaskInput], settings: KpiSettings | None = None, **fields: Any) -> ProjectKpis:
        return compute_project_kpis(project(tasks, **fields), as_of, settings or KpiSettings())

    return run


def filler(count: int, **fields: Any) -> list[TaskInput]:
    """Healthy open tasks: due in 30 days, nothing else set."""
    due = date(2026, 12, 25)
    return [TaskInput(f"f{n}", f"Filler {n}", due=due, **fields) for n in range(count)]


def health_of(result: ProjectKpis, kpi: str) -> Health | None:
    return next((v.health for v in result.verdicts if v.kpi == kpi), None)


def test_a_healthy_project_is_green_with_no_reasons(kpis: Callable[..., ProjectKpis]) -> None:
    result = kpis(filler(5))
    assert result.health is Health.GREEN
    assert result.reasons == ()
    assert all(v.health is Health.GREEN and v.reasons == () for v in result.verdicts)


class TestOverdue:
    def test_one_overdue_task_is_amber(self, kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
        result = kpis([TaskInput("late", "Login page", due=day(-5), assignee_name="Alice"), *filler(19)])
        assert health_of(result, "overdue") is Health.AMBER
        assert result.health is Health.AMBER
        assert result.reasons == (
            "1 of 20 open tasks overdue (5 %): 'Login page' (due Nov 20, Alice); finish them or move their dates",
        )

    def test_ten_percent_overdue_is_red(self, kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
        late = [TaskInput(f"l{n}", f"Late {n}", due=day(-n - 1)) for n in range(5)]
        result = kpis([*late, *filler(45)])
        assert health_of(result, "overdue") is Health.RED
        assert result.reasons[0].startswith("5 of 50 open tasks overdue (10 %): 'Late 4' (due Nov 20), ")
        assert result.reasons[0].endswith("and 2 more; finish them or move their dates")


class TestBlockedByOverdue:
    def test_reason_groups_by_the_overdue_blocker(
        self, kpis: Callable[..., ProjectKpis], day: Callable[[int], date]
    ) -> None:
        freeze = TaskInput("freeze", "API freeze", due=day(-5))
        blocked = [TaskInput(f"b{n}", f"Blocked {n}", due=day(10), dependency_gids=("freeze",)) for n in range(3)]
        settings = KpiSettings(thresholds=Thresholds(blocked_by_overdue_on_critical_path_red=False))
        result = kpis([freeze, *blocked, *filler(36)], settings)
        verdict = next(v for v in result.verdicts if v.kpi == "blocked_by_overdue")
        assert verdict.health is Health.AMBER
        assert verdict.reasons == (
            "3 tasks blocked by overdue 'API freeze' (due Nov 20); on the critical path: 'Blocked 0'",
        )

    def test_on_the_critical_path_is_red(self, kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
        design = TaskInput("design", "Design", start=day(-10), due=day(-2))
        build = TaskInput("build", "Build", start=day(1), due=day(10), dependency_gids=("design",))
        vendor = TaskInput("v", "Vendor SDK", due=day(-1), project_name="Platform", assignee_name="Bob")
        docs = TaskInput("docs", "Docs", due=day(20), dependency_gids=("v",))
        result = kpis([design, build, docs, *filler(27)], outside_tasks=[vendor])
        verdict = next(v for v in result.verdicts if v.kpi == "blocked_by_overdue")
        assert [t.gid for t in result.dependencies.critical_path] == ["design", "build"]
        assert verdict.health is Health.RED
        assert verdict.reasons == (
            "'Build' is blocked by overdue 'Design' (due Nov 23) and "
            "'Docs' is blocked by overdue 'Vendor SDK' (due Nov 24, Bob, in 'Platform'); "
            "on the critical path: 'Build'",
        )


@pytest.mark.parametrize(
    ("ev_hours", "expected"),
    [(10, Health.GREEN), (9.5, Health.GREEN), (9.4, Health.AMBER), (8, Health.AMBER), (7.9, Health.RED)],
)
def test_spi_boundaries(
    kpis: Callable[..., ProjectKpis], day: Callable[[int], date], ev_hours: float, expected: Health
) -> None:
    """PV is 10 h (due yesterday), EV is what was completed: SPI = EV / 10."""
    tasks = [
        TaskInput("planned", "Planned", due=day(-1), estimate_hours=10 - ev_hours, completed=False),
        TaskInput("earned", "Earned", due=day(-1), estimate_hours=ev_hours, completed=True, actual_hours=ev_hours),
    ]
    thresholds = Thresholds(overdue_share_red=1.0, overdue_amber=1_000)
    result = kpis(tasks, KpiSettings(thresholds=thresholds))
    assert health_of(result, "spi") is expected
    assert health_of(result, "cpi") is Health.GREEN


@pytest.mark.parametrize(("actual", "expected"), [(10, Health.GREEN), (10.6, Health.AMBER), (12.6, Health.RED)])
def test_cpi_boundaries(
    kpis: Callable[..., ProjectKpis], day: Callable[[int], date], actual: float, expected: Health
) -> None:
    tasks = [TaskInput("t", "T", due=day(-1), completed=True, estimate_hours=10, actual_hours=actual)]
    result = kpis(tasks, rate=100.0, currency="USD")
    assert health_of(result, "cpi") is expected
    if expected is Health.RED:
        assert result.reasons == (
            "CPI 0.79: 1,260.00 USD spent for 1,000.00 USD of work done; "
            "forecast cost 1,260.00 USD against a budget of 1,000.00 USD",
        )


def test_no_budget_and_no_forecast_give_no_verdict(kpis: Callable[..., ProjectKpis]) -> None:
    result = kpis(filler(3), due_on=date(2027, 1, 1))
    kinds = {v.kpi for v in result.verdicts}
    assert "spi" not in kinds and "cpi" not in kinds and "forecast" not in kinds
    assert "on_time_rate" not in kinds
    assert result.budget is None


def completions_every_day(as_of: date, per_day: int) -> list[TaskInput]:
    return [
        TaskInput(f"c{d}-{n}", "Done", completed=True, completed_on=as_of - timedelta(days=d))
        for d in range(42)
        for n in range(per_day)
    ]


@pytest.mark.parametrize(("due_in", "expected"), [(5, Health.GREEN), (4, Health.RED)])
def test_forecast_probability(kpis: Callable[..., ProjectKpis], as_of: date, due_in: int, expected: Health) -> None:
    """2 completions a day, 10 open: always done on day 5; probability 1 or 0."""
    tasks = completions_every_day(as_of, 2) + filler(10)
    result = kpis(tasks, due_on=as_of + timedelta(days=due_in))
    assert health_of(result, "forecast") is expected
    if expected is Health.RED:
        forecast_reason = next(r for r in result.reasons if "simulations" in r)
        assert forecast_reason == (
            "At the current pace only <5 % of 10,000 simulations finish the 10 open tasks by the due date "
            "Nov 29 (p50 Nov 30, p85 Nov 30); cut scope, add people or move the date"
        )


def test_a_finished_project_gets_no_forecast_verdict_whether_it_finished_on_time_or_late(
    kpis: Callable[..., ProjectKpis], as_of: date, day: Callable[[int], date]
) -> None:
    """Nothing open: the JSON keeps the 0/1 likelihood of having finished by the due date, but no
    simulation runs, so there is no "at the current pace" verdict to give (it would stay red for good)."""
    done = completions_every_day(as_of, 1)
    late = kpis(done, due_on=day(-10))
    assert late.forecast.probability_on_time == 0.0
    assert health_of(late, "forecast") is None and not any("simulations" in r for r in late.reasons)
    assert late.health is Health.GREEN
    on_time = kpis(done, due_on=day(5))
    assert on_time.forecast.probability_on_time == 1.0
    assert health_of(on_time, "forecast") is None


def test_slipped_amber_then_red_by_share(kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
    def slipped(n: int) -> TaskInput:
        return TaskInput(f"s{n}", f"Slipped {n}", due=day(12), due_history=[DueChange(day(-3), day(3), day(12))])

    amber = kpis([slipped(0), *filler(9)])
    assert health_of(amber, "slipped") is Health.AMBER
    assert amber.reasons == ("1 open task slipped: 'Slipped 0' +9 days (now due Dec 7)",)
    red = kpis([slipped(0), slipped(1), slipped(2), *filler(9)])
    assert health_of(red, "slipped") is Health.RED


def test_overdue_milestone_is_red(kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
    result = kpis([TaskInput("m", "Beta launch", is_milestone=True, due=day(-2)), *filler(30)])
    assert health_of(result, "milestones") is Health.RED
    assert "1 milestone missed: 'Beta launch' overdue since Nov 23" in result.reasons


def test_conflicts_and_cycles_are_amber(kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("qa", "QA", due=day(9)),
        TaskInput("deploy", "Deploy", due=day(5), dependency_gids=("qa",)),
        TaskInput("a", "A", dependency_gids=("b",)),
        TaskInput("b", "B", dependency_gids=("a",)),
    ]
    result = kpis(tasks)
    assert health_of(result, "conflicts") is Health.AMBER
    assert health_of(result, "cycles") is Health.AMBER
    assert "1 schedule conflict: 'Deploy' (due Nov 30) depends on 'QA', due later (Dec 4); move one of the dates" in (
        result.reasons
    )
    assert "1 dependency cycle: 'A' ↔ 'B'; remove one link of each" in result.reasons


def test_critical_path_longer_than_the_days_left_is_amber(
    kpis: Callable[..., ProjectKpis], as_of: date, day: Callable[[int], date]
) -> None:
    tasks = [
        TaskInput("a", "Build", start=day(1), due=day(5)),
        TaskInput("b", "Test", start=day(6), due=day(8), dependency_gids=("a",)),
    ]
    fits = kpis(tasks, due_on=day(7))  # 8 days left: Nov 25 … Dec 2
    assert health_of(fits, "critical_path") is Health.GREEN
    late = kpis(tasks, due_on=day(6))
    assert health_of(late, "critical_path") is Health.AMBER
    assert late.reasons == (
        "The critical path 'Build' → 'Test' adds up to 8 days, more than the 7 days left until the project "
        "due date Dec 1; shorten the chain or move the date",
    )
    off = kpis(tasks, KpiSettings(thresholds=Thresholds(critical_path_past_due_amber=False)), due_on=day(6))
    assert health_of(off, "critical_path") is None


def test_project_due_date_passed_with_open_tasks_is_red(
    kpis: Callable[..., ProjectKpis], day: Callable[[int], date]
) -> None:
    tasks = [TaskInput("a", "Build", due=day(30)), TaskInput("b", "Done", completed=True)]
    passed = kpis(tasks, due_on=day(-1))
    assert health_of(passed, "project_due") is Health.RED
    assert health_of(passed, "critical_path") is None
    assert passed.reasons == ("The project due date Nov 24 has passed with 1 open task",)
    assert health_of(kpis(tasks, due_on=day(0)), "project_due") is Health.GREEN
    assert health_of(kpis(tasks[1:], due_on=day(-1)), "project_due") is None


def test_on_time_rate_thresholds(kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
    def done(n: int, late: bool) -> TaskInput:
        return TaskInput(f"d{n}", f"D{n}", completed=True, completed_on=day(-2), due=day(-3 if late else -1))

    four_of_five = kpis([done(n, n == 0) for n in range(5)])
    assert health_of(four_of_five, "on_time_rate") is Health.GREEN  # 0.80 is not below 0.80
    three_of_five = kpis([done(n, n < 2) for n in range(5)])
    assert health_of(three_of_five, "on_time_rate") is Health.AMBER
    assert three_of_five.reasons == ("Only 3 of 5 tasks completed in the last 30 days met their due date (60 %)",)
    two_of_five = kpis([done(n, n < 3) for n in range(5)])
    assert health_of(two_of_five, "on_time_rate") is Health.RED


def test_stalled_share_thresholds(kpis: Callable[..., ProjectKpis], day: Callable[[int], date]) -> None:
    def idle(n: int) -> TaskInput:
        return TaskInput(f"i{n}", f"Idle {n}", due=day(30), modified_on=day(-9), assignee_name="Carol")

    fresh = filler(8, modified_on=day(-1))
    assert health_of(kpis([idle(0), *fresh]), "stalled") is Health.GREEN  # 1 of 9
    amber = kpis([idle(0), idle(1), *fresh])  # 2 of 10
    assert health_of(amber, "stalled") is Health.AMBER
    assert amber.reasons[0].startswith("2 of 10 open tasks not updated for 5+ days: 'Idle 0' (9 days, Carol)")
    assert health_of(kpis([*(idle(n) for n in range(8)), *fresh]), "stalled") is Health.RED


def test_project_health_is_the_worst_verdict_and_reasons_put_red_first(
    kpis: Callable[..., ProjectKpis], day: Callable[[int], date]
) -> None:
    tasks = [
        TaskInput("m", "Beta", is_milestone=True, due=day(-1)),  # red milestone, amber overdue (1 of 40)
        TaskInput("qa", "QA", due=day(9)),
        TaskInput("deploy", "Deploy", due=day(5), dependency_gids=("qa",)),  # amber conflict
        *filler(37),
    ]
    result = kpis(tasks)
    assert result.health is Health.RED
    assert result.reasons[0].startswith("1 milestone missed")
    assert result.area_health("deadline") is Health.RED
    assert result.area_health("dependencies") is Health.AMBER
    assert result.area_health("budget") is Health.GREEN


def test_day_text_names_the_year_only_when_it_differs() -> None:
    as_of = date(2026, 11, 25)
    assert day_text(date(2026, 11, 20), as_of) == "Nov 20"
    assert day_text(date(2027, 1, 3), as_of) == "Jan 3, 2027"


@pytest.mark.parametrize(
    "bad",
    [
        {"spi_red": 0.96},
        {"probability_red": 0.9},
        {"on_time_rate_amber": 1.5},
        {"overdue_amber": 0},
        {"stalled_share_red": 0.1},
    ],
)
def test_thresholds_reject_inconsistent_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"kpi\.thresholds"):
        Thresholds(**bad)


def test_thresholds_from_a_config_table() -> None:
    thresholds = Thresholds.from_mapping(
        {"overdue_share_red": 0.2, "overdue_amber": 3.0, "blocked_by_overdue_on_critical_path_red": 0.0}
    )
    assert thresholds.overdue_share_red == 0.2
    assert thresholds.overdue_amber == 3
    assert isinstance(thresholds.overdue_amber, int)
    assert thresholds.blocked_by_overdue_on_critical_path_red is False
    assert thresholds.spi_red == Thresholds().spi_red


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"overdue_red": 0.1}, "kpi.thresholds.overdue_red is not a threshold; known: "),
        ({"overdue_amber": 1.5}, "kpi.thresholds.overdue_amber must be a whole number"),
        ({"cycles_amber": True}, "kpi.thresholds.cycles_amber must be a whole number"),
        ({"critical_path_past_due_amber": 2}, "kpi.thresholds.critical_path_past_due_amber must be true or false"),
        ({"spi_red": False}, "kpi.thresholds.spi_red must be a number"),
        ({"overdue_share_red": 0.0}, r"kpi.thresholds.overdue_share_red must be a share in \(0, 1\]"),
    ],
)
def test_thresholds_from_a_config_table_name_the_bad_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Thresholds.from_mapping(values)
