"""End to end: sandbox → sync → the status document carries flow, people and the forecast detail.

The sandbox workspace has board sections ("Backlog", "In progress", "Review", "Done"), a story
history, one person overloaded across projects who owns critical-path work, and (added here) an
open milestone waiting on a chain of open tasks. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from tests import day_support
from tests.sync_support import TOKEN, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.config import FlowConfig, Settings
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.people import people_from_json
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.status import backfill_snapshots, fingerprint, read_status, refresh_snapshots, status_for
from tpmsync.status_render import render_markdown, render_table
from tpmsync.store.db import Store
from tpmsync.store.fastread import read_current, sqlite_path
from tpmsync.store.snapshots import save_snapshots
from tpmsync.store.summary import summary_of

STARTED = {"in progress", "review"}


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    ws = generate_workspace(seed=21, projects=3, tasks_per_project=60, subtask_ratio=0.3, today=today)
    chain_milestone(ws)
    return ws


@pytest.fixture
def settings(server: SandboxServer, store: Store, workspace: Workspace) -> Settings:
    return replace(make_settings(server.base_url, store.url, workspace), flow=FlowConfig())


def chain_milestone(ws: Workspace) -> tuple[str, str, str]:
    """The first open milestone waits on an open assigned task, which waits on another: returns
    (milestone, first, second) gids."""
    milestone = next(t for t in ws.tasks.values() if t.resource_subtype == "milestone" and not t.completed)
    project = milestone.memberships[0].project_gid
    candidates = sorted(
        (g for g in ws.project_member_gids(project)
         if not ws.tasks[g].completed and ws.tasks[g].assignee_gid and ws.tasks[g].resource_subtype != "milestone"
         and not ws.tasks[g].dependency_gids),
        key=int,
    )
    first, second = candidates[:2]
    ws.add_dependency(milestone.gid, first)
    ws.add_dependency(first, second)
    return milestone.gid, first, second


def wip_of(ws: Workspace, project: str) -> int:
    """Open member tasks now in a started section of the project (the contract's `wip`)."""
    count = 0
    for gid in ws.project_member_gids(project):
        task = ws.tasks[gid]
        for membership in task.memberships:
            section = membership.section_gid
            if membership.project_gid == project and section and not task.completed and (
                ws.get_section(section).name.casefold() in STARTED
            ):
                count += 1
    return count


def test_the_document_carries_flow_people_and_the_forecast_detail(
    store: Store, settings: Settings, workspace: Workspace, today: date
) -> None:
    assert sync(store, settings).outcome == "ok"
    # a week-old snapshot to explain the movement, and two stored forecasts whose p85 has come
    assert backfill_snapshots(store, settings, [today - timedelta(days=7)]) == [today - timedelta(days=7)]
    ordered = sorted(workspace.projects, key=lambda g: workspace.get_project(g).name)
    judged_project = ordered[0]
    twenty_ago = today - timedelta(days=20)
    base = read_status(store, settings, selectors=[judged_project], as_of=twenty_ago, rebuild=True)["projects"][0]
    held, missed = json.loads(json.dumps(base)), json.loads(json.dumps(base))
    held["deadline"]["forecast"].update(remaining=1, p85=(today - timedelta(days=10)).isoformat())
    missed["deadline"]["forecast"].update(remaining=100_000, p85=(today - timedelta(days=10)).isoformat())
    with store.write() as session:
        save_snapshots(session, today - timedelta(days=20), [held], fingerprint="x")
        save_snapshots(session, today - timedelta(days=19), [missed], fingerprint="x")
    refresh_snapshots(store, settings)
    document = read_status(store, settings)

    rebuilt = read_status(store, settings, as_of=today - timedelta(days=7), rebuild=True)  # as the backfill made it
    week_ago = {p["gid"]: p for p in rebuilt["projects"]}
    projects = {p["gid"]: p for p in document["projects"]}
    assert set(projects) == set(workspace.projects)
    assert any(p["areas"]["flow"] != "green" for p in projects.values())  # the sandbox ages one board
    for gid, project in projects.items():
        flow = project["flow"]
        assert flow is not None, project["name"]
        assert set(flow) >= {"wip", "aging", "lead_time", "cycle_time", "aging_tasks"}
        assert flow["wip"] == wip_of(workspace, gid), project["name"]
        aging_reason = [r for r in project["reasons"] if re.match(r"^\d+ of \d+ tasks in progress are aging: '", r)]
        if flow["aging"] is not None and flow["aging"] / flow["wip"] >= 0.25:
            assert project["areas"]["flow"] in ("amber", "red") and aging_reason, project["name"]
            oldest = flow["aging_tasks"][0]
            assert f"'{oldest['name']}' in {oldest['section']} for {oldest['age_days']} days" in aging_reason[0]
        else:
            assert project["areas"]["flow"] == "green" and not aging_reason, project["name"]
        forecast = project["deadline"]["forecast"]
        assert set(forecast) >= {"p50", "p85", "how_many", "calibration", "milestones", "moved", "unblock_first"}
        how_many = forecast["how_many"]
        assert how_many["by"] == (today + timedelta(days=14)).isoformat()
        assert how_many["p85"] <= how_many["p50"] <= how_many["open"] == project["tasks"]["open"]
        moved = forecast["moved"]
        assert moved["since"] == (today - timedelta(days=7)).isoformat()
        assert moved["scope_days"] + moved["progress_days"] + moved["pace_days"] == moved["p85_change_days"]
        assert moved["p85_before"] == week_ago[gid]["deadline"]["forecast"]["p85"]
        assert moved["p85_after"] == forecast["p85"]
        week_old_p85 = week_ago[gid]["deadline"]["forecast"]["p85"]
        assert week_old_p85 is None or date.fromisoformat(week_old_p85) > today  # so it is not judged yet
        expected = {"judged": 2, "held": 1} if gid == judged_project else {"judged": 0, "held": 0}
        assert forecast["calibration"] == expected, project["name"]
        back = ProjectKpis.from_json(project, today)
        assert back.flow is not None and back.forecast_detail is not None
        # `stale` belongs to the document's freshness, not to the project's KPIs
        assert back.to_json() == {k: v for k, v in project.items() if k != "stale"}

    milestone_gid, first, second = chain_milestone_gids(workspace)
    home = next(p for p in projects.values() if any(m["gid"] == milestone_gid
                                                   for m in p["deadline"]["forecast"]["milestones"]))
    (entry,) = [m for m in home["deadline"]["forecast"]["milestones"] if m["gid"] == milestone_gid]
    assert entry["predecessors"] >= 2
    assert entry["basis"] == "cycle_time"  # the board's flow history gives the durations
    assert entry["p85"] is not None or entry["reason"]
    if entry["p85"] is not None:
        assert {c["gid"] for c in entry["criticality"]} >= {first, second}
        unblock = {u["gid"]: u for u in home["deadline"]["forecast"]["unblock_first"]}
        assert unblock[first]["assignee"]["gid"] == workspace.tasks[first].assignee_gid
        assert [b["gid"] for b in unblock[first]["blocked_by"]] == [second]

    people = document["people"]
    assert [p["load_ratio"] for p in people] == sorted((p["load_ratio"] for p in people), reverse=True)
    assert people_from_json(people)[0].to_json() == people[0]
    overloaded_gid = list(workspace.users)[1]
    (ana,) = [p for p in people if p["gid"] == overloaded_gid]
    assert ana["overloaded"] and ana["critical_tasks"] >= 1
    reason = re.compile(rf"^{re.escape(ana['name'])} owns \d+ critical tasks? and is at \d+ % of capacity "
                        r"for the next 14 days$")
    owned = set(ana["critical_task_gids"])
    concerned = [p for p in projects.values() if set(p["dependencies"]["critical_path"]) & owned]
    assert concerned
    for project in projects.values():
        has_reason = any(reason.match(r) for r in project["reasons"])
        assert has_reason == (project in concerned), project["name"]
        if has_reason:
            assert project["verdicts"]["overloaded_owners"]["area"] == "dependencies"
            assert project["health"] in ("amber", "red")


def rendered(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=160)
    console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def chain_milestone_gids(ws: Workspace) -> tuple[str, str, str]:
    milestone = next(t for t in ws.tasks.values() if t.resource_subtype == "milestone" and not t.completed)
    (first,) = milestone.dependency_gids
    (second,) = ws.tasks[first].dependency_gids
    return milestone.gid, first, second


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_people_by_and_detail_from_the_cli_and_both_read_paths_agree(
    tmp_path: Path, store: Store, settings: Settings, server: SandboxServer, workspace: Workspace, today: date
) -> None:
    sync(store, settings)
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, store.url, extra="[flow]\n")
    loaded = replace(settings, source=str(config))

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN,
                                                                                "COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        return result.output

    refresh_snapshots(store, loaded)
    # the stdlib reader answers (the instant path), and reads the document the store reads, people included
    path = sqlite_path(store.url)
    assert path is not None and read_current(path, (), today, fingerprint(loaded)) is not None
    fast = status_for(loaded)
    full = read_status(store, loaded)
    assert fast == full and fast["people"]
    # the table and Markdown read the stored summaries (no per-task lists) and show what the whole reads
    summary = status_for(loaded, detail=False)
    assert summary["projects"] == [summary_of(p) for p in full["projects"]] and summary["people"] == full["people"]
    assert render_markdown(summary) == render_markdown(full)
    assert rendered(render_table(summary)) == rendered(render_table(full))

    data = json.loads(cli("people", "--format", "json"))
    assert data == {"as_of": today.isoformat(), "people": full["people"]}
    table = cli("people")
    assert all(len(line) <= 80 for line in table.splitlines())
    top = full["people"][0]
    assert top["name"] in table and "overloaded" in table
    (row,) = [line for line in table.splitlines() if line.startswith(top["name"])]
    assert "■" in row and f"{top['load_hours']:.0f}/{top['capacity_hours']:.0f}" in row

    by = today + timedelta(days=30)
    counted = json.loads(cli("status", "--format", "json", "--by", by.isoformat()))
    for project in counted["projects"]:
        how_many = project["deadline"]["forecast"]["how_many"]
        assert how_many["by"] == by.isoformat()
        default = next(p for p in full["projects"] if p["gid"] == project["gid"])["deadline"]["forecast"]["how_many"]
        assert how_many["p50"] >= default["p50"]  # more days, at least as many done (same draws)

    detail = cli("status", "--detail")
    assert re.search(r"^  - .+ — in '(In progress|Review)' for \d+ days?", detail, re.M)
    assert re.search(r"^Milestones \(\d+\):$", detail, re.M)
    assert re.search(r"p50 \w+ \d+.*, p85 \w+ \d+", detail)
    assert re.search(r"(<5|>95|\d+) % likely on\s+time", detail)
    assert "Unblock first:" in detail and "decides" in detail
    # the date of the count is 14 days on: in late December it is in the next year, and says which
    assert re.search(r"^By \w+ \d+( \d{4})?: at least \d+ of \d+ open tasks done", detail, re.M)
    assert "Calibration: no 85 % date has come yet here" in detail
    assert "p85 moved" not in detail  # no snapshot a week old to compare with
    assert not re.search(r"(?<![<>\d])(0|100) %", detail)
