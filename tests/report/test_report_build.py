"""Building the report from a store filled by real syncs: what changed, budget, trend, burn-up.

What only the building decides (upcoming lists, list lengths, scope of chosen projects, a project
too new for a burn-up) is tested from typed inputs in test_report_pure.py.

Tests that read snapshots through SQL (JSON paths, latest-before queries, upserts) run on SQLite
and PostgreSQL (`synced`); the rest run on SQLite only (`sqlite_synced`).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import pytest

from tests.report.report_support import Synced
from tpmsync.config import BudgetConfig, Settings
from tpmsync.report.model import iso_week
from tpmsync.report.trend import BURNUP_DAYS
from tpmsync.reporting import build_report
from tpmsync.sandbox.model import Task
from tpmsync.status import backfill_snapshots
from tpmsync.store.db import Store


def open_tasks(synced: Synced, project: str) -> list[Task]:
    ws = synced.workspace
    return sorted(
        (ws.tasks[g] for g in ws.project_member_gids(project) if not ws.tasks[g].completed),
        key=lambda t: t.gid,
    )


def test_daily_report_names_what_changed_since_the_previous_snapshot(synced: Synced) -> None:
    today = synced.today
    ws = synced.workspace
    project = next(iter(ws.projects))
    milestone = ws.add_task(
        project, name="Pilot live", resource_subtype="milestone", due_on=(today + timedelta(days=3)).isoformat()
    )
    synced.sync()
    synced.refresh()
    synced.move_snapshots(today, today - timedelta(days=1))  # yesterday's report saw this state
    candidates = open_tasks(synced, project)
    dated = [
        t
        for t in candidates
        if t.due_on is not None and t.due_on > today + timedelta(days=2) and t.resource_subtype != "milestone"
    ]
    done, slipped, late, blocker = dated[:4]
    taken = {done.gid, slipped.gid, late.gid, blocker.gid, milestone.gid}
    waiting = next(t for t in candidates if not t.dependency_gids and t.gid not in taken)
    assert len({done.gid, slipped.gid, late.gid, waiting.gid, blocker.gid, milestone.gid}) == 6
    old_due = slipped.due_on
    assert old_due is not None

    ws.complete_task(done.gid)
    ws.complete_task(milestone.gid)
    ws.edit_task(slipped.gid, due_on=(old_due + timedelta(days=5)).isoformat())
    ws.edit_task(late.gid, due_on=(today - timedelta(days=1)).isoformat())
    ws.add_dependency(waiting.gid, blocker.gid)
    synced.sync()
    synced.refresh()

    report = synced.report("daily")
    changes = report.project(project).changes
    assert (changes.basis, changes.since) == ("snapshot", today - timedelta(days=1))
    assert {t.gid for t in changes.completed.items} == {done.gid, milestone.gid}
    assert [t.gid for t in changes.milestones_reached.items] == [milestone.gid]
    assert [t.gid for t in changes.newly_overdue.items] == [late.gid]
    assert [(s.task.gid, s.days, s.previous_due, s.current_due) for s in changes.slipped.items] == [
        (slipped.gid, 5, old_due, old_due + timedelta(days=5))
    ]
    assert waiting.gid in {t.gid for t in changes.newly_blocked.items}
    assert all(t.url and t.url.startswith("https://app.asana.com/") for t in changes.completed.items)
    touched = taken | {waiting.gid}
    others = [p for p in report.projects if not touched & ws.project_task_gids(p.gid)]
    assert others  # some tasks are shared between projects; the rest saw no change
    assert [(p.name, p.changes) for p in others if p.changes.count] == []
    assert report.portfolio.completed_in_period == 2


def test_first_report_compares_with_the_day_before_as_history_has_it(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    report = synced.report("daily")
    for project in report.projects:
        assert (project.changes.basis, project.changes.since) == ("history", synced.today - timedelta(days=1))


def test_weekly_compares_with_the_latest_snapshot_before_the_week(synced: Synced) -> None:
    today = synced.today
    current = synced.snapshots(today)
    for days_ago in (3, 8, 20):
        for gid, data in current.items():
            synced.put_snapshot(gid, today - timedelta(days=days_ago), data)
    weekly = synced.report("weekly")
    daily = synced.report("daily")
    assert {p.changes.since for p in weekly.projects} == {today - timedelta(days=8)}
    assert {p.changes.since for p in daily.projects} == {today - timedelta(days=3)}
    assert {p.changes.basis for p in weekly.projects} == {"snapshot"}
    assert weekly.period == iso_week(today) and weekly.period_start == today - timedelta(days=6)
    assert daily.period == today.isoformat()


def test_since_chooses_the_state_what_changed_is_measured_from(synced: Synced) -> None:
    today = synced.today
    current = synced.snapshots(today)
    gid = next(iter(current))
    then, earlier = {"green": ("red", "amber"), "amber": ("green", "red"), "red": ("green", "amber")}[
        current[gid]["health"]
    ]
    synced.put_snapshot(gid, today - timedelta(days=3), {**current[gid], "health": then})
    synced.put_snapshot(gid, today - timedelta(days=8), {**current[gid], "health": earlier})

    def compared(since: date | None) -> tuple[date, str, str]:
        changes = synced.report("daily", projects=[gid], since=since).project(gid).changes
        return changes.since, changes.basis, changes.health_before

    assert compared(None) == (today - timedelta(days=3), "snapshot", then)
    assert compared(today - timedelta(days=3)) == (today - timedelta(days=3), "snapshot", then)
    assert compared(today - timedelta(days=5)) == (today - timedelta(days=8), "snapshot", earlier)
    first = today - timedelta(days=20)  # before every snapshot: that day as history reconstructs it
    assert compared(first)[:2] == (first, "history")


def test_verdict_change_and_trend_come_from_the_snapshots(synced: Synced) -> None:
    today = synced.today
    current = synced.snapshots(today)
    gid = next(iter(current))
    monday = today - timedelta(days=today.weekday())
    history = {monday - timedelta(weeks=3): "red", monday - timedelta(weeks=2): "amber"}
    for day, health in history.items():
        for other, data in current.items():
            synced.put_snapshot(other, day, {**copy.deepcopy(data), "health": health if other == gid else "green"})
    # two snapshots in one week: the later one is that week's verdict
    synced.put_snapshot(gid, monday - timedelta(weeks=2) + timedelta(days=3), {**current[gid], "health": "green"})

    report = synced.report("weekly")
    project = report.project(gid)
    cells = dict((c.period, c.health) for c in project.trend)
    assert cells[iso_week(monday - timedelta(weeks=3))] == "red"
    assert cells[iso_week(monday - timedelta(weeks=2))] == "green"
    assert cells[iso_week(monday - timedelta(weeks=4))] is None
    assert cells[iso_week(today)] == project.health
    assert report.trend_periods[-1] == iso_week(today) and len(report.trend_periods) == 8
    portfolio = dict((c.period, c.health) for c in report.portfolio.trend)
    assert portfolio[iso_week(monday - timedelta(weeks=3))] == "red"
    assert portfolio[iso_week(today)] == report.health


def test_health_before_is_the_compared_snapshots_verdict(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    today = synced.today
    current = synced.snapshots(today)
    gid = next(iter(current))
    other = {"green": "red", "amber": "green", "red": "green"}[current[gid]["health"]]
    synced.put_snapshot(gid, today - timedelta(days=1), {**current[gid], "health": other})
    changes = synced.report("daily").project(gid).changes
    assert changes.health_before == other


def test_budget_is_none_without_estimates(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    settings = replace(synced.settings, budget=BudgetConfig(estimate_field="No such field", actual_field="Nor this"))
    synced.settings = settings
    report = synced.report("weekly")
    assert report.projects and all(p.budget is None for p in report.projects)
    assert all(p.headline.spi is None and p.headline.cpi is None for p in report.projects)
    with_estimates = replace(settings, budget=BudgetConfig())
    synced.settings = with_estimates
    assert all(p.budget is not None and p.budget.bac > 0 for p in synced.report("weekly").projects)


def test_scope_is_the_portfolio_or_the_sorted_project_gids(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    gids = list(synced.workspace.projects)
    assert synced.report("daily").scope == "portfolio"
    assert synced.report("daily", projects=gids).scope == "portfolio"
    picked = [gids[2], gids[0]]
    report = synced.report("daily", projects=picked)
    assert report.scope == "projects:" + ",".join(sorted(picked))
    assert {p.gid for p in report.projects} == set(picked)
    by_name = synced.report("daily", projects=[synced.workspace.projects[gids[1]].name])
    assert by_name.scope == f"projects:{gids[1]}"


def test_unknown_kind_is_refused(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="daily, weekly"):
        build_report(sqlite_store, Settings(database_url=sqlite_store.url), "monthly")


def test_burnup_is_reconstructed_from_tasks_when_snapshots_are_sparse(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    ws, today = synced.workspace, synced.today
    report = synced.report("weekly")
    for project in report.projects:
        assert project.burnup is not None and project.burnup.source == "tasks"
        points = project.burnup.points
        assert points[-1].day == today
        assert (points[-1].completed, points[-1].total) == (project.headline.completed, project.headline.total)
        assert all(a.day < b.day for a, b in pairwise(points))
        assert all(a.completed <= b.completed for a, b in pairwise(points))
        truth = [ws.tasks[g] for g in ws.project_task_gids(project.gid)]
        week_ago = today - timedelta(days=7)
        done_by = sum(1 for t in truth if t.completed_at is not None and t.completed_at.date() <= week_ago)
        assert next(p.completed for p in points if p.day == week_ago) == done_by


def test_burnup_follows_the_snapshots_when_they_cover_the_window(synced: Synced) -> None:
    today = synced.today
    current = synced.snapshots(today)
    gid = next(iter(current))
    for days_ago in range(1, BURNUP_DAYS):
        data = copy.deepcopy(current[gid])
        data["tasks"] = {"total": 100 + days_ago, "completed": 60 - days_ago, "open": 40}
        synced.put_snapshot(gid, today - timedelta(days=days_ago), data)
    burnup = synced.report("weekly").project(gid).burnup
    assert burnup is not None and burnup.source == "snapshots"
    first = burnup.points[0]
    assert (first.day, first.completed, first.total) == (today - timedelta(days=BURNUP_DAYS - 1), 5, 155)


def test_past_as_of_reports_that_day(sqlite_synced: Synced) -> None:
    synced = sqlite_synced
    as_of = synced.today - timedelta(days=10)
    report = synced.report("weekly", as_of=as_of)
    assert report.as_of == as_of and report.period == iso_week(as_of)
    assert all(p.burnup is None or p.burnup.points[-1].day == as_of for p in report.projects)
    for project in report.projects:
        assert all(t.completed_on is not None and t.completed_on <= as_of for t in project.changes.completed.items)


def test_backfill_writes_past_days_once_and_never_today(synced: Synced) -> None:
    today = synced.today
    days = [today - timedelta(days=7), today - timedelta(days=1), today]
    assert backfill_snapshots(synced.store, synced.settings, days) == days[:2]
    assert set(synced.snapshots(days[0])) == set(synced.workspace.projects)
    assert backfill_snapshots(synced.store, synced.settings, days) == []
    daily = synced.report("daily")
    assert {p.changes.basis for p in daily.projects} == {"snapshot"}


def test_the_report_says_when_the_data_was_synced(sqlite_synced: Synced) -> None:
    from datetime import UTC, datetime

    report = sqlite_synced.report("daily")
    assert report.synced_at is not None and report.stale is False
    assert timedelta(0) <= datetime.now(UTC) - report.synced_at < timedelta(hours=1)
    assert report.freshness() == f"Data synced {report.synced_at:%Y-%m-%d %H:%M} UTC."


def test_a_previous_snapshot_in_an_older_shape_is_replaced_by_history(sqlite_synced: Synced) -> None:
    today = sqlite_synced.today
    sqlite_synced.refresh()
    gid, data = next(iter(sqlite_synced.snapshots(today).items()))
    older = {k: v for k, v in data.items() if k != "verdicts"}  # a key an older version did not write
    sqlite_synced.put_snapshot(gid, today - timedelta(days=1), older)
    report = sqlite_synced.report("daily")
    assert (report.project(gid).changes.basis, report.project(gid).changes.since) == (
        "history", today - timedelta(days=1)
    )
