"""Microsoft Teams: a Workflows webhook ("When a Teams webhook request is received") with an
Adaptive Card 1.4 inside the message envelope it expects:

    {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                         "contentUrl": null, "content": {…the card…}}]}

The card: the subject, a summary line, one container per project (verdict in its colour, the name
linked to Asana, the headline numbers, the top reasons) and an "Open full report" action when
`report_url` is set. Teams drops messages over about 28 KB, so projects that would not fit are
counted in a last line instead. Workflows answers 202 Accepted with no id; the ledger records
"accepted".
"""

from __future__ import annotations

from typing import Any

import requests

from tpmsync.deliver.base import (
    health_counts,
    health_label,
    one_line,
    truncate,
)
from tpmsync.deliver.outgoing import Outgoing, ProjectLine
from tpmsync.deliver.transport import ChatWebhookChannel, json_body

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
MAX_BYTES = 28_000
MAX_REASONS = 3
COLOR = {"green": "Good", "amber": "Warning", "red": "Attention"}


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def link_text(text: str) -> str:
    """A name inside [name](url): brackets would end the link early. (TextBlocks render only a
    small Markdown subset, without reliable escapes, so other text goes in as it is.)"""
    return text.replace("[", "(").replace("]", ")")


def project_container(line: ProjectLine) -> dict[str, Any]:
    title = f"[{link_text(line.name)}]({line.url})" if line.url else line.name
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
    if line.headline:
        items.append(_text(line.headline, isSubtle=True, spacing="None"))
    reasons = [f"- {one_line(reason, 300)}" for reason in line.reasons[:MAX_REASONS]]
    if len(line.reasons) > MAX_REASONS:
        reasons.append(f"- …and {len(line.reasons) - MAX_REASONS} more")
    if reasons:
        items.append(_text("\n".join(reasons), spacing="Small"))
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def teams_message(outgoing: Outgoing, report_url: str | None = None, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The Workflows webhook payload for `outgoing`, its body (as sent) at most `max_bytes`."""
    containers = [project_container(line) for line in outgoing.projects]
    shown = len(containers)
    while True:
        body: list[dict[str, Any]] = [
            _text(truncate(outgoing.subject, 300), size="Large", weight="Bolder"),
            _text(
                f"{outgoing.kind.capitalize()} report for {outgoing.period} · {health_counts(outgoing)}",
                isSubtle=True,
                spacing="None",
            ),
            *containers[:shown],
        ]
        missing = len(containers) - shown
        if missing:
            body.append(
                _text(
                    f"…and {missing} more project{'s' if missing != 1 else ''} not shown here; see the full report",
                    isSubtle=True,
                    separator=True,
                )
            )
        card: dict[str, Any] = {
            "$schema": CARD_SCHEMA,
            "type": "AdaptiveCard",
            "version": CARD_VERSION,
            "msteams": {"width": "Full"},
            "fallbackText": outgoing.subject,
            "body": body,
        }
        if report_url:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open full report", "url": report_url}]
        message = {
            "type": "message",
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
        }
        if shown == 0 or len(json_body(message).encode()) <= max_bytes:
            return message
        shown -= 1


class TeamsChannel(ChatWebhookChannel):
    """`webhook_url_env` (required): the variable holding the Workflows webhook URL;
    `report_url`: the "Open full report" action ({kind}, {period} and {scope} filled in)."""

    type = "teams"

    def message(self, outgoing: Outgoing, report_url: str | None) -> dict[str, Any]:
        return teams_message(outgoing, report_url)

    def channel_id(self, response: requests.Response) -> str:
        run = response.headers.get("x-ms-workflow-run-id")
        return f"run {run}" if run else "accepted"
