"""The one portfolio roll-up, as the status document and the report use it."""

from __future__ import annotations

from datetime import date, timedelta

from tpmsync.kpi import Health, ProjectInput, ProjectKpis, TaskInput, compute_project_kpis
from tpmsync.portfolio import Row, roll_up, row_of_json
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


def test_a_task_two_projects_share_counts_once_in_the_portfolio() -> None:
    """"shared" (open, overdue, blocked by the overdue "late") is in both projects' sets: each project
    counts it, the portfolio once: 4 tasks (not 5), open 3 (not 4), overdue 2 (not 3), blocked 1 (not 2)."""
    shared = TaskInput("shared", "Shared", due=day(-2), dependency_gids=("late",))
    late = TaskInput("late", "Late", due=day(-1))
    one = compute_project_kpis(
        ProjectInput(gid="a", name="A", tasks=[shared, late, TaskInput("a1", "A1", due=day(3))],
                     shared_gids=frozenset({"shared"})), AS_OF)
    two = compute_project_kpis(
        ProjectInput(gid="b", name="B", tasks=[shared, TaskInput("b1", "B1", completed=True)],
                     outside_tasks=[late], shared_gids=frozenset({"shared"})), AS_OF)
    assert (one.tasks.open, len(one.deadline.overdue), len(one.dependencies.blocked)) == (3, 2, 1)
    assert (two.tasks.open, len(two.deadline.overdue), len(two.dependencies.blocked)) == (1, 1, 1)
    portfolio = roll_up(row_of_json(k.to_json()) for k in (one, two))
    counts = (portfolio.projects, portfolio.total, portfolio.open, portfolio.completed, portfolio.overdue,
              portfolio.due_soon, portfolio.blocked, portfolio.blocked_by_overdue)
    assert counts == (2, 4, 3, 1, 2, 1, 1, 1)
    document = status_document(AS_OF, [one.to_json(), two.to_json()], [])
    assert {k: document["portfolio"][k] for k in ("projects", "open", "overdue", "blocked")} == {
        "projects": 2, "open": 3, "overdue": 2, "blocked": 1}
    assert ProjectKpis.from_json(two.to_json(), AS_OF).multi_homed == two.multi_homed


def test_the_report_portfolio_counts_a_shared_task_once_too() -> None:
    from tpmsync.report.build_project import _headline
    from tpmsync.report.model import SharedTask

    shared = TaskInput("shared", "Shared", due=day(1))
    projects = [
        compute_project_kpis(ProjectInput(gid=g, name=g, tasks=[shared], shared_gids=frozenset({"shared"})), AS_OF)
        for g in ("a", "b")
    ]
    headlines = [_headline(k) for k in projects]
    assert headlines[0].shared == (SharedTask("shared", ("total", "open", "due_soon")),)
    rolled = roll_up(Row(k.name, "green", h.total, h.open, h.completed, h.overdue, h.due_soon, h.blocked,
                         h.blocked_by_overdue, h.slipped, {s.gid: s.counts for s in h.shared})
                     for k, h in zip(projects, headlines, strict=True))
    assert (rolled.total, rolled.open, rolled.due_soon) == (1, 1, 1)
