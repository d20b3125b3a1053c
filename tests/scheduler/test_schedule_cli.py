"""`tpmsync schedule list | run-once | status | run` through the CLI, on SQLite and PostgreSQL, with
the sandbox over real HTTP and a file channel for reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests import day_support
from tests.scheduler.scheduler_support import FakeClock, runs
from tests.sync_support import TOKEN, sandbox_config
from tpmsync.cli import main
from tpmsync.config import load_settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.schedule.leader import make_leadership
from tpmsync.schedule.plan import load_plan
from tpmsync.schedule.worker import Worker
from tpmsync.store.db import Store
from tpmsync.store.models import SyncRun


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=3, projects=2, tasks_per_project=25, today=day_support.today())


@pytest.fixture
def sandbox(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: SandboxServer, workspace: Workspace, database_url: str) -> Path:
    return sandbox_config(
        tmp_path / "tpmsync.toml", sandbox.base_url, workspace, database_url,
        asana_extra="backoff_base_seconds = 0.01\n",
        extra=f'[channels.archive]\ntype = "file"\npath = "{tmp_path / "reports"}"\nformats = ["json"]\n'
        "[schedule]\nstale_sync_minutes = 30\n"
        "[schedule.sync]\nevery_minutes = 15\n"
        '[schedule.daily-report]\ncron = "0 8 * * 1-5"\ntimezone = "Europe/Berlin"\nreport = "daily"\n'
        'channels = ["archive"]\n',
    )


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN})


def test_list_shows_each_job_its_trigger_next_run_and_last_outcome(config: Path, store: Store) -> None:
    before = invoke(config, "schedule", "list")
    assert before.exit_code == 0, before.output
    assert "leader: none yet" in before.output
    assert "* from the config: no worker has scheduled this job yet" in before.output
    assert re.search(r"\d\d:\d\d [A-Z]+ \*", before.output) is not None

    settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    plan = load_plan(settings)
    clock = FakeClock(datetime.now(UTC))
    leadership = make_leadership(store, "worker-1", failover_seconds=plan.failover_seconds, clock=clock)
    leadership.poll()
    try:
        worker = Worker(store, settings, plan, leadership=leadership, clock=clock)
        worker.tick()  # schedules the jobs; the sync's first run is this second, rounded up
        clock.advance(seconds=1)
        worker.tick()
        listed = invoke(config, "schedule", "list")
    finally:
        leadership.release()
        leadership.dispose()
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert re.match(r"leader: worker-1 #[0-9a-f]{6} since ", lines[0])
    assert lines[1].split() == ["JOB", "WORK", "TRIGGER", "NEXT", "RUN", "LAST", "RUN"]
    sync_line = next(line for line in lines if line.startswith("sync "))
    assert "every 15 min" in sync_line and " ok " in sync_line
    report_line = next(line for line in lines if line.startswith("daily-report"))
    assert "daily report → archive" in report_line
    assert "cron 0 8 * * 1-5 (Europe/Berlin)" in report_line
    assert " 08:00 CE" in report_line  # CET or CEST: the job's own time zone
    assert report_line.rstrip().endswith("—")
    assert "no worker has scheduled" not in listed.output
    assert re.search(r"\d\d:\d\d [A-Z]+ \*", listed.output) is None  # no next run marked as unscheduled

    document = json.loads(invoke(config, "schedule", "list", "--json").output)
    assert document["leader"]["holder"].startswith("worker-1 #")
    jobs = {job["job"]: job for job in document["jobs"]}
    assert jobs["sync"]["last"]["outcome"] == "ok"
    assert jobs["daily-report"]["next_run"].endswith(("+01:00", "+02:00"))
    assert jobs["daily-report"]["scheduled"] is True


def test_run_once_runs_a_sync_and_a_report_now(config: Path, store: Store, tmp_path: Path) -> None:
    synced = invoke(config, "schedule", "run-once", "sync")
    assert synced.exit_code == 0, synced.output
    assert synced.output.startswith("job sync (")
    assert ": ok in " in synced.output
    reported = invoke(config, "schedule", "run-once", "daily-report", "--as-of", "2026-11-20")
    assert reported.exit_code == 0, reported.output
    assert "— 1 sent" in reported.output
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["daily-2026-11-20-portfolio.json"]
    again = invoke(config, "schedule", "run-once", "daily-report", "--as-of", "2026-11-20")
    assert again.exit_code == 0 and "— 1 skipped" in again.output  # the ledger: once per channel
    assert [(r.job, r.trigger, r.outcome) for r in runs(store)] == [
        ("sync", "manual", "ok"), ("daily-report", "manual", "ok"), ("daily-report", "manual", "ok")
    ]


def test_run_once_of_an_unknown_job_names_the_configured_ones(config: Path, store: Store) -> None:
    result = invoke(config, "schedule", "run-once", "weekly")
    assert result.exit_code == 1
    assert result.output.strip().endswith("no job 'weekly' in [schedule.*] of " + str(config)
                                          + "; configured: sync, daily-report")


def test_status_is_healthy_only_with_a_recent_sync(config: Path, store: Store) -> None:
    none_yet = invoke(config, "schedule", "status")
    assert (none_yet.exit_code, none_yet.output.strip()) == (1, "stale: no sync has finished yet")
    started = time.monotonic()
    assert invoke(config, "schedule", "run-once", "sync").exit_code == 0
    fresh = invoke(config, "schedule", "status")
    took = time.monotonic() - started
    assert fresh.exit_code == 0, fresh.output
    # the sync finished within the run-once (whose KPI refresh after the sync may take seconds on a
    # busy machine), and whole seconds are shown
    age = re.match(r"ok: last sync finished (\d+)s ago \(", fresh.output)
    assert age is not None and int(age.group(1)) <= took and "threshold 30 min" in fresh.output, (fresh.output, took)
    backdated = time.monotonic()
    with store.write() as session:
        for run in session.query(SyncRun):
            run.finished_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=45)
    old = invoke(config, "schedule", "status")
    late = time.monotonic() - backdated
    assert old.exit_code == 1
    # 45 minutes, and the seconds the status took to ask (shown from the first whole second on)
    stale = re.match(r"stale: last sync finished 45m(?:(\d\d)s)? ago \(", old.output)
    assert stale is not None and int(stale.group(1) or 0) <= late, (old.output, late)
    relaxed = invoke(config, "schedule", "status", "--max-age-minutes", "60", "--json")
    assert relaxed.exit_code == 0
    document = json.loads(relaxed.output)
    assert (document["ok"], document["max_age_minutes"], round(document["age_minutes"])) == (True, 60, 45)


def test_run_without_jobs_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n', encoding="utf-8")
    result = invoke(config, "schedule", "run")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {config}: no [schedule.NAME] job to run; see config/tpmsync.example.toml"


def test_a_bad_schedule_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text('[schedule.sync]\nevery_minutes = "often"\n', encoding="utf-8")
    for command in (["schedule", "run"], ["schedule", "list"], ["schedule", "run-once", "sync"]):
        result = invoke(config, *command)
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"error: {config}: schedule.sync.every_minutes must be a whole number ≥ 1, got 'often'"
        )


def test_the_cli_does_not_import_the_scheduler_until_a_schedule_command_runs() -> None:
    code = "import sys, tpmsync.cli; print(sorted(m for m in ('apscheduler', 'tpmsync.scheduler') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_report_as_of_is_the_fire_date_in_the_jobs_time_zone() -> None:
    from tpmsync.schedule.plan import JobSpec, report_date

    spec = JobSpec(name="r", kind="report", timezone="Pacific/Auckland", cron="0 8 * * *")
    fired = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # 08:00 on the 26th in Auckland
    assert report_date(spec, fired) == date(2026, 11, 26)


def test_run_refuses_to_start_when_a_report_channel_lacks_its_secret(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        '[channels.team-slack]\ntype = "slack"\nwebhook_url_env = "TEST_ONLY_SLACK_URL"\n'
        '[schedule.daily]\ncron = "0 8 * * *"\nreport = "daily"\nchannels = ["team-slack"]\n',
        encoding="utf-8",
    )
    result = invoke(config, "schedule", "run")
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "TEST_ONLY_SLACK_URL" in result.output
