"""Slack, Teams and webhook channels against `responses`: payload shape, limits, signature,
retries on 5xx/429, no retry on other 4xx, and the ledger around them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from deliver_support import Sleeps, line, make_outgoing, make_settings

from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.service import deliver, delivery_history
from tpmsync.deliver.slack import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, slack_message
from tpmsync.deliver.teams import MAX_BYTES, project_container
from tpmsync.store.db import Store

SLACK_URL = "https://hooks.slack.com/services/T000/B000/sEcReTtOkEn"
TEAMS_URL = "https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SeCrEtSiG"
HOOK_URL = "https://ops.example.com/hooks/tpmsync"
ENV = {"SLACK_WEBHOOK_URL": SLACK_URL, "TEAMS_WEBHOOK_URL": TEAMS_URL, "OPS_WEBHOOK_SECRET": "s3cr3t-key"}
CHANNELS = {
    "team-slack": {"type": "slack", "webhook_url_env": "SLACK_WEBHOOK_URL",
                   "report_url": "https://wiki.example.com/reports/{kind}-{period}"},
    "leads": {"type": "teams", "webhook_url_env": "TEAMS_WEBHOOK_URL"},
    "ops-hook": {"type": "webhook", "url": HOOK_URL, "secret_env": "OPS_WEBHOOK_SECRET", "detail": "full"},
}


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Every HTTP request of `requests` answered here; anything unregistered is a ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def run(store: Store, outgoing: Outgoing, channel: str, sleeps: Sleeps, **kwargs: Any) -> Any:
    return deliver(store, make_settings(CHANNELS), outgoing, channels=[channel], env=ENV, sleep=sleeps, **kwargs)


def posted(http: responses.RequestsMock, index: int = -1) -> Any:
    body = http.calls[index].request.body
    assert isinstance(body, bytes)
    return json.loads(body)


def many_lines(count: int) -> list[Any]:
    healths = ("red", "amber", "green")
    return [
        line(str(5000 + i), f"Project {i} " + "x" * 60, healths[i % 3],
             [f"reason {r} of project {i}: " + "words " * 80 for r in range(5)] if i % 3 != 2 else [])
        for i in range(count)
    ]


# ---------------------------------------------------------------------------------------- Slack


def test_slack_posts_block_kit_with_header_verdicts_reasons_and_links(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(SLACK_URL, body="ok")
    [result] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert (result.status, result.external_id) == ("sent", "ok")
    message = posted(http)
    assert message["text"] == outgoing.subject  # the notification fallback
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": outgoing.subject, "emoji": True}}
    assert "1 red · 1 amber · 1 green" in blocks[1]["text"]["text"]
    assert "<https://wiki.example.com/reports/daily-2026-11-25|Full report>" in blocks[1]["text"]["text"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"][1:]
    assert len(sections) == 3
    red, amber, green = sections
    assert red.startswith(":red_circle: *<https://app.asana.com/0/1201/list|Customer portal>* — Red")
    assert "• 49 of 55 open tasks not updated for 5+ days" in red and "_…and 1 more_" in red
    assert "Data &lt;warehouse&gt; &amp; migration" in amber and amber.startswith(":large_orange_circle:")
    assert green.startswith(":large_green_circle:") and "•" not in green
    assert blocks[-1]["type"] == "context"
    assert http.calls[0].request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_slack_keeps_within_50_blocks_and_3000_characters_with_80_projects(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.post(SLACK_URL, body="ok")
    outgoing = make_outgoing(many_lines(80), scope="x" * 400)
    [result] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert result.status == "sent"
    blocks = posted(http)["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= MAX_HEADER
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= MAX_SECTION for t in texts)
    shown = sum(t.count("*<https://app.asana.com/") for t in texts)
    assert 40 < shown < 80  # several projects share a section; the rest are counted
    assert texts[-1].startswith(f"_…and {80 - shown} more projects not shown here")
    assert sum(len(t) for t in texts) <= 40_000


def test_slack_with_many_short_projects_packs_them_into_sections() -> None:
    message = slack_message(make_outgoing([line(str(i), f"P{i}", "green") for i in range(120)]))
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert sum(t.count("*<https://app.asana.com/") for t in texts) == 120


def test_slack_never_shows_the_webhook_url_and_dry_run_sends_nothing(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    [dry] = run(sqlite_store, outgoing, "team-slack", sleeps, dry_run=True)
    assert dry.status == "dry-run" and len(http.calls) == 0
    assert dry.preview is not None and "sEcReT" not in dry.preview and "T000" not in dry.preview
    assert dry.preview.startswith("POST https://hooks.slack.com/*** (from $SLACK_WEBHOOK_URL)")
    assert delivery_history(sqlite_store) == []  # a dry run records nothing
    http.post(SLACK_URL, body="ok")
    run(sqlite_store, outgoing, "team-slack", sleeps)
    sent = http.calls[0].request.body
    assert isinstance(sent, bytes)
    assert dry.preview.split("\n\n", 1)[1] == sent.decode()  # exactly what was sent


def test_dry_run_needs_no_secrets(sqlite_store: Store, sleeps: Sleeps, outgoing: Outgoing) -> None:
    results = deliver(sqlite_store, make_settings(CHANNELS), outgoing, channels=None, env={}, sleep=sleeps,
                      dry_run=True)
    assert [r.channel for r in results] == ["team-slack", "leads", "ops-hook"]
    assert all(r.status == "dry-run" for r in results)
    assert results[0].preview is not None and "$SLACK_WEBHOOK_URL (not set)" in results[0].preview


# ---------------------------------------------------------------------------------------- Teams


def test_teams_posts_an_adaptive_card_in_the_workflows_envelope(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(TEAMS_URL, status=202)
    [result] = run(sqlite_store, outgoing, "leads", sleeps)
    assert (result.status, result.external_id) == ("sent", "accepted")
    message = posted(http)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == outgoing.subject
    containers = [b for b in card["body"] if b["type"] == "Container"]
    assert len(containers) == 3
    verdict = containers[0]["items"][0]["columns"][0]["items"][0]
    assert (verdict["text"], verdict["color"]) == ("● Red", "Attention")
    title = containers[0]["items"][0]["columns"][1]["items"][0]["text"]
    assert title == "[Customer portal](https://app.asana.com/0/1201/list)"
    assert "- 49 of 55 open tasks not updated for 5+ days" in containers[0]["items"][-1]["text"]
    assert containers[2]["items"][0]["columns"][0]["items"][0]["color"] == "Good"


def test_teams_link_text_keeps_brackets_from_ending_the_link_and_names_carry_no_markdown() -> None:
    container = project_container(line("77", "Infra [Q4] *core*", "amber"))
    title = container["items"][0]["columns"][1]["items"][0]["text"]
    assert title == "[Infra ［Q4］ ∗core∗](https://app.asana.com/0/77/list)"


def test_teams_card_stays_under_the_message_size_limit_with_80_projects(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.post(TEAMS_URL, status=202)
    run(sqlite_store, make_outgoing(many_lines(80)), "leads", sleeps)
    body = http.calls[0].request.body
    assert isinstance(body, bytes) and len(body) <= MAX_BYTES
    card = json.loads(body)["attachments"][0]["content"]
    shown = sum(1 for b in card["body"] if b["type"] == "Container")
    assert 0 < shown < 80
    assert card["body"][-1]["text"].startswith(f"…and {80 - shown} more projects")


# -------------------------------------------------------------------------------------- webhook


def test_webhook_posts_the_json_report_with_a_signature_that_verifies(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(HOOK_URL, json={"id": "evt_42"})
    [result] = run(sqlite_store, outgoing, "ops-hook", sleeps)
    assert (result.status, result.external_id) == ("sent", "evt_42")
    request = http.calls[0].request
    body = request.body
    assert isinstance(body, bytes)
    assert json.loads(body) == outgoing.data
    expected = "sha256=" + hmac.new(b"s3cr3t-key", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Tpmsync-Signature"], expected)
    assert request.headers["X-Tpmsync-Event"] == "report.daily"
    assert len(request.headers["X-Tpmsync-Delivery"]) == 32


def test_webhook_dry_run_masks_the_signature(sqlite_store: Store, sleeps: Sleeps, outgoing: Outgoing) -> None:
    [dry] = run(sqlite_store, outgoing, "ops-hook", sleeps, dry_run=True)
    assert dry.preview is not None
    assert "X-Tpmsync-Signature: sha256=*** (HMAC-SHA256 of the body with $OPS_WEBHOOK_SECRET)" in dry.preview
    assert "s3cr3t" not in dry.preview


# -------------------------------------------------------------------------------------- retries


def test_retries_503_and_429_with_backoff_and_retry_after_then_succeeds(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(SLACK_URL, status=503, body="upstream busy")
    http.post(SLACK_URL, status=429, headers={"Retry-After": "7"})
    http.post(SLACK_URL, body="ok")
    [result] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert (result.status, result.attempts) == ("sent", 1)
    assert len(http.calls) == 3
    assert len(sleeps.waits) == 2 and 0 <= sleeps.waits[0] <= 1.0 and sleeps.waits[1] == 7.0
    # the same body every time: a retry is the same message
    assert len({call.request.body for call in http.calls}) == 1


def test_connection_errors_are_retried(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(HOOK_URL, body=requests.ConnectionError("connection reset"))
    http.post(HOOK_URL, status=204)
    [result] = run(sqlite_store, outgoing, "ops-hook", sleeps)
    assert (result.status, result.external_id) == ("sent", "HTTP 204")
    assert len(http.calls) == 2


def test_a_400_is_not_retried_marked_failed_shown_in_history_and_not_resent_without_force(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(SLACK_URL, status=400, body="invalid_blocks")
    [result] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert result.status == "failed" and len(http.calls) == 1 and sleeps.waits == []
    assert result.error is not None and "400 invalid_blocks" in result.error and "sEcReT" not in result.error
    [entry] = delivery_history(sqlite_store)
    assert (entry.channel, entry.status, entry.attempts) == ("team-slack", "failed", 1)
    assert entry.error == result.error

    [again] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert again.status == "skipped" and again.error == result.error and len(http.calls) == 1

    http.replace(responses.POST, SLACK_URL, body="ok")
    [forced] = run(sqlite_store, outgoing, "team-slack", sleeps, force=True)
    assert (forced.status, forced.attempts) == ("sent", 2)
    assert delivery_history(sqlite_store)[0].status == "sent"


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_auth_and_gone_answers_are_permanent(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing, status: int
) -> None:
    http.post(TEAMS_URL, status=status)
    [result] = run(sqlite_store, outgoing, "leads", sleeps)
    assert result.status == "failed" and len(http.calls) == 1
    assert result.error is not None and "SeCrEt" not in result.error


def test_5xx_every_time_stays_pending_and_the_next_run_delivers_it(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(HOOK_URL, status=502)
    [result] = run(sqlite_store, outgoing, "ops-hook", sleeps)
    assert result.status == "pending" and len(http.calls) == 4  # the first try and 3 retries
    assert result.error is not None and "gave up after 4 attempts" in result.error
    assert delivery_history(sqlite_store)[0].status == "pending"

    http.replace(responses.POST, HOOK_URL, status=200)
    [later] = run(sqlite_store, outgoing, "ops-hook", sleeps)
    assert (later.status, later.attempts) == ("sent", 2)
    [skipped] = run(sqlite_store, outgoing, "ops-hook", sleeps)
    assert skipped.status == "skipped" and len(http.calls) == 5


def test_a_long_retry_after_is_left_for_the_next_run(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(SLACK_URL, status=429, headers={"Retry-After": "3600"})
    [result] = run(sqlite_store, outgoing, "team-slack", sleeps)
    assert result.status == "pending" and sleeps.waits == [] and len(http.calls) == 1


def test_same_period_is_sent_once_and_force_sends_again(
    sqlite_store: Store, http: responses.RequestsMock, sleeps: Sleeps, outgoing: Outgoing
) -> None:
    http.post(SLACK_URL, body="ok")
    assert [r.status for r in run(sqlite_store, outgoing, "team-slack", sleeps)] == ["sent"]
    assert [r.status for r in run(sqlite_store, outgoing, "team-slack", sleeps)] == ["skipped"]
    assert len(http.calls) == 1
    assert [r.status for r in run(sqlite_store, outgoing, "team-slack", sleeps, force=True)] == ["sent"]
    assert len(http.calls) == 2
    next_day = make_outgoing(period="2026-11-26")
    assert [r.status for r in run(sqlite_store, next_day, "team-slack", sleeps)] == ["sent"]
    [latest, first] = delivery_history(sqlite_store)
    assert (latest.period, first.period, first.attempts) == ("2026-11-26", "2026-11-25", 2)
