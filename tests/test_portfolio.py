"""The one portfolio roll-up, as the status document and the report use it."""

from __future__ import annotations

from datetime import date, timedelta

from tpmsync.kpi import Health, ProjectInput, ProjectKpis, TaskInput, compute_project_kpis
from tpmsync.portfolio import roll_up, row_of_json
from tpmsync.status import status_document

AS_OF = date(2026, 11, 25)


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


def kpis(tasks: list[TaskInput], gid: str, name: str) -> ProjectKpis:
    return compute_project_kpis(ProjectInput(gid=gid, name=name, tasks=tasks), AS_OF)


def test_health_is_the_worst_project_and_counts_are_summed() -> None:
    green = kpis([TaskInput("g", "G", due=day(30))], "g", "Green")
    red = kpis(
        [
            TaskInput("late", "Late", due=day(-1)),
            TaskInput("blocked", "Blocked", dependency_gids=("late",)),
            TaskInput("done", "Done", completed=True),
        ],
        "r",
        "Red",
    )
    assert (green.health, red.health) == (Health.GREEN, Health.RED)
    portfolio = roll_up(row_of_json(k.to_json()) for k in (green, red))
    assert portfolio.health == "red"
    counts = (portfolio.projects, portfolio.open, portfolio.overdue, portfolio.blocked, portfolio.total,
              portfolio.completed, portfolio.due_soon, portfolio.blocked_by_overdue, portfolio.slipped)
    assert counts == (2, 3, 1, 1, 4, 1, 0, 1, 0)
    assert (portfolio.red, portfolio.amber, portfolio.green) == (("Red",), (), ("Green",))
    document = status_document(AS_OF, [green.to_json(), red.to_json()], [])
    assert document["portfolio"] == {
        "health": "red", "projects": 2, "open": 3, "overdue": 1, "blocked": 1, "red": ["Red"], "amber": [],
        "green": ["Green"],
    }
    assert [p["name"] for p in document["projects"]] == ["Red", "Green"]  # worst first


def test_empty_portfolio_is_green_with_zero_counts() -> None:
    portfolio = roll_up([])
    assert portfolio.health == "green"
    assert (portfolio.projects, portfolio.open, portfolio.overdue, portfolio.blocked) == (0, 0, 0, 0)
