"""End to end for flow and people: sandbox → `tpmsync sync` → tasks move between sections and are
completed upstream → incremental `tpmsync sync` → `tpmsync status --format json` gives the flow and
people numbers the sandbox's own history implies, on SQLite and PostgreSQL.

The oracle below reads the sandbox's tasks and story list and applies docs/kpis.md's definitions
("Flow", "People") on its own, independently of tpmsync/kpi.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests import day_support
from tests.sync_support import TOKEN, sandbox_config
from tpmsync.cli import main
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store

STARTED = ("In progress", "Review")
WINDOW = 42
HOURS_PER_WEEK = 32
HORIZON = 14


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    return generate_workspace(seed=7, projects=3, tasks_per_project=40, subtask_ratio=0.2, today=today)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def day(at: datetime, zone: tzinfo = UTC) -> date:
    return at.astimezone(zone).date()


def nearest_rank(values: list[int]) -> dict[str, int | None]:
    ordered = sorted(values)
    if len(ordered) < 5:
        return {"p50": None, "p85": None, "p95": None, "n": len(ordered)}
    return {f"p{p}": ordered[math.ceil(p / 100 * len(ordered)) - 1] for p in (50, 85, 95)} | {"n": len(ordered)}


def flow_oracle(ws: Workspace, project: str, today: date, zone: tzinfo = UTC) -> dict[str, Any]:
    """docs/kpis.md "Flow" on the sandbox's truth for as_of = today, dates in `zone`."""
    sections = {s.gid for s in ws.sections.values() if s.project_gid == project}
    started = {s.gid for s in ws.sections.values() if s.project_gid == project and s.name in STARTED}
    window_start = today - timedelta(days=WINDOW - 1)
    lead: list[int] = []
    cycle: list[int] = []
    wip: dict[str, int] = {}
    for gid in ws.project_task_gids(project):
        task = ws.tasks[gid]
        section_now = next((m.section_gid for m in task.memberships if m.project_gid == project), None)
        moves = [s for s in ws.stories_for(gid) if s.resource_subtype == "section_changed"
                 and (s.new_section_gid in sections or s.old_section_gid in sections)]
        into_started = [s for s in moves if s.new_section_gid in started]
        started_on: date | None = None
        if into_started:
            started_on = day(min(s.created_at for s in into_started), zone)
        elif (moves and moves[0].old_section_gid in started) or (not moves and section_now in started):
            started_on = day(task.created_at, zone)  # created in a started section
        if task.completed:
            assert task.completed_at is not None
            done = day(task.completed_at, zone)
            if window_start <= done <= today:
                lead.append((done - day(task.created_at, zone)).days + 1)
                if started_on is not None and started_on <= done:
                    cycle.append((done - started_on).days + 1)
        elif section_now in started:
            assert started_on is not None
            wip[gid] = (today - started_on).days + 1
    cycle_time = nearest_rank(cycle)
    p85 = cycle_time["p85"]
    aging = None if p85 is None else {g for g, age in wip.items() if age > p85}
    return {"wip": len(wip), "aging": aging, "lead_time": nearest_rank(lead), "cycle_time": cycle_time,
            "ages": wip}


def people_oracle(ws: Workspace, today: date) -> dict[str, dict[str, Any]]:
    """docs/kpis.md "People": per assignee over every tracked project's task set, each task once."""
    every = set().union(*(ws.project_task_gids(p) for p in ws.projects))
    estimate = ws.get_custom_field("Estimated hours").gid
    out: dict[str, dict[str, Any]] = {}
    for gid in every:
        task = ws.tasks[gid]
        if task.completed or task.assignee_gid is None:
            continue
        due = task.due_at.astimezone(UTC).date() if task.due_at is not None else task.due_on
        person = out.setdefault(task.assignee_gid, {"open": 0, "overdue": 0, "due_in_horizon": 0, "load": 0.0})
        person["open"] += 1
        if due is not None and due < today:
            person["overdue"] += 1
        if due is not None and today <= due <= today + timedelta(days=HORIZON - 1):
            person["due_in_horizon"] += 1
        if due is not None and due <= today + timedelta(days=HORIZON - 1) and estimate in task.custom_values:
            person["load"] += float(task.custom_values[estimate])  # type: ignore[arg-type]
    return out


def cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    return result.output


def section(ws: Workspace, project: str, name: str) -> str:
    return next(s.gid for s in ws.sections.values() if s.project_gid == project and s.name == name)


def open_in(ws: Workspace, project: str, name: str) -> list[str]:
    gid = section(ws, project, name)
    return [t for t in sorted(ws.project_member_gids(project)) if not ws.tasks[t].completed
            and any(m.project_gid == project and m.section_gid == gid for m in ws.tasks[t].memberships)]


def test_status_json_gives_the_flow_and_people_the_sandbox_history_implies(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace, today: date
) -> None:
    ws = workspace
    listed = ", ".join(f'"{name}"' for name in STARTED)
    config = sandbox_config(
        tmp_path / "tpmsync.toml", server.base_url, ws, store.url,
        extra=f"[flow]\nstarted_sections = [{listed}]\nwindow_days = {WINDOW}\n"
              f"[workload]\nhours_per_week = {HOURS_PER_WEEK}\nhorizon_days = {HORIZON}\n",
    )
    cli(config, "sync")
    before = {p: flow_oracle(ws, p, today)["wip"] for p in ws.projects}

    moved_into: list[str] = []
    for project in ws.projects:  # upstream, between the two syncs
        backlog, doing, review = (open_in(ws, project, n) for n in ("Backlog", "In progress", "Review"))
        for task in backlog[:2]:
            ws.move_to_section(task, section(ws, project, "In progress"))
            moved_into.append(task)
        ws.move_to_section(doing[0], section(ws, project, "Review"))
        ws.move_to_section(doing[1], section(ws, project, "Backlog"))
        ws.move_to_section(review[0], section(ws, project, "Done"))
        ws.complete_task(review[0])
        ws.complete_task(review[1])  # completed where it is
    server.reset_stats()
    cli(config, "sync")

    document = json.loads(cli(config, "status", "--format", "json"))
    assert document["as_of"] == today.isoformat()
    for project in document["projects"]:
        expected = flow_oracle(ws, project["gid"], today)
        flow = project["flow"]
        assert flow is not None, project["name"]
        assert (flow["wip"], expected["wip"]) == (before[project["gid"]] + 2 - 1 - 2,) * 2, project["name"]
        for key in ("lead_time", "cycle_time"):
            got = {k: flow[key][k] for k in ("p50", "p85", "p95", "n")}
            assert got == expected[key], (project["name"], key)
        if expected["aging"] is None:
            assert flow["aging"] is None
        else:
            assert flow["aging"] == len(expected["aging"])
            assert {t["gid"] for t in flow["aging_tasks"]} <= expected["aging"]
        for item in flow.get("wip_tasks", []):
            assert item["age_days"] == expected["ages"][item["gid"]], item
    wip_now = {item["gid"]: item for p in document["projects"] for item in p["flow"]["wip_tasks"]}
    assert set(moved_into) <= set(wip_now)  # in progress now, by the moves between the syncs
    assert any(wip_now[t]["started_on"] == today.isoformat() for t in moved_into)

    people = {person["gid"]: person for person in document["people"]}
    expected_people = people_oracle(ws, today)
    assert set(people) == set(expected_people)
    capacity = HOURS_PER_WEEK * HORIZON / 7
    for gid, want in expected_people.items():
        got = people[gid]
        assert (got["open"], got["overdue"], got["due_in_horizon"]) == (
            want["open"], want["overdue"], want["due_in_horizon"]), got["name"]
        assert got["load_hours"] == pytest.approx(want["load"]), got["name"]
        assert got["capacity_hours"] == pytest.approx(capacity)
        assert got["overloaded"] == (want["load"] > capacity), got["name"]
    assert any(person["overloaded"] for person in document["people"])  # the generator's overloaded person
