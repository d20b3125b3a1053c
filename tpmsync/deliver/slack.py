"""Slack: an incoming webhook with Block Kit.

A header (the subject), a summary line, one section per project (verdict emoji and word, the
name linked to Asana, the headline numbers, the top reasons) and a context footer; `text` is the
notification fallback. Slack's limits are kept: at most 50 blocks (with many projects several go
into one section), 3,000 characters a section, 150 a header, and about 36,000 characters in all
(Slack truncates longer messages); projects that still do not fit are counted in a last line.
Slack answers 200 "ok", which becomes the ledger's id.

Names and reasons are untrusted: cleaned and shortened at a word boundary first (`tpmsync.words`),
then escaped for mrkdwn (`&`, `<`, `>` as entities; `*`, `_`, `~` and backticks as lookalikes
Slack does not read as formatting; URLs in names shown, not linked), so a cut never lands inside
an entity or a link.
"""

from __future__ import annotations

from typing import Any

import requests

from tpmsync import words
from tpmsync.deliver.base import (
    health_counts,
    health_label,
    one_line,
    truncate,
)
from tpmsync.deliver.outgoing import Outgoing, ProjectLine, StatusLine
from tpmsync.deliver.transport import ChatWebhookChannel

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT = 2000
MAX_TEXT = 36_000  # all project sections together: Slack truncates messages near 40,000 characters
MAX_REASONS = 3
EMOJI = {"green": ":large_green_circle:", "amber": ":large_orange_circle:", "red": ":red_circle:"}


MAX_REASON = 300


def escape(text: str) -> str:
    """Text (already clean and short) for mrkdwn: no entity, formatting or link is live."""
    return words.slack_escape(text)


def link(url: str | None, label: str) -> str:
    target = words.safe_url(url)
    if not target:
        return f"*{escape(label)}*"
    return f"*<{target}|{escape(label).replace('|', '¦')}>*"


def status_text(status: StatusLine) -> str:
    """One line of the written status in mrkdwn: tasks linked, every piece escaped."""
    text = "".join(
        link(url, words.clean(piece, MAX_REASON)).strip("*") if url else escape(words.clean(piece, MAX_REASON))
        for piece, url in status.pieces
    )
    if status.kind == "title":
        return f"*{text}*"
    if status.kind == "item":
        return f"• {text}"
    return f"_{text}_" if status.kind == "note" else text


def project_text(line: ProjectLine) -> str:
    """One project in mrkdwn, at most one section long (each part bounded before escaping): the
    written status leads when there is one (it holds the reasons), else the top reasons."""
    name = words.clean(line.name)
    head = f"{EMOJI.get(line.health, ':white_circle:')} {link(line.url, name)} — {health_label(line.health)}"
    lines = [head]
    if line.status:
        lines.extend(status_text(status) for status in line.status)
    if line.headline:
        lines.append(escape(one_line(line.headline, 300)))
    if not line.status:
        lines.extend(f"• {escape(words.clean(r, MAX_REASON))}" for r in line.reasons[:MAX_REASONS])
        if len(line.reasons) > MAX_REASONS:
            lines.append(f"_…and {len(line.reasons) - MAX_REASONS} more_")
    while len("\n".join(lines)) > MAX_SECTION and len(lines) > 1:
        lines.pop()  # whole lines go; a line is never cut inside an entity or a link
    return "\n".join(lines)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _pack(texts: list[str], sections: int, budget: int = MAX_TEXT) -> tuple[list[str], int]:
    """One section per project when they fit, else project texts joined greedily into at most
    `sections` texts of ≤ MAX_SECTION characters, ≤ `budget` characters in all; returns them and
    how many projects did not fit."""
    packed: list[str] = []
    used = 0
    for index, text in enumerate(texts):
        if used + len(text) > budget:
            return packed, len(texts) - index
        if len(texts) > sections and packed and len(packed[-1]) + 2 + len(text) <= MAX_SECTION:
            packed[-1] += "\n\n" + text
        elif len(packed) < sections:
            packed.append(text)
        else:
            return packed, len(texts) - index
        used += len(text) + 2
    return packed, 0


def slack_message(outgoing: Outgoing, report_url: str | None = None) -> dict[str, Any]:
    """The webhook payload for `outgoing` within Slack's limits."""
    kind, period = escape(one_line(outgoing.kind.capitalize(), 20)), escape(one_line(outgoing.period, 40))
    summary = f"*{kind} report* for {period} · {health_counts(outgoing)}"
    if report_url:
        summary += f" · {link(report_url, 'Full report')}"
    head: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(one_line(outgoing.subject, 1000), MAX_HEADER),
                     "emoji": True},
        },
        _section(summary),
        {"type": "divider"},
    ]
    about = f"tpmsync · {outgoing.kind} · {outgoing.period} · {outgoing.scope}"
    about = escape(one_line(about, MAX_CONTEXT // 5))  # an entity is at most 5 characters
    footer = {"type": "context", "elements": [{"type": "mrkdwn", "text": about}]}
    room = MAX_BLOCKS - len(head) - 1
    texts = [project_text(line) for line in outgoing.projects]
    packed, missing = _pack(texts, room)
    if missing:
        packed, missing = _pack(texts, room - 1)
    body = [_section(text) for text in packed]
    if missing:
        more = f"_…and {missing} more project{'s' if missing != 1 else ''} not shown here; see the full report_"
        body.append(_section(more))
    return {"text": one_line(outgoing.subject, 1000), "blocks": [*head, *body, footer]}


class SlackChannel(ChatWebhookChannel):
    """`webhook_url_env` (required): the variable holding the incoming-webhook URL;
    `report_url`: a link to the full report shown in the summary ({kind} and {period} filled in)."""

    type = "slack"

    def message(self, outgoing: Outgoing, report_url: str | None) -> dict[str, Any]:
        return slack_message(outgoing, report_url)

    def channel_id(self, response: requests.Response) -> str:
        return one_line(response.text, 64) or "ok"  # Slack answers "ok"
