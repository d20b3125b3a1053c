"""The report is a pure function of typed KPIs: built here from `ProjectKpis` with no database.

The tests beside this one build reports from a store filled by real syncs (the gathering and the
building together); these feed `build_report` the typed objects `tpmsync.reporting.gather` would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tpmsync.kpi import DueChange, KpiSettings, ProjectInput, ProjectKpis, TaskInput, compute_project_kpis
from tpmsync.report.build import ReportInputs, build_report

TODAY = date(2026, 11, 25)
YESTERDAY = TODAY - timedelta(days=1)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def kpis_of(tasks: list[TaskInput], as_of: date, gid: str = "p1", name: str = "Website relaunch") -> ProjectKpis:
    project = ProjectInput(gid=gid, name=name, tasks=tasks, permalink_url=f"https://app.asana.com/0/{gid}")
    return compute_project_kpis(project, as_of, KpiSettings(forecast_trials=200))


BEFORE = [
    TaskInput("done", "Write spec", due=day(5)),
    TaskInput("pilot", "Pilot live", is_milestone=True, due=day(3)),
    TaskInput("slip", "Migrate data", due=day(4)),
    TaskInput("late", "Review copy", due=day(6)),
    TaskInput("wait", "Launch page", due=day(9)),
    TaskInput("blocker", "Legal sign-off", due=day(8)),
]


def now_tasks() -> list[TaskInput]:
    tasks = {t.gid: t for t in BEFORE}
    tasks["done"] = replace(tasks["done"], completed=True, completed_on=TODAY)
    tasks["pilot"] = replace(tasks["pilot"], completed=True, completed_on=TODAY)
    tasks["slip"] = replace(tasks["slip"], due=day(9), due_history=[DueChange(TODAY, day(4), day(9))])
    tasks["late"] = replace(tasks["late"], due=day(-1))
    tasks["wait"] = replace(tasks["wait"], dependency_gids=("blocker",))
    return list(tasks.values())


def gathered(current: list[ProjectKpis], previous: dict[str, ProjectKpis], tasks: dict[str, list[TaskInput]],
             every_tracked: frozenset[str] | None = None, kind: str = "daily") -> ReportInputs:
    inputs = {k.gid: ProjectInput(gid=k.gid, name=k.name, tasks=tasks[k.gid]) for k in current}
    return ReportInputs(
        kind=kind,
        as_of=TODAY,
        current=current,
        inputs=inputs,
        previous={gid: (YESTERDAY, before, "snapshot") for gid, before in previous.items()},
        healths={},
        counts={},
        created={},
        every_tracked=every_tracked if every_tracked is not None else frozenset(k.gid for k in current),
    )


def test_changes_come_from_the_typed_kpis_of_both_days() -> None:
    now = kpis_of(now_tasks(), TODAY)
    before = kpis_of(BEFORE, YESTERDAY)
    report = build_report(gathered([now], {"p1": before}, {"p1": now_tasks()}), now=datetime(2026, 11, 25, tzinfo=UTC))
    changes = report.project("p1").changes
    assert (changes.basis, changes.since, changes.health_before) == ("snapshot", YESTERDAY, str(before.health))
    assert {t.gid for t in changes.completed.items} == {"done", "pilot"}
    assert [t.gid for t in changes.milestones_reached.items] == ["pilot"]
    assert [t.gid for t in changes.newly_overdue.items] == ["late"]
    assert [(s.task.gid, s.days, s.previous_due, s.current_due) for s in changes.slipped.items] == [
        ("slip", 5, day(4), day(9))
    ]
    assert [t.gid for t in changes.newly_blocked.items] == ["wait"]
    assert report.portfolio.completed_in_period == 2 and report.scope == "portfolio"


def test_a_state_compared_with_itself_has_no_new_problems_and_scope_names_the_chosen_projects() -> None:
    now = kpis_of(now_tasks(), TODAY)
    other = kpis_of([TaskInput("o1", "Other task", due=day(2))], TODAY, gid="p2", name="Other")
    report = build_report(gathered([now], {"p1": now}, {"p1": now_tasks()}, frozenset({"p1", "p2"})))
    changes = report.project("p1").changes
    assert (changes.newly_blocked.total, changes.newly_overdue.total, changes.slipped.total) == (0, 0, 0)
    assert changes.completed.total == 2  # completion dates still fall after the compared day
    assert report.scope == "projects:p1"
    assert other.gid not in {p.gid for p in report.projects}


def test_an_unknown_kind_is_refused() -> None:
    now = kpis_of(now_tasks(), TODAY)
    with pytest.raises(ValueError, match="report kind"):
        build_report(gathered([now], {"p1": now}, {"p1": now_tasks()}, kind="monthly"))


def test_the_report_carries_when_the_data_was_synced_and_every_renderer_says_it() -> None:
    from tpmsync.report.render_asana import render_asana
    from tpmsync.report.render_json import read_json, render_json
    from tpmsync.report.write import render

    now = kpis_of(now_tasks(), TODAY)
    synced = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    inputs = replace(gathered([now], {"p1": now}, {"p1": now_tasks()}), synced_at=synced, stale=True)
    report = build_report(inputs, now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert (report.synced_at, report.stale) == (synced, True)
    line = "Warning: the data is stale; the last sync finished 2026-11-25 06:00 UTC."
    assert report.freshness() == line
    for fmt in ("text", "markdown", "html"):
        assert line.replace("; ", "; ") in render(report, fmt).replace("&#x27;", "'"), fmt
    assert line in render_asana(report, report.projects[0])
    assert read_json(render_json(report)) == report
    fresh = build_report(replace(inputs, stale=False))
    assert fresh.freshness() == "Data synced 2026-11-25 06:00 UTC."
    assert build_report(replace(inputs, synced_at=None)).freshness().startswith("Data: no sync has finished yet")


def test_flow_people_and_the_written_status_come_from_the_gathered_inputs() -> None:
    from tpmsync.kpi.model.flow import CompletedItem, FlowDay, FlowHistory, FlowKpis, Percentiles, WipItem
    from tpmsync.kpi.model.inputs import SectionRef
    from tpmsync.kpi.people import PersonLoad

    tasks = [replace(t, assignee_gid="u1", assignee_name="Ana Silva") if t.gid == "wait" else t for t in now_tasks()]
    now = kpis_of(tasks, TODAY)
    young = WipItem("wait", "Launch page", "Doing", day(-2), 3)
    old = WipItem("blocker", "Legal sign-off", "Review", day(-19), 20)
    flow = FlowKpis(
        as_of=TODAY, window_start=day(-41), started_sections=("Doing", "Review"), wip=2, aging=1,
        lead_time=Percentiles(6, 14, 20, 8), cycle_time=Percentiles(4, 9, 12, 8),
        aging_tasks=(old,), wip_tasks=(old, young),
        completed=(CompletedItem("done", "Write spec", TODAY, 9, 4),),
    )
    history = FlowHistory(
        sections=(SectionRef("s1", "To do"), SectionRef("s2", "Doing")), started=(False, True),
        days=(FlowDay(day(-1), (3, 1), 0, 4, 1), FlowDay(TODAY, (2, 2), 0, 6, 2)),
    )
    people = (
        PersonLoad("u1", "Ana Silva", 3, 1, 3, 90.0, 0, 64.0, 90 / 64, ()),
        PersonLoad("u2", "Bo Chen", 5, 0, 2, 100.0, 0, 64.0, 100 / 64, ()),  # overloaded, not on this project
        PersonLoad("u3", "Cy Ode", 1, 0, 1, 8.0, 0, 64.0, 8 / 64, ()),
    )
    inputs = replace(gathered([now], {"p1": now}, {"p1": tasks}), flow={"p1": flow}, flow_history={"p1": history},
                     people=people, notes={"p1": "Vendor signs Friday"})
    report = build_report(inputs)
    project = report.project("p1")
    assert project.flow is not None
    assert [(i.task.gid, i.section, i.age_days, i.aging) for i in project.flow.wip] == [
        ("blocker", "Review", 20, True), ("wait", "Doing", 3, False)]
    assert [i.task.name for i in project.flow.aging] == ["Legal sign-off"]
    assert (project.flow.cycle_p50, project.flow.cycle_p85, project.flow.columns) == (4, 9, ("To do", "Doing"))
    assert [(d.columns, d.completed, d.throughput) for d in project.flow.days] == [((3, 1), 4, 1), ((2, 2), 6, 2)]
    assert [(p.name, p.overloaded) for p in report.people] == [
        ("Ana Silva", True), ("Bo Chen", True), ("Cy Ode", False)]
    assert project.written is not None and project.moved is None  # no forecast detail gathered: no split
    text = project.written.text
    assert text.startswith("Vendor signs Friday\n")
    assert "Ana Silva is at 1.4× capacity with 1 task overdue." in text
    assert "Bo Chen" not in text  # overloaded, but owns no open work here


# ---- from typed fixtures (tests/report/typed.py): several projects, history, estimates ----------


def test_upcoming_lists_the_open_tasks_due_in_the_next_two_weeks() -> None:
    from tests.report.typed import TODAY as AS_OF
    from tests.report.typed import inputs

    gathered_inputs = inputs("weekly")
    report = build_report(gathered_inputs, max_items=10_000)
    for project in report.projects:
        tasks = gathered_inputs.inputs[project.gid].tasks
        expected = {t.gid for t in tasks if not t.completed and t.due is not None
                    and AS_OF <= t.due <= AS_OF + timedelta(days=14)}
        up = project.upcoming
        assert expected and {t.gid for t in (*up.milestones.items, *up.due.items)} == expected
        assert up.milestones.total == 1 and all(t.milestone for t in up.milestones.items)
        dues = [t.due for t in up.due.items]
        assert dues == sorted(dues)  # type: ignore[type-var]


def test_lists_keep_max_items_and_the_full_count() -> None:
    from tests.report.typed import typed_report

    report = typed_report("weekly", max_items=2)
    busiest = max(report.projects, key=lambda p: p.upcoming.due.total)
    assert busiest.upcoming.due.total > 2
    assert len(busiest.upcoming.due.items) == 2
    assert busiest.upcoming.due.more == busiest.upcoming.due.total - 2
    assert all(len(p.changes.completed.items) <= 2 for p in report.projects)


def test_scope_is_the_portfolio_or_the_sorted_chosen_project_gids() -> None:
    from tests.report.typed import project_gid, typed_report

    assert typed_report("daily").scope == "portfolio"
    assert typed_report("daily", chosen=(0, 1, 2)).scope == "portfolio"
    picked = typed_report("daily", chosen=(2, 0))
    assert picked.scope == "projects:" + ",".join(sorted((project_gid(2), project_gid(0))))
    assert {p.gid for p in picked.projects} == {project_gid(0), project_gid(2)}


def test_budget_is_none_without_estimates_and_the_burnup_comes_from_the_tasks_without_counts() -> None:
    from tests.report.typed import typed_report

    bare = typed_report("weekly", estimates=False, history=False)
    assert bare.projects and all(p.budget is None for p in bare.projects)
    assert all(p.headline.spi is None and p.headline.cpi is None for p in bare.projects)
    for project in bare.projects:
        assert project.burnup is not None and project.burnup.source == "tasks"
        last = project.burnup.points[-1]
        assert (last.completed, last.total) == (project.headline.completed, project.headline.total)
    full = typed_report("weekly")
    assert all(p.budget is not None and p.budget.bac > 0 for p in full.projects)
    assert all(p.burnup is not None and p.burnup.source == "snapshots" for p in full.projects)


def test_a_project_without_history_gets_no_burnup() -> None:
    from tests.report.typed import inputs, project_gid

    gathered_inputs = inputs("weekly", history=False)
    fresh = {t.gid for t in gathered_inputs.inputs[project_gid(0)].tasks}
    created = {gid: TODAY - timedelta(days=2) if gid in fresh else day for gid, day in gathered_inputs.created.items()}
    report = build_report(replace(gathered_inputs, created=created))
    assert report.project(project_gid(0)).burnup is None  # three days of history: no chart rather than an empty one
    assert all(p.burnup is not None for p in report.projects if p.gid != project_gid(0))


def test_the_portfolio_counts_a_change_of_a_task_two_projects_share_once() -> None:
    """p1 and p2 hold the same tasks (multi-homed): each project reports its changes, the portfolio
    counts each task once, as its headline counts do."""
    shared = frozenset(t.gid for t in BEFORE)

    def both(tasks: list[TaskInput], as_of: date) -> list[ProjectKpis]:
        return [
            compute_project_kpis(ProjectInput(gid=gid, name=gid, tasks=tasks, shared_gids=shared), as_of,
                                 KpiSettings(forecast_trials=200))
            for gid in ("p1", "p2")
        ]

    now, before = both(now_tasks(), TODAY), both(BEFORE, YESTERDAY)
    report = build_report(
        gathered(now, {k.gid: b for k, b in zip(now, before, strict=True)}, {"p1": now_tasks(), "p2": now_tasks()})
    )
    assert report.project("p2").changes.completed.total == 2
    portfolio = report.portfolio
    assert (portfolio.headline.total, portfolio.headline.completed) == (6, 2)
    assert (portfolio.completed_in_period, portfolio.milestones_reached, portfolio.newly_overdue,
            portfolio.newly_blocked, portfolio.slipped_in_period) == (2, 1, 1, 1, 1)
