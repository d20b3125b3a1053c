"""`[schedule]` config → a validated plan; crontab lines → APScheduler triggers that mean the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.scheduler.scheduler_support import settings_with
from tpmsync.config import ConfigError, load_settings
from tpmsync.schedule.plan import (
    DEFAULT_FAILOVER_SECONDS,
    DEFAULT_MISFIRE_GRACE_SECONDS,
    JobSpec,
    load_plan,
)
from tpmsync.schedule.triggers import crontab_trigger
from tpmsync.setup import example_config

UTC_TZ = ZoneInfo("UTC")


def test_the_design_sheet_config_becomes_a_sync_and_a_report_job(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text(
        """
[channels.pm-asana]
type = "asana_status"
[channels.team-slack]
type = "slack"
webhook_url_env = "SLACK_WEBHOOK_URL"
[schedule]
failover_seconds = 12
stale_sync_minutes = 45
[schedule.sync]
every_minutes = 15
[schedule.daily-report]
cron = "0 8 * * 1-5"
timezone = "Europe/Berlin"
report = "daily"
channels = ["pm-asana", "team-slack"]
misfire_grace_seconds = 600
""",
        encoding="utf-8",
    )
    plan = load_plan(load_settings(config, env={}))
    assert plan.failover_seconds == 12
    assert plan.stale_sync_minutes == 45
    sync, report = plan.jobs
    assert sync == JobSpec(name="sync", kind="sync", timezone="UTC", every_seconds=900,
                           misfire_grace_seconds=DEFAULT_MISFIRE_GRACE_SECONDS)
    assert report == JobSpec(name="daily-report", kind="report", timezone="Europe/Berlin", cron="0 8 * * 1-5",
                             report="daily", channels=("pm-asana", "team-slack"), misfire_grace_seconds=600)
    assert sync.describe_trigger() == "every 15 min"
    assert report.describe_trigger() == "cron 0 8 * * 1-5 (Europe/Berlin)"
    assert report.describe_work() == "daily report → pm-asana, team-slack"


def test_defaults_without_a_schedule_section() -> None:
    plan = load_plan(settings_with({}), {})
    assert plan.jobs == ()
    assert plan.failover_seconds == DEFAULT_FAILOVER_SECONDS


def test_a_job_without_a_time_zone_takes_the_kpi_time_zone() -> None:
    plan = load_plan(settings_with({"nightly": {"cron": "0 2 * * *", "full": True}}, timezone="Asia/Tokyo"), {})
    assert plan.jobs[0].timezone == "Asia/Tokyo"
    assert plan.jobs[0].describe_work() == "sync --full"


def test_the_example_config_documents_a_valid_schedule(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text(example_config(), encoding="utf-8")
    plan = load_plan(load_settings(config, env={}))
    assert [spec.name for spec in plan.jobs] == ["sync"]
    text = example_config()
    for key in ("failover_seconds", "misfire_grace_seconds", "stale_sync_minutes", "every_minutes",
                "every_seconds", "cron", "timezone", "report", "channels", "projects", "full", "job"):
        assert f"{key} =" in text[text.index("[schedule]"):], key


@pytest.mark.parametrize(
    ("table", "options", "message"),
    [
        ({"sync": {}}, {}, "[schedule.sync] needs exactly one of cron, every_minutes, every_seconds; got none"),
        ({"sync": {"cron": "0 8 * * *", "every_minutes": 5}}, {}, "got cron, every_minutes"),
        ({"sync": {"every_minutes": 0}}, {}, "schedule.sync.every_minutes must be a whole number ≥ 1, got 0"),
        ({"sync": {"every_minutes": "5"}}, {}, "schedule.sync.every_minutes must be a whole number ≥ 1, got '5'"),
        ({"sync": {"every_minutes": 5, "colour": 1}}, {}, "unknown key schedule.sync.colour"),
        ({"sync": {"cron": "0 8 * *"}}, {}, "schedule.sync.cron '0 8 * *' is not a valid crontab line"),
        ({"sync": {"cron": "0 25 * * *"}}, {}, "schedule.sync.cron '0 25 * * *' is not a valid crontab line"),
        ({"sync": {"cron": "0 8 1 * 1"}}, {}, "ambiguous"),
        ({"sync": {"cron": "0 8 * * 8"}}, {}, "weekday '8' is not 0-7 or sun..sat"),
        ({"sync": {"every_minutes": 5, "timezone": "Mars/Olympus"}}, {},
         "schedule.sync.timezone 'Mars/Olympus' is not an IANA time zone"),
        ({"sync": {"every_minutes": 5, "full": "yes"}}, {}, "schedule.sync.full must be true or false"),
        ({"sync": {"every_minutes": 5, "channels": ["archive"]}}, {}, "schedule.sync.channels is for report jobs"),
        ({"r": {"cron": "0 8 * * *", "report": "monthly", "channels": ["archive"]}}, {},
         "schedule.r.report must be one of daily, weekly, got 'monthly'"),
        ({"r": {"cron": "0 8 * * *", "report": "daily"}}, {}, "schedule.r.channels must be a non-empty list"),
        ({"r": {"cron": "0 8 * * *", "report": "daily", "channels": ["nope"]}}, {},
         "schedule.r.channels names 'nope', which is not a [channels.NAME] table (archive)"),
        ({"r": {"cron": "0 8 * * *", "report": "daily", "channels": ["archive"], "full": True}}, {},
         "schedule.r.full is for sync jobs"),
        ({"r": {"cron": "0 8 * * *", "job": "backup"}}, {}, "schedule.r.job must be one of sync, report"),
        ({"bad name!": {"every_minutes": 5}}, {}, "a job name is letters, digits"),
        ({"sync": {"every_minutes": 5, "misfire_grace_seconds": 0}}, {},
         "schedule.sync.misfire_grace_seconds must be a whole number ≥ 1"),
        ({}, {"failover_seconds": 0}, "schedule.failover_seconds must be a whole number ≥ 1, got 0"),
        ({}, {"stale_sync_minutes": 1.5}, "schedule.stale_sync_minutes must be a whole number ≥ 1"),
        ({}, {"leader": "me"}, "unknown key schedule.leader"),
    ],
)
def test_a_mistake_is_one_line_naming_the_key_and_the_file(
    table: dict[str, Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_plan(settings_with(table), options)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("(test): ")
    assert message in text


def test_plain_schedule_keys_are_read_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text('[schedule]\nfailover_seconds = "soon"\n[schedule.sync]\nevery_seconds = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tpmsync.toml: schedule.failover_seconds must be a whole number"):
        load_plan(load_settings(config, env={}))


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("5-7", {"Fri", "Sat", "Sun"}),
        ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("SAT,sun", {"Sat", "Sun"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1-5/2", {"Mon", "Wed", "Fri"}),
        ("*", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(weekday: str, days: set[str]) -> None:
    trigger = crontab_trigger(f"0 8 * * {weekday}", UTC_TZ)
    fire = None
    now = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    seen = set()
    for _ in range(14):
        fire = trigger.get_next_fire_time(fire, now)
        assert fire is not None
        seen.add(f"{fire:%a}")
        assert (fire.hour, fire.minute) == (8, 0)
    assert seen == days
