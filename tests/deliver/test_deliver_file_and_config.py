"""The file channel, and `[channels.NAME]` validation: one line naming the key and the file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from deliver_support import SOURCE, Sleeps, make_outgoing, make_settings

from tpmsync.config import ConfigError
from tpmsync.deliver.channels import load_channels
from tpmsync.deliver.outgoing import Outgoing, Renderings
from tpmsync.deliver.service import deliver
from tpmsync.store.db import Store

# ------------------------------------------------------------------------------------------- file


def archive(path: Path, **extra: Any) -> dict[str, Any]:
    return {"archive": {"type": "file", "path": str(path), **extra}}


def test_file_channel_writes_markdown_html_and_json_named_by_report(
    sqlite_store: Store, tmp_path: Path, outgoing: Outgoing, sleeps: Sleeps
) -> None:
    folder = tmp_path / "reports" / "daily"
    [result] = deliver(sqlite_store, make_settings(archive(folder)), outgoing, channels=["archive"], sleep=sleeps)
    assert result.status == "sent"
    names = ["daily-2026-11-25-portfolio.md", "daily-2026-11-25-portfolio.html", "daily-2026-11-25-portfolio.json"]
    assert result.external_id == ", ".join(names)
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no temporary files left behind
    assert (folder / names[0]).read_text(encoding="utf-8") == outgoing.markdown
    assert (folder / names[1]).read_text(encoding="utf-8") == outgoing.html_inline
    assert json.loads((folder / names[2]).read_text(encoding="utf-8")) == outgoing.data
    fresh = folder / "plain.txt"
    fresh.write_text("x", encoding="utf-8")
    assert (folder / names[0]).stat().st_mode & 0o777 == fresh.stat().st_mode & 0o777  # not mkstemp's 0600


def test_file_rerun_is_skipped_and_force_overwrites(
    sqlite_store: Store, tmp_path: Path, sleeps: Sleeps
) -> None:
    settings = make_settings(archive(tmp_path, formats=["md"]))
    first = make_outgoing(scope="projects:1201,1202")
    assert deliver(sqlite_store, settings, first, sleep=sleeps)[0].status == "sent"
    target = tmp_path / "daily-2026-11-25-projects-1201-1202.md"
    target.write_text("edited by hand", encoding="utf-8")
    assert deliver(sqlite_store, settings, first, sleep=sleeps)[0].status == "skipped"
    assert target.read_text(encoding="utf-8") == "edited by hand"
    assert deliver(sqlite_store, settings, first, sleep=sleeps, force=True)[0].status == "sent"
    assert target.read_text(encoding="utf-8") == first.markdown


def test_file_channel_into_a_path_that_is_a_file_fails_permanently(
    sqlite_store: Store, tmp_path: Path, outgoing: Outgoing, sleeps: Sleeps
) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("not a directory", encoding="utf-8")
    [result] = deliver(sqlite_store, make_settings(archive(blocker)), outgoing, sleep=sleeps)
    assert result.status == "failed"
    assert result.error is not None and "channels.archive.path" in result.error


def test_file_dry_run_lists_the_files_and_elides_inline_images(
    sqlite_store: Store, tmp_path: Path, outgoing: Outgoing, sleeps: Sleeps
) -> None:
    folder = tmp_path / "out"
    [result] = deliver(sqlite_store, make_settings(archive(folder, formats=["html", "txt"])), outgoing,
                       sleep=sleeps, dry_run=True)
    assert result.preview is not None
    assert result.preview.startswith(f"write {folder}/daily-2026-11-25-portfolio.html, ")
    assert "data:image/png;base64,… (" in result.preview and "iVBORw0KGgo" not in result.preview
    assert outgoing.text in result.preview
    assert not folder.exists()


# ----------------------------------------------------------------------------------------- config

EXAMPLE = {
    "pm-asana": {"type": "asana_status"},
    "team-slack": {"type": "slack", "webhook_url_env": "SLACK_WEBHOOK_URL"},
    "leads": {"type": "teams", "webhook_url_env": "TEAMS_WEBHOOK_URL"},
    "stakeholders": {"type": "email", "to": ["cto@example.com"], "from": "tpmsync@example.com",
                     "smtp_host": "smtp.example.com", "smtp_port": 587, "starttls": True,
                     "username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"},
    "archive": {"type": "file", "path": "reports/"},
    "ops-hook": {"type": "webhook", "url_env": "OPS_WEBHOOK_URL", "secret_env": "OPS_WEBHOOK_SECRET"},
}


def test_the_design_sheet_example_loads() -> None:
    channels = load_channels(make_settings(EXAMPLE), env={})
    assert {name: channel.type for name, channel in channels.items()} == {
        "pm-asana": "asana_status", "team-slack": "slack", "leads": "teams", "stakeholders": "email",
        "archive": "file", "ops-hook": "webhook",
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"type": "pager"}, r"channels\.bad\.type must be one of asana_status, slack, teams, email, webhook, file"),
        ({"webhook_url_env": "X"}, r"channels\.bad\.type is missing"),
        ({"type": "slack"}, r"channels\.bad\.webhook_url_env is missing"),
        ({"type": "slack", "webhook_url": "https://hooks.slack.com/services/T/B/x"},
         r"channels\.bad\.webhook_url must not be written in the file; .*channels\.bad\.webhook_url_env"),
        ({"type": "slack", "webhook_url_env": "not a name"}, r"channels\.bad\.webhook_url_env must name"),
        ({"type": "teams", "webhook_url_env": "T", "colour": "red"},
         r"unknown key channels\.bad\.colour; a teams channel has "),
        ({"type": "slack", "webhook_url_env": "S", "report_url": "https://x.example/{day}"},
         r"channels\.bad\.report_url may use only"),
        ({"type": "webhook"}, r"channels\.bad\.url or url_env must be set"),
        ({"type": "webhook", "url": "ftp://x.example/"}, r"channels\.bad\.url must be an http"),
        ({"type": "webhook", "url": "https://x.example/", "max_retries": 99}, r"channels\.bad\.max_retries"),
        ({"type": "email", "from": "a@example.com", "smtp_host": "h"}, r"channels\.bad\.to is missing"),
        ({"type": "email", "to": "boss", "from": "a@example.com", "smtp_host": "h"},
         r"channels\.bad\.to must hold email addresses"),
        ({"type": "email", "to": "b@example.com", "from": "a@example.com", "smtp_host": "h", "ssl": True,
          "starttls": True}, r"channels\.bad\.ssl and starttls exclude each other"),
        ({"type": "email", "to": "b@example.com", "from": "a@example.com", "smtp_host": "h",
          "username_env": "U"}, r"channels\.bad\.password_env is missing"),
        ({"type": "email", "to": "b@example.com", "from": "a@example.com", "smtp_host": "h",
          "password": "hunter2"}, r"channels\.bad\.password must not be written in the file"),
        ({"type": "file", "path": "r", "formats": ["pdf"]}, r"channels\.bad\.formats may hold only"),
        ({"type": "file"}, r"channels\.bad\.path is missing"),
    ],
)
def test_a_bad_channel_table_is_one_line_naming_the_key_and_the_file(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_channels(make_settings({"bad": table}), env={})
    text = str(raised.value)
    assert text.startswith(f"{SOURCE}: ") and "\n" not in text


def test_missing_secrets_stop_delivery_before_anything_is_sent(
    sqlite_store: Store, outgoing: Outgoing, tmp_path: Path, sleeps: Sleeps
) -> None:
    folder = tmp_path / "out"
    settings = make_settings({**archive(folder), **EXAMPLE})
    with pytest.raises(ConfigError, match=r"channels\.team-slack\.webhook_url_env names \$SLACK_WEBHOOK_URL, "
                                          r"which is not set"):
        deliver(sqlite_store, settings, outgoing, channels=["archive", "team-slack"], env={}, sleep=sleeps)
    assert not folder.exists()  # the file channel, first in line, did not write either


def test_the_asana_channel_needs_a_token_to_post(sqlite_store: Store, outgoing: Outgoing, sleeps: Sleeps) -> None:
    with pytest.raises(ConfigError, match=r"channels\.pm-asana\.type posts to Asana and needs a token"):
        deliver(sqlite_store, make_settings(EXAMPLE), outgoing, channels=["pm-asana"], env={}, sleep=sleeps)


def test_unknown_or_absent_channels_are_config_errors(sqlite_store: Store, outgoing: Outgoing) -> None:
    with pytest.raises(ConfigError, match=r"no channel named 'slack'; configured channels: pm-asana, team-slack"):
        deliver(sqlite_store, make_settings(EXAMPLE), outgoing, channels=["slack"])
    with pytest.raises(ConfigError, match=r"no delivery channels; add a \[channels\.NAME\] table"):
        deliver(sqlite_store, make_settings({}), outgoing, channels=None)


def test_a_rendering_that_fails_fails_its_channel_and_the_others_still_go_out(
    sqlite_store: Store, tmp_path: Path, sleeps: Sleeps
) -> None:
    good = make_outgoing()

    def broken() -> str:
        raise ValueError("a chart could not be drawn")

    outgoing = replace(good, renderings=Renderings(broken, lambda: good.markdown, lambda: good.html_inline))
    channels = {**archive(tmp_path / "text", formats=["txt"]), **{
        "notes": {**archive(tmp_path / "md", formats=["md"])["archive"]}}}
    results = deliver(sqlite_store, make_settings(channels), outgoing, sleep=sleeps)
    by_channel = {r.channel: r for r in results}
    assert by_channel["archive"].status == "failed"
    error = by_channel["archive"].error or ""
    assert "could not be rendered for archive: ValueError: a chart could not be drawn" in error
    assert by_channel["notes"].status == "sent" and list((tmp_path / "md").glob("*.md"))
    # nothing was recorded as sent for the failed channel: the next run sends it, and only it
    again = {r.channel: r.status for r in deliver(sqlite_store, make_settings(channels), good, sleep=sleeps)}
    assert again == {"archive": "sent", "notes": "skipped"}
    assert list((tmp_path / "text").glob("*.txt"))
