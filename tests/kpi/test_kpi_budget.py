"""Earned value (0/100 rule) pinned to the textbook case and to hand-worked task sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from tpmsync.kpi import TaskInput
from tpmsync.kpi.budget import actual_hours, compute_budget, derive, planned_share


def test_textbook_evm_case() -> None:
    """BAC 100, EV 40, AC 45, PV 50 (the usual PMI-style worked example)."""
    evm = derive(bac=100, pv=50, ev=40, ac=45)
    assert evm.cv == -5
    assert evm.sv == -10
    assert evm.cpi == pytest.approx(0.888_888, abs=1e-6)
    assert round(evm.cpi or 0, 3) == 0.889
    assert evm.spi == pytest.approx(0.80)
    assert evm.eac == pytest.approx(112.5)
    assert evm.etc == pytest.approx(67.5)
    assert evm.vac == pytest.approx(-12.5)
    assert evm.eac2 == pytest.approx(105.0)
    assert evm.tcpi == pytest.approx(60 / 55)
    assert round(evm.tcpi or 0, 3) == 1.091


def test_a_zero_divisor_gives_none_and_so_does_everything_computed_from_it() -> None:
    nothing_spent = derive(bac=100, pv=50, ev=40, ac=0)
    assert (nothing_spent.cpi, nothing_spent.eac, nothing_spent.etc, nothing_spent.vac) == (None, None, None, None)
    assert nothing_spent.spi == pytest.approx(0.8)
    nothing_planned = derive(bac=100, pv=0, ev=0, ac=10)
    assert nothing_planned.spi is None
    assert nothing_planned.cpi == 0
    assert nothing_planned.eac is None  # BAC / CPI with CPI 0
    spent_exactly_the_budget = derive(bac=100, pv=100, ev=90, ac=100)
    assert spent_exactly_the_budget.tcpi is None


class TestPlannedShare:
    def test_no_due_date_plans_nothing(self, as_of: date, day: Callable[[int], date]) -> None:
        assert planned_share(TaskInput("a", "A", start=day(-5)), as_of) == 0

    def test_due_on_or_before_as_of_plans_everything(self, as_of: date, day: Callable[[int], date]) -> None:
        assert planned_share(TaskInput("a", "A", due=as_of), as_of) == 1
        assert planned_share(TaskInput("a", "A", start=day(-9), due=day(-1)), as_of) == 1

    def test_not_started_plans_nothing(self, as_of: date, day: Callable[[int], date]) -> None:
        assert planned_share(TaskInput("a", "A", start=day(1), due=day(5)), as_of) == 0
        assert planned_share(TaskInput("a", "A", due=day(5)), as_of) == 0

    def test_linear_share_counts_both_ends(self, as_of: date, day: Callable[[int], date]) -> None:
        # start Nov 21, due Nov 30: 10 days, as_of Nov 25 is day 5 of them.
        assert planned_share(TaskInput("a", "A", start=day(-4), due=day(5)), as_of) == pytest.approx(0.5)
        # starting today: 1 of 4 days.
        assert planned_share(TaskInput("a", "A", start=as_of, due=day(3)), as_of) == pytest.approx(0.25)


def test_actual_hours_fall_back_to_time_tracking_only_when_the_field_is_empty() -> None:
    assert actual_hours(TaskInput("a", "A", actual_hours=3.0, actual_time_minutes=600)) == 3.0
    assert actual_hours(TaskInput("a", "A", actual_hours=0.0, actual_time_minutes=600)) == 0.0
    assert actual_hours(TaskInput("a", "A", actual_time_minutes=90)) == 1.5
    assert actual_hours(TaskInput("a", "A")) is None


def test_no_estimate_anywhere_means_no_budget(as_of: date) -> None:
    tasks = [TaskInput("a", "A", actual_hours=5.0), TaskInput("b", "B", actual_time_minutes=60)]
    assert compute_budget(tasks, as_of, rate=100.0, currency="EUR") is None
    assert compute_budget([], as_of, rate=100.0, currency="EUR") is None


def test_hand_worked_project(as_of: date, day: Callable[[int], date]) -> None:
    """Rate 100 EUR/h.

    | task   | est | act        | done | start..due       | share | PV   | EV   | EV_sch | AC   | AC_unpl |
    | parent | 10  | 12         | yes  | ..day(-2)        | 1     | 1000 | 1000 | 1000   | 1200 |         |
    | child  | 4   | (90 min)   | no   | day(-4)..day(5)  | 0.5   | 200  | 0    | 0      | 150  |         |
    | todo   | 6   | -          | no   | day(1)..day(4)   | 0     | 0    | 0    | 0      | 0    |         |
    | undated| 8   | 2          | no   | -                | 0     | 0    | 0    | 0      | 200  |         |
    | noest  | -   | 3          | yes  | ..day(-1)        | -     | -    | -    | -      | -    | 300     |
    BAC 2800, PV 1200, EV 1000, EV_scheduled 1000, AC 1550 (noest's 300 is unplanned, not AC),
    bac_unscheduled 800 (undated is open and has no due date).
    """
    tasks = [
        TaskInput("parent", "Parent", completed=True, estimate_hours=10, actual_hours=12, due=day(-2)),
        TaskInput(
            "child", "Child", parent_gid="parent", estimate_hours=4, actual_time_minutes=90, start=day(-4), due=day(5)
        ),
        TaskInput("todo", "Todo", estimate_hours=6, start=day(1), due=day(4)),
        TaskInput("undated", "Undated", estimate_hours=8, actual_hours=2),
        TaskInput("noest", "No estimate", completed=True, actual_hours=3, due=day(-1)),
    ]
    budget = compute_budget(tasks, as_of, rate=100.0, currency="EUR")
    assert budget is not None
    assert (budget.unit, budget.rate) == ("EUR", 100.0)
    assert budget.bac == pytest.approx(2800)
    assert budget.pv == pytest.approx(1200)
    assert budget.ev == pytest.approx(1000)
    assert budget.ev_scheduled == pytest.approx(1000)
    assert budget.ac == pytest.approx(1550)
    assert budget.ac_unplanned == pytest.approx(300)
    assert budget.bac_unscheduled == pytest.approx(800)
    assert budget.cv == pytest.approx(-550)
    assert budget.sv == pytest.approx(-200)
    assert budget.cpi == pytest.approx(1000 / 1550)
    assert budget.spi == pytest.approx(1000 / 1200)
    assert budget.eac == pytest.approx(2800 * 1.55)  # BAC / CPI = 2800 / (1000 / 1550) = 4340
    assert budget.eac2 == pytest.approx(1550 + 1800)
    assert budget.etc == pytest.approx(4340 - 1550)
    assert budget.vac == pytest.approx(2800 - 4340)
    assert budget.tcpi == pytest.approx(1800 / 1250)  # (BAC − EV) / (BAC − AC)
    assert (budget.tasks_estimated, budget.tasks_unestimated) == (4, 1)
    assert (budget.tasks_with_actual, budget.actuals_from_time_tracking) == (4, 1)


def test_one_baseline_unestimated_actuals_and_undated_work_stay_outside_the_ratios(
    as_of: date, day: Callable[[int], date]
) -> None:
    """docs/kpis.md "EVM" (issue 9 item 6). Hours (no rate).

    | task | est | act | done | due      | PV | EV | EV_scheduled | AC | ac_unplanned | bac_unscheduled |
    | a    | 10  | 10  | yes  | day(-1)  | 10 | 10 | 10           | 10 |              |                 |
    | b    | 10  | 10  | yes  | -        | 0  | 10 | 0 (no due)   | 10 |              |                 |
    | c    | 20  | -   | no   | day(-1)  | 20 | 0  | 0            | 0  |              |                 |
    | d    | -   | 5   | yes  | day(-1)  | -  | -  | -            | -  | 5            |                 |
    | e    | 6   | -   | no   | -        | 0  | 0  | 0            | 0  |              | 6               |
    BAC 46, PV 30, EV 20, EV_scheduled 10, AC 20.
    New rules: CPI = 20/20 = 1, SPI = 10/30 = 1/3, SV = 10 − 30 = −20, EAC = 46/1 = 46, VAC 0.
    The old rules gave CPI = 20/25 = 0.8 (d's actuals inside AC) and SPI = 20/30 = 2/3 (b earned
    schedule it was never planned for).
    """
    tasks = [
        TaskInput("a", "A", completed=True, due=day(-1), estimate_hours=10, actual_hours=10),
        TaskInput("b", "B", completed=True, estimate_hours=10, actual_hours=10),
        TaskInput("c", "C", due=day(-1), estimate_hours=20),
        TaskInput("d", "D", completed=True, due=day(-1), actual_hours=5),
        TaskInput("e", "E", estimate_hours=6),
    ]
    budget = compute_budget(tasks, as_of, rate=None, currency=None)
    assert budget is not None
    assert (budget.bac, budget.pv, budget.ev, budget.ev_scheduled, budget.ac) == (46, 30, 20, 10, 20)
    assert budget.cpi == 1.0
    assert budget.spi == pytest.approx(1 / 3)
    assert budget.sv == -20
    assert (budget.eac, budget.vac) == (46, 0)
    assert (budget.ac_unplanned, budget.bac_unscheduled) == (5, 6)
    data = budget.to_json()
    assert (data["ac_unplanned"], data["bac_unscheduled"], data["ev_scheduled"]) == (5, 6, 10)


def test_unestimated_actuals_alone_leave_ac_zero_and_cpi_null(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [
        TaskInput("est", "Estimated", completed=True, due=day(-1), estimate_hours=4),
        TaskInput("spent", "Spent", actual_time_minutes=600),
    ]
    budget = compute_budget(tasks, as_of, rate=50.0, currency="EUR")
    assert budget is not None
    assert (budget.ac, budget.ac_unplanned) == (0, 500)  # 10 h x 50
    assert (budget.cpi, budget.eac, budget.vac) == (None, None, None)
    assert budget.spi == 1.0  # EV_scheduled 200 / PV 200


def test_derive_without_ev_scheduled_takes_ev() -> None:
    assert derive(bac=100, pv=50, ev=40, ac=45).ev_scheduled == 40
    evm = derive(bac=100, pv=50, ev=40, ac=45, ev_scheduled=25)
    assert (evm.spi, evm.sv, evm.cpi) == (0.5, -25, 40 / 45)


def test_without_a_rate_the_numbers_are_hours(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [TaskInput("a", "A", completed=True, estimate_hours=5, actual_hours=4, due=day(-1))]
    budget = compute_budget(tasks, as_of, rate=None, currency=None)
    assert budget is not None
    assert (budget.unit, budget.rate, budget.bac, budget.ac, budget.cpi) == ("hours", 1.0, 5, 4, 1.25)


def test_no_actuals_at_all_gives_ac_zero_and_no_cost_ratios(as_of: date, day: Callable[[int], date]) -> None:
    tasks = [TaskInput("a", "A", completed=True, estimate_hours=5, due=day(-1))]
    budget = compute_budget(tasks, as_of, rate=10.0, currency="USD")
    assert budget is not None
    assert budget.ac == 0
    assert (budget.cpi, budget.eac, budget.etc, budget.vac) == (None, None, None, None)
    assert budget.spi == 1.0
    assert budget.tasks_with_actual == 0


def test_unknown_actuals_make_ac_null_never_zero(as_of: date, day: Callable[[int], date]) -> None:
    """A past day on which one estimated task's actuals are unknown (it changed since): AC cannot be
    summed, so AC and everything computed from it are null; EV, PV and SPI stand. Unknown actuals
    of an unestimated task make `ac_unplanned` null and leave AC alone."""
    tasks = [
        TaskInput("a", "A", estimate_hours=10, actual_hours=8.0, completed=True, due=day(-1)),
        TaskInput("b", "B", estimate_hours=10, due=day(-1), actuals_known=False),
        TaskInput("c", "C", actual_hours=3.0),
    ]
    budget = compute_budget(tasks, as_of, rate=100.0, currency="EUR")
    assert budget is not None
    assert (budget.bac, budget.ev, budget.pv, budget.spi) == (2000.0, 1000.0, 2000.0, 0.5)
    assert (budget.ac, budget.cv, budget.cpi, budget.eac, budget.eac2, budget.etc, budget.vac, budget.tcpi) == (
        None,) * 8
    assert budget.ac_unplanned == 300.0
    budget_json = budget.to_json()
    assert (budget_json["ac"], budget_json["cpi"], budget_json["eac"], budget_json["vac"]) == (None,) * 4

    loose_unknown = [tasks[0], TaskInput("c", "C", actuals_known=False)]
    other = compute_budget(loose_unknown, as_of, rate=100.0, currency="EUR")
    assert other is not None
    assert (other.ac, other.ac_unplanned, other.cpi) == (800.0, None, 1000 / 800)
