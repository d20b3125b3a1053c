"""compute_project_kpis end to end and the JSON contract of docs/kpis.md (the roll-up: tests/test_portfolio.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from tpmsync.kpi import (
    AsanaBudget,
    DueChange,
    KpiSettings,
    ProjectInput,
    TaskInput,
    compute_project_kpis,
)

Factory = Callable[..., ProjectInput]

CONTRACT_DEADLINE = {"overdue", "due_soon", "on_time_rate", "slipped", "forecast"}
CONTRACT_FORECAST = {"p50", "p85", "due_on", "probability_on_time"}
CONTRACT_BUDGET = {"bac", "pv", "ev", "ac", "cpi", "spi", "eac", "vac"}
CONTRACT_DEPENDENCIES = {
    "blocked",
    "blocked_by_overdue",
    "conflicts",
    "cross_project",
    "cycles",
    "critical_path",
    "critical_path_days",
}


def sample_project(project: Factory, day: Callable[[int], date]) -> ProjectInput:
    """A small project touching every KPI (as_of 2026-11-25)."""
    done = [
        TaskInput(
            f"done{n}",
            f"Done {n}",
            completed=True,
            completed_on=day(-n),
            due=day(-n + (1 if n % 3 else -1)),
            estimate_hours=4,
            actual_hours=5,
        )
        for n in range(0, 20, 2)
    ]
    tasks = [
        *done,
        TaskInput("freeze", "API freeze", due=day(-5), start=day(-9), estimate_hours=8, assignee_gid="u1"),
        TaskInput(
            "build",
            "Build",
            start=day(1),
            due=day(6),
            estimate_hours=16,
            dependency_gids=("freeze", "x1"),
            due_history=[DueChange(day(-4), day(2), day(6))],
        ),
        TaskInput("ship", "Ship", is_milestone=True, due=day(8), dependency_gids=("build",)),
        TaskInput("docs", "Docs", due=day(3), dependency_gids=("ship",)),
        TaskInput("sub", "Subtask", parent_gid="done0", actual_time_minutes=120),
    ]
    outside = [TaskInput("x1", "Auth service", due=day(2), project_gid="p2", project_name="Platform")]
    return project(
        tasks,
        due_on=day(20),
        outside_tasks=outside,
        rate=120.0,
        currency="EUR",
        asana_budget=AsanaBudget("time", "minutes", estimate=6000, actual=3000, total=12000),
    )


def test_project_json_has_exactly_the_contract_keys_and_more(
    project: Factory, as_of: date, day: Callable[[int], date]
) -> None:
    data = compute_project_kpis(sample_project(project, day), as_of).to_json()
    json.dumps(data)  # serialisable as is
    assert {"gid", "name", "health", "reasons", "tasks", "deadline", "budget", "dependencies"} <= set(data)
    assert set(data["tasks"]) == {"total", "open", "completed"}
    assert set(data["deadline"]) >= CONTRACT_DEADLINE
    assert set(data["deadline"]["forecast"]) >= CONTRACT_FORECAST
    assert set(data["budget"]) >= CONTRACT_BUDGET
    assert set(data["dependencies"]) >= CONTRACT_DEPENDENCIES
    assert data["health"] in {"green", "amber", "red"}
    assert all(isinstance(reason, str) for reason in data["reasons"])


def test_project_json_values(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    data = compute_project_kpis(sample_project(project, day), as_of).to_json()
    assert (data["gid"], data["name"]) == ("p1", "Website relaunch")
    assert data["tasks"] == {"total": 15, "open": 5, "completed": 10}
    deadline = data["deadline"]
    assert (deadline["overdue"], deadline["due_soon"], deadline["slipped"]) == (1, 2, 1)
    # done0..done18 step 2: completed on day(-n); on time unless n % 3 == 0 (n = 0, 6, 12, 18)
    assert deadline["on_time_rate"] == 0.6
    assert deadline["overdue_tasks"][0] == {
        "gid": "freeze",
        "name": "API freeze",
        "due": "2026-11-20",
        "assignee": None,
        "url": None,
    }
    assert deadline["forecast"]["due_on"] == "2026-12-15"
    assert [m["state"] for m in deadline["milestones"]] == ["upcoming"]

    budget = data["budget"]
    # BAC = (10·4 + 8 + 16) h · 120 = 7680; EV = 40 h · 120 = 4800; AC = 50 h · 120 = 6000 over the
    # estimated tasks; the unestimated subtask's 2 h are ac_unplanned = 240.
    # PV = (40 + 8) h · 120 = 5760 (build has not started); every done task has a due date, so
    # EV_scheduled = EV = 4800.
    assert (budget["bac"], budget["ev"], budget["ac"], budget["pv"]) == (7680.0, 4800.0, 6000.0, 5760.0)
    assert (budget["ac_unplanned"], budget["bac_unscheduled"]) == (240.0, 0.0)
    assert budget["cpi"] == pytest.approx(0.8, rel=1e-12)
    assert budget["spi"] == pytest.approx(4800 / 5760, rel=1e-12)
    assert budget["eac"] == pytest.approx(7680 / 0.8, rel=1e-12)
    assert budget["vac"] == pytest.approx(7680 - 7680 / 0.8, rel=1e-12)
    assert budget["unit"] == "EUR"
    assert data["asana_budget"] == {
        "budget_type": "time",
        "unit": "minutes",
        "estimate": 6000.0,
        "actual": 3000.0,
        "total": 12000.0,
        "remaining": 9000.0,
        "used_share": 0.25,
    }

    deps = data["dependencies"]
    assert (deps["blocked"], deps["blocked_by_overdue"], deps["cross_project"], deps["cycles"]) == (3, 1, 1, 0)
    # docs (due day 3) depends on ship (due day 8): one conflict
    assert deps["conflicts"] == 1
    # freeze (5 days) → build (6) → ship (1) → docs (1)
    assert deps["critical_path"] == ["freeze", "build", "ship", "docs"]
    assert deps["critical_path_days"] == 13
    assert deps["cross_project_tasks"][0]["project_name"] == "Platform"
    assert deps["critical_path_tasks"][1] == {
        "gid": "build",
        "name": "Build",
        "due": "2026-12-01",
        "assignee": None,
        "url": None,
        "duration": 6,
        "early_start": 5,
        "early_finish": 11,
        "late_start": 5,
        "late_finish": 11,
        "total_float": 0,
    }
    assert data["data_quality"]["completed_parents_with_open_subtasks"] == 1


def test_budget_is_null_without_estimates_never_zero(project: Factory, as_of: date) -> None:
    data = compute_project_kpis(project([TaskInput("a", "A", actual_hours=3)]), as_of).to_json()
    assert data["budget"] is None
    assert data["asana_budget"] is None
    assert data["notes"] == [
        "No budget figures: no task has an estimate",
        "Forecast: only 0 day(s) with completed tasks between 2026-10-15 and 2026-11-25; a forecast needs at least 5",
        "No on-time rate: no task with a due date was completed in the last 30 days",
    ]


def test_no_notes_when_every_kpi_has_a_value(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    assert compute_project_kpis(sample_project(project, day), as_of).notes == ()


def test_forecast_without_history_is_null_with_a_reason(project: Factory, as_of: date) -> None:
    data = compute_project_kpis(project([TaskInput("a", "A")]), as_of).to_json()
    forecast = data["deadline"]["forecast"]
    assert (forecast["p50"], forecast["p85"], forecast["probability_on_time"], forecast["due_on"]) == (
        None,
        None,
        None,
        None,
    )
    assert "a forecast needs at least 5" in forecast["reason"]
    assert data["deadline"]["on_time_rate"] is None


def test_max_items_caps_lists_but_not_counts(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    tasks = [TaskInput(f"t{n}", f"T{n}", due=day(-1 - n)) for n in range(6)]
    data = compute_project_kpis(project(tasks), as_of).to_json(max_items=2)
    assert data["deadline"]["overdue"] == 6
    assert [t["gid"] for t in data["deadline"]["overdue_tasks"]] == ["t5", "t4"]


def test_duplicate_task_gids_are_a_loader_bug(project: Factory, as_of: date) -> None:
    with pytest.raises(ValueError, match="listed more than once: a"):
        compute_project_kpis(project([TaskInput("a", "A"), TaskInput("a", "A again")]), as_of)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="stalled_days"):
        KpiSettings(stalled_days=0)
    with pytest.raises(ValueError, match="forecast_trials"):
        KpiSettings(forecast_trials=0)


def test_due_soon_days_comes_from_settings(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    tasks = [TaskInput("a", "A", due=day(3))]
    assert len(compute_project_kpis(project(tasks), as_of, KpiSettings(due_soon_days=2)).deadline.due_soon) == 0
    assert len(compute_project_kpis(project(tasks), as_of, KpiSettings(due_soon_days=3)).deadline.due_soon) == 1


def test_json_carries_full_precision(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    """No rounding in JSON (docs/kpis.md): people's renderers round, tools get the numbers."""
    tasks = [
        TaskInput("a", "A", completed=True, due=day(-1), estimate_hours=1, actual_hours=3),
        TaskInput("b", "B", due=day(-1), estimate_hours=2),
    ]
    data = compute_project_kpis(project(tasks, rate=33.333), as_of).to_json()
    budget = data["budget"]
    assert budget["bac"] == pytest.approx(99.999, rel=1e-12) and budget["bac"] != 100.0
    assert budget["ac"] == pytest.approx(99.999, rel=1e-12)
    assert budget["ev"] == pytest.approx(33.333, rel=1e-12) and budget["ev"] != 33.33
    assert budget["cpi"] == pytest.approx(1 / 3, rel=1e-12) and budget["cpi"] != 0.333
    assert budget["spi"] == pytest.approx(1 / 3, rel=1e-12)
    assert budget["tcpi"] is None  # BAC − AC = 0: no divisor


def test_forecast_dates_are_iso_days_after_as_of(project: Factory, as_of: date) -> None:
    tasks = [TaskInput(f"c{d}", "Done", completed=True, completed_on=as_of - timedelta(days=d)) for d in range(42)] + [
        TaskInput("o1", "Open"),
        TaskInput("o2", "Open 2"),
    ]
    forecast = compute_project_kpis(project(tasks), as_of).to_json()["deadline"]["forecast"]
    assert (forecast["p50"], forecast["p85"], forecast["p95"]) == ("2026-11-27", "2026-11-27", "2026-11-27")
