"""init, doctor, db upgrade and sync --json through the CLI, against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.sync_support import TOKEN, make_settings, sandbox_config, sync, with_projects
from tpmsync.cli import main
from tpmsync.config import load_settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.strict import Strictness
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store, head_revision
from tpmsync.store.models import Project


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=13, projects=4, tasks_per_project=20, subtask_ratio=0.2, today=date(2026, 11, 25))


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


def test_init_writes_a_valid_commented_config_and_the_database(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    db = tmp_path / "t.db"
    runner = CliRunner()
    result = runner.invoke(main, ["--database-url", f"sqlite:///{db}", "init", "--path", str(config),
                                  "--workspace", "42", "--project", "Website relaunch", "--project", "7"])
    assert result.exit_code == 0, result.output
    settings = load_settings(config, env={})
    assert settings.asana.workspace == "42"
    assert settings.asana.projects == ("Website relaunch", "7")
    assert "# Client-side rate limit" in config.read_text()
    assert db.exists()
    again = runner.invoke(main, ["init", "--path", str(config)])
    assert again.exit_code == 1 and "exists already; pass --force" in again.output


def test_doctor_says_what_passes_and_what_does_not(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, f"sqlite:///{tmp_path / 'd.db'}",
                            projects=[first.gid, first.name, "No such project"])
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "doctor"], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("✓ config")
    assert lines[1].startswith("✗ database") and "tpmsync db upgrade" in lines[1]
    assert lines[2].startswith("✓ token")
    assert lines[3].startswith(f"✓ project {first.gid}") and lines[4].startswith(f"✓ project '{first.name}'")
    assert lines[5].startswith("✗ project 'No such project'")
    assert runner.invoke(main, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    bad_token = runner.invoke(main, ["--config", str(config), "doctor"], env={"TPMSYNC_ASANA_TOKEN": "nope"})
    assert "✓ database" in bad_token.output and "✗ token: Asana rejected the token (401" in bad_token.output


def test_db_upgrade_reports_the_head(database_url: str) -> None:
    result = CliRunner().invoke(main, ["--database-url", database_url, "db", "upgrade"])
    assert result.exit_code == 0
    assert result.output.strip().endswith(f"at revision {head_revision()}")


def test_sync_json_prints_the_run_record(
    tmp_path: Path, server: SandboxServer, workspace: Workspace, database_url: str
) -> None:
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "sync", "--json"], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["outcome"] == "ok" and record["mode"] == "incremental"
    assert {p["mode"] for p in record["projects"]} == {"full"}
    assert record["requests"] > 0 and record["tasks_upserted"] >= 80
    plain = runner.invoke(main, ["--config", str(config), "sync"], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert plain.exit_code == 0
    assert plain.output.startswith("synced 4 project(s): 0 task(s) upserted, 0 deleted, 4 request(s)")


def test_projects_come_from_a_portfolio_or_a_team(store: Store, server: SandboxServer, workspace: Workspace) -> None:
    from dataclasses import replace

    portfolio = next(iter(workspace.portfolios.values()))
    settings = with_projects(make_settings(server.base_url, store.url, workspace), ())
    by_portfolio = replace(settings, asana=replace(settings.asana, portfolios=(portfolio.gid,)))
    result = sync(store, by_portfolio)
    assert {p.gid for p in result.projects} == set(portfolio.project_gids)
    team = next(iter(workspace.teams))
    by_team = replace(settings, asana=replace(settings.asana, teams=(team,)))
    result = sync(store, by_team)
    expected = {g for g, p in workspace.projects.items() if p.team_gid == team}
    assert {p.gid for p in result.projects} == expected
    with store.read() as session:
        tracked = set(session.scalars(select(Project.gid).where(Project.tracked.is_(True))))
    assert tracked == set(portfolio.project_gids) | expected


def test_more_than_a_hundred_events_are_read_page_by_page(
    store: Store, server: SandboxServer, workspace: Workspace
) -> None:
    from tests.sync_support import assert_store_matches

    settings = make_settings(server.base_url, store.url, workspace)
    sync(store, settings)
    project = next(iter(workspace.projects))
    members = workspace.project_member_gids(project)
    for round_ in range(8):
        for gid in members:
            workspace.edit_task(gid, name=f"Round {round_} {gid}")
    result = sync(store, settings)
    assert result.outcome == "ok"
    changed = next(p for p in result.projects if p.gid == project)
    assert changed.events > 100
    assert_store_matches(store, workspace)


def test_doctor_validates_the_whole_config_and_the_budget_fields_of_each_project(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    runner = CliRunner()
    env = {"TPMSYNC_ASANA_TOKEN": TOKEN}
    db = f"sqlite:///{tmp_path / 'd.db'}"
    config = sandbox_config(tmp_path / "a.toml", server.base_url, workspace, db, projects=[first.gid],
                            extra='[budget]\nestimate_field = "Estimate"\n')
    result = runner.invoke(main, ["--config", str(config), "doctor"], env=env)
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "budget fields" in x)
    assert line.startswith(
        f"✗ budget fields of project {first.gid}: no number field for budget.estimate_field 'Estimate'"
    )
    assert "'Actual hours'" in line and "'Estimated hours'" in line  # the number fields it has

    good = sandbox_config(tmp_path / "b.toml", server.base_url, workspace, db, projects=[first.gid])
    result = runner.invoke(main, ["--config", str(good), "doctor"], env=env)
    assert f"✓ budget fields of project {first.gid}: 'Estimated hours' and 'Actual hours' found" in result.output

    for extra, named in [
        ("[schedule.daily]\ncron = \"0 8 * * *\"\nreport = \"daily\"\nchanels = [\"x\"]\n", "schedule.daily.chanels"),
        ("[channels.chat]\ntype = \"pigeon\"\n", "channels.chat"),
        ("[kpi.thresholds]\noverdue_ambr = 2\n", "kpi.thresholds.overdue_ambr"),
    ]:
        bad = sandbox_config(tmp_path / "c.toml", server.base_url, workspace, db, projects=[first.gid], extra=extra)
        result = runner.invoke(main, ["--config", str(bad), "doctor"], env=env)
        assert result.exit_code == 1
        assert result.output.startswith("✗ config: ") and named in result.output, result.output


def test_doctor_lists_each_projects_sections_and_suggests_flow_for_a_board(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    db = f"sqlite:///{tmp_path / 'd.db'}"
    runner = CliRunner()
    env = {"TPMSYNC_ASANA_TOKEN": TOKEN}
    assert runner.invoke(main, ["--database-url", db, "db", "upgrade"]).exit_code == 0
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, db, projects=[first.name])
    result = runner.invoke(main, ["--config", str(config), "doctor"], env=env)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"✓ sections of {first.name!r}"))
    # without [flow], the default started names are shown and a [flow] table suggested
    assert "Backlog, In progress (started), Review (started), Done" in line
    assert "looks like a board: add a [flow] table" in line

    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, db, projects=[first.gid],
                            extra='[flow]\nstarted_sections = ["Doing"]\n')
    result = runner.invoke(main, ["--config", str(config), "doctor"], env=env)
    line = next(x for x in result.output.splitlines() if x.startswith(f"✓ sections of {first.name!r}"))
    assert "Backlog, In progress, Review, Done; none counts as started" in line
    assert f'[flow.projects."{first.name}"] started_sections' in line

    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, workspace, db, projects=[first.gid],
                            extra=f'[flow]\n[flow.projects."{first.gid}"]\nstarted_sections = ["Review"]\n')
    result = runner.invoke(main, ["--config", str(config), "doctor"], env=env)
    line = next(x for x in result.output.splitlines() if x.startswith(f"✓ sections of {first.name!r}"))
    assert line.endswith("Backlog, In progress, Review (started), Done")


def test_init_switches_flow_on_when_the_projects_sections_look_like_a_board(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    runner = CliRunner()
    config = tmp_path / "tpmsync.toml"
    args = ["--database-url", f"sqlite:///{tmp_path / 't.db'}", "--asana-base-url", server.base_url, "init", "--path",
            str(config), "--workspace", workspace.asana_workspace.gid, "--project", first.name]
    result = runner.invoke(main, args, env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert f"[flow] switched on: {first.name}" in result.output
    settings = load_settings(config, env={})
    assert settings.flow is not None
    assert settings.flow.started_sections == ("In progress", "Doing", "In review", "Review", "QA", "Testing")
    assert settings.flow.project_started_sections == {}  # the per-project example stays a comment

    offline = runner.invoke(main, [*args, "--force"], env={"TPMSYNC_ASANA_TOKEN": "", "ASANA_ACCESS_TOKEN": ""})
    assert offline.exit_code == 0, offline.output
    assert load_settings(config, env={}).flow is None


def test_init_leaves_flow_off_for_projects_without_a_board(
    tmp_path: Path, server: SandboxServer, workspace: Workspace
) -> None:
    first = next(iter(workspace.projects.values()))
    for section in [s for s in workspace.sections.values() if s.project_gid == first.gid]:
        section.name = {"In progress": "Now", "Review": "Later"}.get(section.name, section.name)
    config = tmp_path / "tpmsync.toml"
    args = ["--database-url", f"sqlite:///{tmp_path / 't.db'}", "--asana-base-url", server.base_url,
            "init", "--path", str(config), "--project", first.gid]
    result = CliRunner().invoke(main, args, env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "[flow] switched on" not in result.output
    assert load_settings(config, env={}).flow is None


@pytest.mark.parametrize("carried", [True, False], ids=["fields-in-the-project-record", "server-leaves-them-out"])
def test_doctor_reads_the_budget_fields_from_the_project_record_when_asana_gives_them(
    tmp_path: Path, workspace: Workspace, carried: bool
) -> None:
    """One project by gid, one by name: both come with their custom field settings, so doctor asks
    for none of them again; a server that leaves them out is asked once per project."""
    first, second = list(workspace.projects.values())[:2]
    strictness = Strictness() if carried else Strictness(omit=frozenset({"custom_field_settings"}))
    with SandboxServer(workspace, token=TOKEN, strictness=strictness) as srv:
        config = sandbox_config(tmp_path / "d.toml", srv.base_url, workspace, f"sqlite:///{tmp_path / 'd.db'}",
                                projects=[first.gid, second.name])
        result = CliRunner().invoke(main, ["--config", str(config), "doctor"], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
        asked = srv.stats[("GET", "/projects/{gid}/custom_field_settings")]
    found = [line for line in result.output.splitlines() if line.startswith("✓ budget fields of project")]
    assert len(found) == 2, result.output
    assert all("'Estimated hours' and 'Actual hours' found" in line for line in found), result.output
    assert asked == (0 if carried else 2)
