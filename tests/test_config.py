"""Config: file → environment → flags, and one readable line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpmsync.config import (
    DEFAULT_STARTED_SECTIONS,
    ConfigError,
    FlowConfig,
    WorkloadConfig,
    flow_settings,
    load_settings,
    thresholds_of,
    workload_settings,
)
from tpmsync.kpi import flow as kpi_flow
from tpmsync.kpi.people import WorkloadSettings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tpmsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[asana]\nworkspace = "42"\nprojects = ["1", "Website relaunch"]\nbase_url = "http://127.0.0.1:1/api/1.0"\n'
        '[database]\nurl = "sqlite:///from-file.db"\n[kpi]\ntimezone = "Europe/Berlin"\n',
    )
    settings = load_settings(path, env={})
    assert settings.asana.workspace == "42"
    assert settings.asana.projects == ("1", "Website relaunch")
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.asana.token is None
    env = {"TPMSYNC_DATABASE_URL": "sqlite:///from-env.db", "ASANA_ACCESS_TOKEN": "t1",
           "TPMSYNC_ASANA_BASE_URL": "http://127.0.0.1:2/api/1.0/"}
    settings = load_settings(path, env=env)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.asana.token == "t1"
    assert settings.asana.base_url == "http://127.0.0.1:2/api/1.0"
    assert load_settings(path, env={**env, "TPMSYNC_ASANA_TOKEN": "t2"}).asana.token == "t2"
    flagged = settings.with_overrides(database_url="sqlite:///from-flag.db", token="t3")
    assert flagged.database_url == "sqlite:///from-flag.db" and flagged.asana.token == "t3"


def test_config_file_is_found_through_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[asana]\nprojects = ["7"]\n')
    assert load_settings(env={"TPMSYNC_CONFIG": str(path)}).asana.projects == ("7",)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"TPMSYNC_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[asana\nprojects = 1", "not valid TOML"),
        ("[asana]\nprojects = 12.5\n", "asana.projects must be a list of gids or names"),
        ("[asana]\nrequests_per_minute = 0\n", "asana.requests_per_minute must be a whole number ≥ 1"),
        ("[asana]\nmax_concurrent_reads = 80\n", "from 1 to 50"),
        ('[asana]\ntoken = "secret"\n', "must not be written in the file"),
        ('[asana]\nbase_url = "app.asana.com"\n', "must start with http"),
        ('[kpi]\ntimezone = "Mars/Olympus"\n', "not an IANA time zone"),
        ('[kpi]\ndue_soon_days = "seven"\n', "kpi.due_soon_days must be a whole number"),
        ("[budget]\nrate = -1\n", "budget.rate must be a number ≥ 0"),
        ('[budget.project_rates]\n"Website relaunch" = -120\n',
         "budget.project_rates.Website relaunch must be a number ≥ 0"),
        ("[reports]\nx = 1\n", "unknown section [reports]"),
        ('[database]\nurl = "tpmsync.db"\n', "must be an SQLAlchemy URL"),
    ],
)
def test_a_malformed_config_gives_one_line_naming_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text_of_error = str(caught.value)
    assert message in text_of_error
    assert str(path) in text_of_error
    assert "\n" not in text_of_error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[budget]\nestimate_feild = "Estimate"\n',
            "unknown key budget.estimate_feild; did you mean budget.estimate_field?",
        ),
        (
            "[asana]\nrequests_per_minut = 150\n",
            "unknown key asana.requests_per_minut; did you mean asana.requests_per_minute?",
        ),
        ("[kpi]\ndue_son_days = 3\n", "unknown key kpi.due_son_days; did you mean kpi.due_soon_days?"),
        ('[database]\nadress = "x"\n', "unknown key database.adress; expected one of url"),
    ],
)
def test_a_misspelled_key_in_any_table_names_the_key_the_file_and_the_closest_valid_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}: {message}"


def test_the_example_config_uses_only_known_keys() -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "tpmsync.example.toml"
    settings = load_settings(example, env={})
    assert settings.asana.outside_refresh_minutes == 60 and settings.asana.tombstone_guard_share == 0.2


def test_no_flow_table_means_no_flow_and_workload_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[asana]\nprojects = ["1"]\n'), env={})
    assert settings.flow is None
    assert flow_settings(settings) is None
    assert settings.workload == WorkloadConfig(hours_per_week=32.0, horizon_days=14)
    assert workload_settings(settings) == WorkloadSettings(hours_per_week=32.0, horizon_days=14)


def test_an_empty_flow_table_takes_the_documented_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[flow]\n[kpi]\ntimezone = "Europe/Berlin"\n'), env={})
    assert settings.flow == FlowConfig(
        started_sections=("In progress", "Doing", "In review", "Review", "QA", "Testing"), window_days=42
    )
    assert DEFAULT_STARTED_SECTIONS == kpi_flow.DEFAULT_STARTED_SECTIONS
    assert FlowConfig().window_days == kpi_flow.DEFAULT_WINDOW_DAYS
    assert flow_settings(settings) == kpi_flow.FlowSettings(
        started_sections=DEFAULT_STARTED_SECTIONS, project_started_sections={}, window_days=42,
        timezone="Europe/Berlin",
    )


def test_flow_and_workload_tables_with_per_project_overrides(tmp_path: Path) -> None:
    text = (
        '[flow]\nstarted_sections = ["Building", " Checking "]\nwindow_days = 28\n'
        '[flow.projects."Website relaunch"]\nstarted_sections = ["Build"]\n'
        '[flow.projects."1207"]\nstarted_sections = []\n'
        "[workload]\nhours_per_week = 20.5\nhorizon_days = 7\n"
    )
    settings = load_settings(write(tmp_path, text), env={})
    assert settings.flow is not None
    assert settings.flow.started_sections == ("Building", "Checking")
    assert settings.flow.window_days == 28
    assert settings.flow.project_started_sections == {"Website relaunch": ("Build",), "1207": ()}
    assert settings.flow.started_names("9", "Website relaunch") == {"build"}
    assert settings.flow.started_names("1207", "Website relaunch") == frozenset()
    assert settings.flow.started_names("9", "Other") == {"building", "checking"}
    engine = flow_settings(settings)
    assert engine is not None
    assert engine.started_names("1207", "x") == frozenset()
    assert engine.started_names("9", "Website relaunch") == {"build"}
    assert engine.window_days == 28
    assert workload_settings(settings).capacity_hours == pytest.approx(20.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[flow]\nstarted_section = []\n", "unknown key flow.started_section"),
        ('[flow]\nstarted_sections = "Doing"\n', "flow.started_sections must be a list of section names"),
        ('[flow]\nstarted_sections = ["Doing", ""]\n', "flow.started_sections must be a list of section names"),
        ("[flow]\nwindow_days = 0\n", "flow.window_days must be a whole number ≥ 1"),
        ("flow = 3\n", "flow must be a table"),
        ('[flow.projects."Web"]\nstarted = ["A"]\n', 'unknown key flow.projects."Web".started'),
        ('[flow.projects."Web"]\n', 'flow.projects."Web".started_sections must be a list of section names'),
        ('[flow.projects]\nWeb = ["A"]\n', 'flow.projects."Web" must be a table'),
        ("[workload]\nhours = 3\n", "unknown key workload.hours"),
        ("[workload]\nhours_per_week = 0\n", "workload.hours_per_week must be a number above 0"),
        ("[workload]\nhorizon_days = 0\n", "workload.horizon_days must be a whole number ≥ 1"),
    ],
)
def test_a_malformed_flow_or_workload_table_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_example_config_reads_and_its_commented_flow_table_is_valid(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[1] / "tpmsync" / "templates" / "tpmsync.example.toml").read_text()
    assert load_settings(write(tmp_path, example), env={}).flow is None
    uncommented = example.replace("# [flow]\n", "[flow]\n").replace("# started_sections", "started_sections")
    uncommented = uncommented.replace("# window_days", "window_days").replace("# [flow.projects", "[flow.projects")
    settings = load_settings(write(tmp_path, uncommented), env={})
    assert settings.flow is not None
    assert settings.flow.started_sections == DEFAULT_STARTED_SECTIONS
    assert settings.flow.project_started_sections == {"Website relaunch": ("Build", "Verify")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[channels.team]\ntype = "slack"\nwebhook_url_env = "SLACK_URL"\ntimeout_second = 5\n',
            "unknown key channels.team.timeout_second; did you mean channels.team.timeout_seconds?",
        ),
        (
            '[channels.archive]\ntype = "file"\npath = "reports"\nformat = ["html"]\n',
            "unknown key channels.archive.format; did you mean channels.archive.formats?",
        ),
        (
            '[channels.archive]\ntype = "file"\npath = "reports"\nshout = true\n',
            "unknown key channels.archive.shout; a file channel has ",
        ),
        (
            "[schedule]\nfailover_second = 30\n",
            "unknown key schedule.failover_second; did you mean schedule.failover_seconds?",
        ),
        (
            '[schedule]\nleader = "me"\n',
            "unknown key schedule.leader; expected a [schedule.NAME] table or one of failover_seconds, ",
        ),
        (
            '[schedule.sync]\nevery_minute = 5\n',
            "unknown key schedule.sync.every_minute; did you mean schedule.sync.every_minutes?",
        ),
        (
            "[kpi.thresholds]\noverdue_share_rde = 0.3\n",
            "unknown key kpi.thresholds.overdue_share_rde; did you mean kpi.thresholds.overdue_share_red?",
        ),
        ("[kpi.thresholds]\nbogus = 3\n", "unknown key kpi.thresholds.bogus; expected one of aging_share_amber, "),
        ("[workload]\nhorizon_day = 7\n", "unknown key workload.horizon_day; did you mean workload.horizon_days?"),
        (
            "[flow]\nwindow_day = 7\n",
            "unknown key flow.window_day; did you mean flow.window_days?",
        ),
        (
            '[flow.projects."Web"]\nstarted_section = ["A"]\n',
            'unknown key flow.projects."Web".started_section; did you mean flow.projects."Web".started_sections?',
        ),
    ],
)
def test_a_misspelled_channel_schedule_threshold_or_flow_key_names_it_the_file_and_the_closest_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """Every table, including those checked where they are used (`[channels.NAME]` when channels load,
    `[schedule]` when the plan loads), words an unknown key the same way: one line, the file, "did you
    mean …?"."""
    from tpmsync.deliver.channels import load_channels
    from tpmsync.schedule.plan import load_plan

    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        settings = load_settings(path, env={})
        load_channels(settings, env={})
        load_plan(settings)
    error = str(caught.value)
    assert error.startswith(f"{path}: {message}")
    assert "\n" not in error


def test_a_plain_key_under_channels_is_refused_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, '[channels]\ntype = "slack"\n')
    with pytest.raises(ConfigError, match=r"channels.type must be a \[channels.NAME\] table with a type, got 'slack'"):
        load_settings(path, env={})


def test_the_thresholds_a_config_sets_reach_the_engine_and_a_bad_value_is_one_line(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[kpi.thresholds]\noverdue_amber = 3\ncycles_amber = 2\n"), env={})
    limits = thresholds_of(settings)
    assert (limits.overdue_amber, limits.cycles_amber) == (3, 2)
    with pytest.raises(ConfigError, match=r"tpmsync.toml: kpi.thresholds.overdue_amber must be a whole number"):
        load_settings(write(tmp_path, "[kpi.thresholds]\noverdue_amber = 2.5\n"), env={})  # at start, not at use
