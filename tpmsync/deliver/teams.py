"""Microsoft Teams: a Workflows webhook ("When a Teams webhook request is received") with an
Adaptive Card 1.4 inside the message envelope it expects:

    {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                         "contentUrl": null, "content": {…the card…}}]}

The card: the subject, a summary line, one container per project, red and amber first (verdict in
its colour, the name linked to Asana, the headline numbers, the top reasons) and an "Open full
report" action when `report_url` is set. Teams drops messages over about 28 KB as sent, so the
card is measured as compact JSON, the way it is sent; projects that do not fit are counted in a
last line that links the full report. Building it is linear in the number of projects: each
container is measured once. Workflows answers 202 Accepted with no id; the ledger records
"accepted".

TextBlocks read a Markdown subset (bold, italic, lists, links) with no reliable escape, so names
and reasons are cleaned, shortened at a word boundary, then their markup characters are replaced
by lookalikes (`words.teams_escape`): the only links are the ones tpmsync makes, to Asana.
"""

from __future__ import annotations

from typing import Any

import requests

from tpmsync import words
from tpmsync.deliver.base import (
    health_counts,
    health_label,
    one_line,
)
from tpmsync.deliver.outgoing import Outgoing, ProjectLine, StatusLine, compact_json
from tpmsync.deliver.transport import ChatWebhookChannel

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
MAX_BYTES = 28_000
MAX_REASONS = 3
MAX_REASON = 300
COLOR = {"green": "Good", "amber": "Warning", "red": "Attention"}


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def link_text(text: str) -> str:
    """A name (already clean) for a TextBlock, also inside [name](url): no markup of its own."""
    return words.teams_escape(text)


def status_text(status: StatusLine) -> str:
    """One line of the written status for a TextBlock (Markdown subset): tasks linked, text escaped."""
    parts = []
    for piece, url in status.pieces:
        text = link_text(words.clean(piece, MAX_REASON))
        target = words.safe_url(url)
        parts.append(f"[{text}]({target})" if target else text)
    text = "".join(parts)
    if status.kind == "title":
        return f"**{text}**"
    if status.kind == "item":
        return f"- {text}"
    return f"_{text}_" if status.kind == "note" else text


def project_container(line: ProjectLine) -> dict[str, Any]:
    """One project: its verdict and name, the written status (which holds the reasons) when there
    is one, the headline numbers, else the top reasons."""
    name = link_text(words.clean(line.name))
    url = words.safe_url(line.url)
    title = f"[{name}]({url})" if url else name
    items: list[dict[str, Any]] = [
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "auto",
                    "items": [
                        _text(
                            f"● {health_label(line.health)}", color=COLOR.get(line.health, "Default"), weight="Bolder"
                        )
                    ],
                },
                {"type": "Column", "width": "stretch", "items": [_text(title, weight="Bolder")]},
            ],
        }
    ]
    if line.status:
        items.append(_text("\n".join(status_text(status) for status in line.status), spacing="Small"))
    if line.headline:
        items.append(_text(words.teams_escape(one_line(line.headline, 300)), isSubtle=True, spacing="None"))
    reasons = [] if line.status else [f"- {words.teams_escape(words.clean(r, MAX_REASON))}"
                                      for r in line.reasons[:MAX_REASONS]]
    if len(line.reasons) > MAX_REASONS and not line.status:
        reasons.append(f"- …and {len(line.reasons) - MAX_REASONS} more")
    if reasons:
        items.append(_text("\n".join(reasons), spacing="Small"))
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def _rest(missing: int, greens: int, report_url: str | None) -> dict[str, Any]:
    what = words.plural(missing, "more project")
    if greens:
        what += f" ({greens:,} green)"
    where = f"[see the full report]({report_url})" if report_url else "see the full report"
    return _text(f"…and {what} not shown here; {where}", isSubtle=True, separator=True)


def teams_message(outgoing: Outgoing, report_url: str | None = None, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The Workflows webhook payload for `outgoing`, its body (compact JSON, as sent) at most
    `max_bytes`: red and amber projects first, then green, as many as fit."""
    url = words.safe_url(report_url)
    subject = one_line(outgoing.subject, 300)
    lines = sorted(outgoing.projects, key=lambda p: words.HEALTH_RANK.get(p.health, 3))
    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "fallbackText": subject,
        "body": [
            _text(words.teams_escape(subject), size="Large", weight="Bolder"),
            _text(
                f"{outgoing.kind.capitalize()} report for {one_line(outgoing.period, 40)} · {health_counts(outgoing)}",
                isSubtle=True,
                spacing="None",
            ),
        ],
    }
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open full report", "url": url}]
    message = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
    greens = sum(1 for line in lines if line.health == "green")
    reserve = len(compact_json(_rest(len(lines), greens, url)).encode()) + 1
    used = len(compact_json(message).encode()) + reserve
    for index, line in enumerate(lines):
        container = project_container(line)
        size = len(compact_json(container).encode()) + 1  # and its comma
        if used + size > max_bytes:
            left = lines[index:]
            card["body"].append(_rest(len(left), sum(1 for p in left if p.health == "green"), url))
            return message
        card["body"].append(container)
        used += size
    return message


class TeamsChannel(ChatWebhookChannel):
    """`webhook_url_env` (required): the variable holding the Workflows webhook URL;
    `report_url`: the "Open full report" action ({kind}, {period} and {scope} filled in)."""

    type = "teams"

    def message(self, outgoing: Outgoing, report_url: str | None) -> dict[str, Any]:
        return teams_message(outgoing, report_url)

    def channel_id(self, response: requests.Response) -> str:
        run = response.headers.get("x-ms-workflow-run-id")
        return f"run {run}" if run else "accepted"
