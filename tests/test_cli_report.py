"""`tpmsync report` end to end: sandbox → sync → report → delivery through the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import day_support
from tests.sync_support import TOKEN, sandbox_config
from tpmsync.cli import main
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace

VERDICT_TO_STATUS = {"green": "on_track", "amber": "at_risk", "red": "off_track"}


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=31, projects=3, tasks_per_project=30, subtask_ratio=0.2,
                              today=day_support.today())


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


@pytest.fixture
def config(tmp_path: Path, server: SandboxServer, workspace: Workspace, database_url: str) -> Path:
    return sandbox_config(
        tmp_path / "tpmsync.toml", server.base_url, workspace, database_url,
        extra='[channels.pm-asana]\ntype = "asana_status"\n'
        f'[channels.archive]\ntype = "file"\npath = "{(tmp_path / "archive").as_posix()}"\nformats = ["md", "json"]\n',
    )


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    return result.exit_code, result.output


def test_report_prints_writes_posts_once_and_keeps_history(
    tmp_path: Path, config: Path, workspace: Workspace
) -> None:
    assert run(config, "sync")[0] == 0
    code, text = run(config, "report", "daily")
    assert code == 0 and "Daily status" in text
    code, out = run(config, "report", "weekly", "--out", str(tmp_path / "weekly.html"))
    assert code == 0 and out.startswith("wrote ")
    html = (tmp_path / "weekly.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "data:image/png;base64," in html
    code, out = run(config, "report", "daily", "--format", "json")
    report = json.loads(out)
    assert report["kind"] == "daily" and len(report["projects"]) == 3

    code, preview = run(config, "report", "daily", "--post", "--dry-run")
    assert code == 0 and "dry-run" in preview
    assert all(not workspace.status_updates_for(g) for g in workspace.projects)
    assert not (tmp_path / "archive").exists()

    code, out = run(config, "report", "daily", "--post")
    assert code == 0, out
    assert out.count(": sent") == 4  # three Asana projects and the archive
    health = {p["gid"]: p["health"] for p in report["projects"]}
    for gid in workspace.projects:
        (update,) = workspace.status_updates_for(gid)
        assert update.status_type == VERDICT_TO_STATUS[health[gid]]
    assert sorted(p.suffix for p in (tmp_path / "archive").iterdir()) == [".json", ".md"]

    code, out = run(config, "report", "daily", "--post")
    assert code == 0 and out.count(": skipped") == 4
    assert all(len(workspace.status_updates_for(g)) == 1 for g in workspace.projects)

    code, out = run(config, "report", "daily", "--post", "--channel", "archive", "--force")
    assert code == 0 and out.count(": sent") == 1

    code, out = run(config, "report", "history", "--json")
    rows = json.loads(out)
    assert {(r["channel"], r["status"]) for r in rows} == {("pm-asana", "sent"), ("archive", "sent")}
    assert len(rows) == 4


def test_a_failed_post_exits_non_zero_and_the_rerun_completes_it(
    config: Path, server: SandboxServer, workspace: Workspace
) -> None:
    assert run(config, "sync")[0] == 0
    server.faults.fail_next(50, 500)
    code, out = run(config, "report", "daily", "--post", "--channel", "pm-asana")
    assert code == 1 and "not done" in out
    server.faults.clear()
    code, out = run(config, "report", "daily", "--post", "--channel", "pm-asana")
    assert code == 0, out
    assert all(len(workspace.status_updates_for(g)) == 1 for g in workspace.projects)


def test_an_unknown_channel_is_a_config_error(config: Path) -> None:
    assert run(config, "sync")[0] == 0
    code, out = run(config, "report", "daily", "--post", "--channel", "nope")
    assert code == 2 and out.startswith("error: ") and "nope" in out
