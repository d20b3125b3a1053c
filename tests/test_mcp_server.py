"""`tpmsync mcp` as a real subprocess, over stdio and streamable HTTP, with the SDK's own client.

The store is made by a real sync from the sandbox on 127.0.0.1, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client
from sqlalchemy import func, select

from tests import day_support
from tests.mcp_support import (
    error_text,
    http_server,
    run_client,
    server_env,
    stdio_params,
    structured,
)
from tests.sync_support import TOKEN, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.mcp.adapter import DEFAULT_STATUS_ITEMS
from tpmsync.mcp.answers import cap_lists
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import KpiSnapshot

TOOLS = {"status", "project_detail", "what_changed", "critical_path", "forecast", "people", "explain_verdict"}
PROJECT_TOOLS = ("project_detail", "critical_path", "forecast", "explain_verdict")
REPORTS = {"tpmsync://reports/daily/latest", "tpmsync://reports/weekly/latest"}


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    return generate_workspace(seed=41, projects=3, tasks_per_project=40, subtask_ratio=0.2, today=today)


@pytest.fixture
def sandbox(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


@pytest.fixture
def config(tmp_path: Path, store: Store, sandbox: SandboxServer, workspace: Workspace) -> Path:
    """A store synced from the sandbox (KPI snapshots not yet stored) and a config pointing at both."""
    assert sync(store, make_settings(sandbox.base_url, store.url, workspace)).outcome == "ok"
    return sandbox_config(
        tmp_path / "tpmsync.toml", sandbox.base_url, workspace, store.url,
        extra=f'[channels.archive]\ntype = "file"\npath = "{(tmp_path / "archive").as_posix()}"\n',
    )


def snapshot_count(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(KpiSnapshot)) or 0)


def test_stdio_answers_every_tool_like_the_cli_without_asana_and_without_writing(
    tmp_path: Path, config: Path, store: Store, sandbox: SandboxServer
) -> None:
    env = server_env()  # no Asana token at all
    asana_requests = sandbox.stats.total
    assert snapshot_count(store) == 0  # so the server must compute today's KPIs, and may not store them

    async def session(client: Client) -> dict[str, Any]:
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        for tool in listed:
            assert tool.annotations is not None and tool.annotations.read_only_hint is True
            assert tool.description and len(tool.description) > 80
            assert tool.input_schema["type"] == "object"
        whole = {"max_items": 100_000}
        out: dict[str, Any] = {"computed": structured(await client.call_tool("status", whole))}
        out["snapshots_after_computing"] = snapshot_count(store)
        out["cli"] = _cli_json(config, "status", "--format", "json")  # computes and stores today's snapshots
        out["from_snapshots"] = structured(await client.call_tool("status", whole))
        out["default"] = structured(await client.call_tool("status", {}))
        name = out["cli"]["projects"][0]["name"]
        for tool in PROJECT_TOOLS:
            out[tool] = structured(await client.call_tool(tool, {"project": name}))
        out["people"] = structured(await client.call_tool("people", {}))
        out["what_changed"] = structured(await client.call_tool("what_changed", {}))
        out["resources"] = {str(r.uri) for r in (await client.list_resources()).resources}
        out["weekly"] = (await client.read_resource("tpmsync://reports/weekly/latest")).contents[0]
        out["prompts"] = {p.name for p in (await client.list_prompts()).prompts}
        out["prompt"] = (await client.get_prompt("weekly_status_for_stakeholders", {"audience": "the board"})).messages
        out["bad_project"] = error_text(await client.call_tool("project_detail", {"project": "No such project"}))
        out["bad_date"] = error_text(await client.call_tool("status", {"as_of": "2026-02-30"}))
        out["after_errors"] = structured(await client.call_tool("status", {"projects": [name], **whole}))
        return out

    got = run_client(stdio_params(config, env, tmp_path), session)

    assert sandbox.stats.total == asana_requests, "the MCP server must never call Asana"
    assert got["snapshots_after_computing"] == 0, "the MCP server must not write (not even KPI snapshots)"
    cli = got["cli"]
    assert got["computed"] == cli
    assert got["from_snapshots"] == cli
    assert got["default"] == cap_lists(cli, DEFAULT_STATUS_ITEMS)
    project = cli["projects"][0]
    detail = got["project_detail"]
    assert detail["overdue"]["count"] == project["deadline"]["overdue"]
    assert [t["gid"] for t in detail["overdue"]["tasks"]] == [t["gid"] for t in project["deadline"]["overdue_tasks"]]
    assert all(t["url"].startswith("https://app.asana.com/") for t in detail["overdue"]["tasks"])
    assert detail["blocked"]["count"] == project["dependencies"]["blocked"]
    assert got["critical_path"]["days"] == project["dependencies"]["critical_path_days"]
    assert [t["gid"] for t in got["critical_path"]["tasks"]] == project["dependencies"]["critical_path"]
    assert got["forecast"]["forecast"] == project["deadline"]["forecast"]
    assert {r["kpi"] for r in got["explain_verdict"]["rules"]} == set(project["verdicts"])
    assert got["people"]["people"] == cli["people"] and cli["people"]  # the same workload as the CLI's
    assert {p["gid"] for p in got["what_changed"]["projects"]} == {p["gid"] for p in cli["projects"]}
    assert got["resources"] == REPORTS
    assert got["weekly"].mime_type == "text/markdown" and got["weekly"].text.startswith("# Weekly status")
    assert got["prompts"] == {"weekly_status_for_stakeholders"}
    assert "for the board" in got["prompt"][0].content.text and "# Weekly status" in got["prompt"][0].content.text
    assert "not in the local store: No such project" in got["bad_project"]
    assert "as_of" in got["bad_date"] and "valid date" in got["bad_date"]
    assert got["after_errors"]["projects"] == [project]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the busy case: one SQLite file, two writers
def test_http_answers_during_a_sync_and_never_shows_a_secret(
    tmp_path: Path, config: Path, store: Store, sandbox: SandboxServer, workspace: Workspace, today: date
) -> None:
    secret = "pat-2/1200000000000001:do-not-show-me"
    env = server_env(TPMSYNC_ASANA_TOKEN=secret)
    project = next(iter(workspace.projects))
    to_complete = next(g for g in workspace.project_member_gids(project) if not workspace.tasks[g].completed)
    settings = make_settings(sandbox.base_url, store.url, workspace)
    texts: list[str] = []

    def keep(result: Any) -> Any:
        texts.append(json.dumps(result.structured_content) + " ".join(getattr(c, "text", "") for c in result.content))
        return result

    async def before_and_during(client: Client) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
        before = structured(keep(await client.call_tool("status", {"projects": [project]})))
        no_report = structured(keep(await client.call_tool("what_changed", {})))["since_basis"]
        workspace.complete_task(to_complete)
        sandbox.faults.latency_ms = 10  # a sync that takes a while
        answers: list[dict[str, Any]] = []
        syncing = True

        async def run_sync() -> None:
            nonlocal syncing
            try:
                assert (await anyio.to_thread.run_sync(lambda: sync(store, settings, full=True))).outcome == "ok"
            finally:
                syncing = False

        async with anyio.create_task_group() as group:
            group.start_soon(run_sync)
            while syncing:
                answers.append(structured(keep(await client.call_tool("status", {"projects": [project]}))))
        sandbox.faults.latency_ms = 0
        return before, answers, no_report

    async def bad_arguments(client: Client) -> list[str]:
        tomorrow = (today + timedelta(days=1)).isoformat()
        return [
            error_text(keep(await client.call_tool("forecast", {"project": ""}))),
            error_text(keep(await client.call_tool("forecast", {}))),
            error_text(keep(await client.call_tool("status", {"as_of": tomorrow}))),
            error_text(keep(await client.call_tool("what_changed", {"since": tomorrow}))),
            error_text(keep(await client.call_tool("status", {"projects": "not a list"}))),
        ]

    async def after(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        now = structured(keep(await client.call_tool("status", {"projects": [project]})))
        yesterday = (today - timedelta(days=1)).isoformat()
        changed = structured(keep(await client.call_tool("what_changed", {"since": yesterday})))
        return now, changed

    with http_server(config, env, tmp_path) as url:
        before, during, no_report = run_client(url, before_and_during)
        errors = run_client(url, bad_arguments)
        now, changed = run_client(url, after)
        code, out = _cli(config, "report", "daily", "--post", "--channel", "archive")
        assert code == 0, out
        basis = run_client(url, lambda c: c.call_tool("what_changed", {}))

    assert during, "no status call completed while the sync ran"
    assert all(d["projects"][0]["gid"] == project for d in during)
    done = before["projects"][0]["tasks"]["completed"]
    assert now["projects"][0]["tasks"]["completed"] == done + 1
    assert {d["projects"][0]["tasks"]["completed"] for d in during} <= {done, done + 1}
    completed = next(p for p in changed["projects"] if p["gid"] == project)["completed"]
    assert to_complete in {t["gid"] for t in completed["items"]}
    assert no_report.startswith("yesterday (no report has been sent")
    assert structured(basis)["since_basis"].startswith(f"the last report sent: daily {today.isoformat()} to archive")
    assert "String should have at least 1 character" in errors[0]
    assert "project" in errors[1] and "Field required" in errors[1]
    assert "is in the future" in errors[2]
    assert "is after today" in errors[3]
    assert "projects" in errors[4] and "list" in errors[4]
    assert texts and not any(secret in text for text in texts)


def _cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def _cli_json(config: Path, *args: str) -> dict[str, Any]:
    code, out = _cli(config, *args)
    assert code == 0, out
    document: dict[str, Any] = json.loads(out)
    return document
