"""End to end: sandbox → sync → `tpmsync status --format json` gives the numbers the sandbox implies.

The expected numbers come from a small oracle over the sandbox's own workspace, written from
docs/kpis.md's definitions independently of tpmsync/kpi.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests import day_support
from tests.sync_support import TOKEN, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store

RATE = 100.0
CONTRACT_PROJECT_KEYS = {"gid", "name", "health", "reasons", "tasks", "deadline", "budget", "dependencies"}


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    return generate_workspace(seed=21, projects=3, tasks_per_project=60, subtask_ratio=0.3, today=today)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def due_of(task: Any) -> date | None:
    if task.due_at is not None:
        return task.due_at.astimezone(UTC).date()
    return task.due_on


def oracle(ws: Workspace, project: str, today: date) -> dict[str, Any]:
    """docs/kpis.md's definitions, straight from the sandbox's truth."""
    tasks = {g: ws.tasks[g] for g in ws.project_task_gids(project)}
    open_ = {g for g, t in tasks.items() if not t.completed}
    overdue = {g for g in open_ if (d := due_of(tasks[g])) is not None and d < today}
    due_soon = {g for g in open_ if (d := due_of(tasks[g])) is not None and today <= d <= today + timedelta(days=7)}

    def is_open(gid: str) -> bool:
        return gid in ws.tasks and not ws.tasks[gid].completed

    def is_overdue(gid: str) -> bool:
        d = due_of(ws.tasks[gid]) if gid in ws.tasks else None
        return is_open(gid) and d is not None and d < today

    blocked = {g for g in open_ if any(is_open(d) for d in tasks[g].dependency_gids)}
    blocked_by_overdue = {g for g in blocked if any(is_overdue(d) for d in tasks[g].dependency_gids)}
    cross = {d for g in open_ for d in tasks[g].dependency_gids if d not in tasks and is_open(d)}
    conflicts = 0
    for g in open_:
        for d in tasks[g].dependency_gids:
            if is_open(d) and due_of(tasks[g]) and due_of(ws.tasks[d]) and due_of(ws.tasks[d]) > due_of(tasks[g]):
                conflicts += 1
    estimate_field = ws.get_custom_field("Estimated hours").gid
    estimates = {g: float(t.custom_values[estimate_field]) for g, t in tasks.items()  # type: ignore[arg-type]
                 if estimate_field in t.custom_values}
    bac = sum(estimates.values()) * RATE
    ev = sum(h for g, h in estimates.items() if tasks[g].completed) * RATE
    return {
        "tasks": {"total": len(tasks), "open": len(open_), "completed": len(tasks) - len(open_)},
        "overdue": len(overdue),
        "due_soon": len(due_soon),
        "blocked": len(blocked),
        "blocked_by_overdue": len(blocked_by_overdue),
        "cross_project": len(cross),
        "conflicts": conflicts,
        "bac": pytest.approx(bac, rel=1e-9),  # full precision: no rounding in JSON
        "ev": pytest.approx(ev, rel=1e-9),
    }


def status_json(tmp_path: Path, server: SandboxServer, ws: Workspace, store: Store, *args: str) -> dict[str, Any]:
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, ws, store.url,
                            extra=f"[budget]\nrate = {RATE}\n")
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json", *args],
                                env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_status_json_gives_the_numbers_the_workspace_implies(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace, today: date
) -> None:
    assert sync(store, make_settings(server.base_url, store.url, workspace)).outcome == "ok"
    document = status_json(tmp_path, server, workspace, store)
    assert document["as_of"] == today.isoformat()
    assert {p["gid"] for p in document["projects"]} == set(workspace.projects)
    for project in document["projects"]:
        assert set(project) >= CONTRACT_PROJECT_KEYS
        assert project["health"] in ("green", "amber", "red")
        assert project["health"] == "green" or project["reasons"]
        expected = oracle(workspace, project["gid"], today)
        deps = project["dependencies"]
        got = {
            "tasks": project["tasks"],
            "overdue": project["deadline"]["overdue"],
            "due_soon": project["deadline"]["due_soon"],
            "blocked": deps["blocked"],
            "blocked_by_overdue": deps["blocked_by_overdue"],
            "cross_project": deps["cross_project"],
            "conflicts": deps["conflicts"],
            "bac": project["budget"]["bac"],
            "ev": project["budget"]["ev"],
        }
        assert got == expected, project["name"]
        assert set(project["deadline"]["forecast"] or {}) >= (
            {"p50", "p85", "due_on", "probability_on_time"} if project["deadline"]["forecast"] else set()
        )
    portfolio = document["portfolio"]
    assert portfolio["projects"] == 3
    every = set().union(*(workspace.project_task_gids(p) for p in workspace.projects))  # a shared task once
    open_ = [workspace.tasks[g] for g in every if not workspace.tasks[g].completed]
    overdue = [t for t in open_ if (d := due_of(t)) is not None and d < today]
    assert (portfolio["open"], portfolio["overdue"]) == (len(open_), len(overdue))
    order = {"red": 2, "amber": 1, "green": 0}
    assert portfolio["health"] == max((p["health"] for p in document["projects"]), key=order.__getitem__)


def test_status_answers_offline_from_snapshots_and_sees_new_syncs(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace, today: date
) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    sync(store, settings)
    first = status_json(tmp_path, server, workspace, store)
    project = first["projects"][0]["gid"]
    open_member = next(g for g in workspace.project_member_gids(project) if not workspace.tasks[g].completed)
    workspace.complete_task(open_member)
    sync(store, settings)
    server.stop()  # offline from here on
    second = status_json(tmp_path, server, workspace, store)
    before = next(p for p in first["projects"] if p["gid"] == project)
    after = next(p for p in second["projects"] if p["gid"] == project)
    assert after["tasks"]["completed"] == before["tasks"]["completed"] + 1
    assert status_json(tmp_path, server, workspace, store) == second


def test_as_of_a_past_day_evaluates_the_store_on_that_day_and_rebuild_turns_back_completions(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace, today: date
) -> None:
    settings = make_settings(server.base_url, store.url, workspace)
    project = next(iter(workspace.projects))
    open_member = next(g for g in workspace.project_member_gids(project) if not workspace.tasks[g].completed)
    workspace.complete_task(open_member)  # completed today
    sync(store, settings)
    now = status_json(tmp_path, server, workspace, store, project)
    yesterday = today - timedelta(days=1)
    past = status_json(tmp_path, server, workspace, store, project, "--as-of", yesterday.isoformat())
    assert past["as_of"] == yesterday.isoformat()
    assert past["projects"][0]["tasks"] == now["projects"][0]["tasks"]  # the store as it is, on that day
    rebuilt = status_json(tmp_path, server, workspace, store, project, "--as-of", yesterday.isoformat(), "--rebuild")
    completed_today = sum(
        1 for g in workspace.project_task_gids(project)
        if workspace.tasks[g].completed_at is not None
        and workspace.tasks[g].completed_at.astimezone(UTC).date() == today
    )
    assert completed_today >= 1
    assert rebuilt["projects"][0]["tasks"]["completed"] == now["projects"][0]["tasks"]["completed"] - completed_today


def test_table_markdown_and_detail_views(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    sync(store, make_settings(server.base_url, store.url, workspace))
    document = status_json(tmp_path, server, workspace, store)
    config = str(tmp_path / "tpmsync.toml")
    runner = CliRunner()
    table = runner.invoke(main, ["--config", config, "status"])
    assert table.exit_code == 0
    for project in document["projects"]:
        assert project["name"][:20] in table.output
    assert "Portfolio (3)" in table.output
    markdown = runner.invoke(main, ["--config", config, "status", "--format", "markdown"])
    assert markdown.output.count("\n| ") == 5  # header, three projects, portfolio
    assert "| Project | Health |" in markdown.output
    name = document["projects"][0]["name"]
    detail = runner.invoke(main, ["--config", config, "status", name, "--detail"])
    assert detail.exit_code == 0
    assert f"{name} — {document['projects'][0]['health'].upper()}" in detail.output
    assert "Critical path (" in detail.output and "https://app.asana.com/" in detail.output
    # JSON holds the detail already: --detail adds no text after it, the output stays one document
    as_json = runner.invoke(main, ["--config", config, "status", name, "--format", "json", "--detail"])
    assert as_json.exit_code == 0
    assert [p["name"] for p in json.loads(as_json.stdout)["projects"]] == [name]
    missing = runner.invoke(main, ["--config", config, "status", "No such project"])
    assert missing.exit_code == 1
    assert missing.output.strip() == (
        "error: not in the local store: No such project; add it to asana.projects and run `tpmsync sync`"
    )


def test_thresholds_from_the_config_change_the_verdict_and_bad_ones_are_one_line(
    tmp_path: Path, store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    sync(store, make_settings(server.base_url, store.url, workspace))
    document = status_json(tmp_path, server, workspace, store)
    config = tmp_path / "tpmsync.toml"
    lenient = "\n".join(f"{k} = {v}" for k, v in {
        "overdue_share_red": 1.0, "overdue_amber": 100000, "on_time_rate_red": 0.0, "on_time_rate_amber": 0.0,
        "slipped_share_red": 1.0, "slipped_amber": 100000, "stalled_share_red": 1.0, "stalled_share_amber": 1.0,
        "milestone_overdue_red": 100000, "probability_red": 0.0, "probability_amber": 0.0, "spi_red": 0.0,
        "spi_amber": 0.0, "cpi_red": 0.0, "cpi_amber": 0.0, "blocked_by_overdue_amber": 100000,
        "blocked_by_overdue_on_critical_path_red": "false", "conflicts_amber": 100000, "cycles_amber": 100000,
        "critical_path_past_due_amber": "false",
    }.items())
    config.write_text(config.read_text() + f"[kpi.thresholds]\n{lenient}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    relaxed = json.loads(result.output)
    assert [p["health"] for p in relaxed["projects"]].count("red") <= [
        p["health"] for p in document["projects"]].count("red")
    config.write_text(config.read_text() + "bogus_threshold = 3\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert bad.exit_code == 2
    assert bad.output.startswith(f"error: {config}: unknown key kpi.thresholds.bogus_threshold; expected one of ")


def test_status_on_an_empty_store_says_to_sync_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--database-url", f"sqlite:///{tmp_path / 'empty.db'}", "status"])
    assert result.exit_code == 1
    assert "has no projects yet: run `tpmsync sync`" in result.output
