"""Freshness everywhere: the status document says when the last sync finished and whether that is stale;
an empty store is not green."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests import day_support
from tpmsync.cli import main
from tpmsync.config import Settings
from tpmsync.kpi import ProjectInput, TaskInput, compute_project_kpis
from tpmsync.status import status_for
from tpmsync.store.db import Store, open_store
from tpmsync.store.models import Project, SyncRun
from tpmsync.store.snapshots import save_people, save_snapshots


def project_json(gid: str, name: str, health: str) -> dict[str, Any]:
    """A project's KPI JSON as the engine writes it, with the health and reasons given."""
    tasks = [TaskInput("t1", "Task", due=date(2026, 12, 1)), TaskInput("t2", "Done", completed=True)]
    data = compute_project_kpis(ProjectInput(gid=gid, name=name, tasks=tasks), date(2026, 11, 25)).to_json()
    return {**data, "health": health, "reasons": [] if health == "green" else ["2 overdue tasks"]}


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    """A SQLite store with two tracked projects (snapshots come with `finish`)."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    settings = Settings(database_url=url, schedule_options={"stale_sync_minutes": 60}, source="tpmsync.toml")
    store = open_store(url)
    with store.write() as session:
        session.add_all([Project(gid="1", name="Beta"), Project(gid="2", name="Alpha")])
    yield store, settings
    store.dispose()


def finish(store: Store, settings: Settings, ago: timedelta) -> datetime:
    """A sync that finished `ago` before now, then today's snapshots (as sync_job stores them)."""
    from tpmsync.status import fingerprint

    today = day_support.today()  # the day `status` reads (the settings' zone is UTC)
    finished = (datetime.now(UTC) - ago).replace(tzinfo=None, microsecond=0)
    with store.write() as session:
        session.add(SyncRun(started_at=finished - timedelta(minutes=1), finished_at=finished, mode="full",
                            outcome="ok"))
    with store.write() as session:
        projects = [project_json("1", "Beta", "green"), project_json("2", "Alpha", "red")]
        save_snapshots(session, today, projects, fingerprint=fingerprint(settings))
        save_people(session, today, [], fingerprint=fingerprint(settings))  # stored beside them
    return finished.replace(tzinfo=UTC)


@pytest.mark.parametrize("path", ["fast", "full"])
def test_a_recent_sync_is_fresh_and_its_time_is_in_the_document(stored: tuple[Store, Settings], path: str) -> None:
    store, settings = stored
    finished = finish(store, settings, timedelta(minutes=5))
    document = status_for(settings) if path == "fast" else _full(store, settings)
    assert (document["synced_at"], document["stale"]) == (finished.isoformat(), False)
    assert [(p["name"], p["health"], p["stale"], p["reasons"]) for p in document["projects"]] == [
        ("Alpha", "red", False, ["2 overdue tasks"]), ("Beta", "green", False, []),
    ]


@pytest.mark.parametrize("path", ["fast", "full"])
def test_data_older_than_the_threshold_keeps_its_health_and_says_it_is_stale(
    stored: tuple[Store, Settings], path: str
) -> None:
    store, settings = stored
    finished = finish(store, settings, timedelta(hours=2))
    document = status_for(settings) if path == "fast" else _full(store, settings)
    assert (document["synced_at"], document["stale"]) == (finished.isoformat(), True)
    assert [(p["health"], p["stale"]) for p in document["projects"]] == [("red", True), ("green", True)]
    reason = f"the last sync finished 2 h ago ({finished:%Y-%m-%d %H:%M} UTC), more than 60 min"
    assert all(reason in p["reasons"][-1] for p in document["projects"])
    assert document["portfolio"]["health"] == "red"


def test_the_threshold_is_schedule_stale_sync_minutes(stored: tuple[Store, Settings]) -> None:
    from dataclasses import replace

    store, settings = stored
    finish(store, settings, timedelta(hours=2))
    assert status_for(replace(settings, schedule_options={"stale_sync_minutes": 180}))["stale"] is False


def _full(store: Store, settings: Settings) -> dict[str, Any]:
    from tpmsync.status import read_status

    return read_status(store, settings)


def test_status_tells_when_the_data_was_synced_and_warns_when_stale(
    stored: tuple[Store, Settings], tmp_path: Path
) -> None:
    store, settings = stored
    finish(store, settings, timedelta(hours=3))
    runner = CliRunner()
    result = runner.invoke(main, ["--database-url", settings.database_url, "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Stale data: synced 3 h ago" in result.stdout
    assert "warning: the data is stale" in result.stderr


def test_status_before_any_sync_says_what_to_run_exits_non_zero_and_creates_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default store is a file in the working directory
    Path("tpmsync.toml").write_text('[asana]\nworkspace = "1"\nprojects = ["Website relaunch"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["status"], env={"TPMSYNC_DATABASE_URL": None, "TPMSYNC_CONFIG": None})
    assert result.exit_code == 1
    assert "nothing synced yet" in result.stderr and "`tpmsync sync`" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tpmsync.toml"]


def test_an_empty_store_is_not_green(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).dispose()  # the schema, no project
    result = CliRunner().invoke(main, ["--database-url", url, "status", "--format", "json"])
    assert result.exit_code == 1 and "nothing synced yet" in result.stderr and "run `tpmsync sync`" in result.stderr
    assert result.stdout == ""


def test_a_sync_exactly_the_threshold_old_is_fresh_a_second_more_is_stale() -> None:
    from tpmsync.status import Freshness

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    at_threshold = Freshness(now - timedelta(minutes=60), 60, now)
    past_it = Freshness(now - timedelta(minutes=60, seconds=1), 60, now)
    assert (at_threshold.stale, past_it.stale) == (False, True)
    assert "the last sync finished 1 h ago (2026-11-25 07:59 UTC), more than 60 min" in past_it.reason()
