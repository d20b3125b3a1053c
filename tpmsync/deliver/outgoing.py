"""What a delivery channel receives: one report, already rendered for every audience.

`tpmsync.report` builds it (`build_outgoing`); `tpmsync.deliver` sends it. Channels read only
this, so a channel never needs the store or the KPI engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StatusLine:
    """A line of the project's written status: `kind` "note" (the project manager's), "headline",
    "title" (What changed, Risks, Asks) or "item"; `pieces` are (text, Asana link or None).
    The text is clean (no control characters, one line) but not escaped for any channel."""

    kind: str
    pieces: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class ProjectLine:
    """One project of the report, as a channel shows it."""

    gid: str
    name: str
    health: str  # green | amber | red
    reasons: tuple[str, ...]  # actionable, most important first; empty when green
    url: str | None  # the project in Asana
    headline: str  # one line of key numbers, e.g. "56 open · 3 overdue · 2 blocked · SPI 0.92"
    asana_html: str  # this project's part of the report in Asana's rich-text subset (<body>…</body>)
    status: tuple[StatusLine, ...] = ()  # the written status, which leads the project everywhere
    status_text: str = ""  # the same as plain text: the `text` of the Asana status update


@dataclass(frozen=True)
class Outgoing:
    """A report ready to send.

    (kind, period, scope) identifies it for the delivery ledger: the same report for the same
    period and scope goes to each channel at most once.
    """

    kind: str  # daily | weekly
    period: str  # daily: "2026-11-25"; weekly: ISO week "2026-W48"
    scope: str  # "portfolio" or a stable id of the project set, e.g. "projects:1200…,1200…"
    subject: str  # e.g. "tpmsync daily — RED — 2026-11-25: 3 red, 2 amber, 1 green"
    health: str  # the worst project's
    projects: tuple[ProjectLine, ...]
    text: str  # the whole report as plain text (file .txt)
    summary_text: str  # the written summary as plain text, what the email's HTML leads with (its text/plain part)
    markdown: str  # Markdown (file .md, wikis)
    html: str  # the email's HTML summary (< 100 KB at any size); images referenced as cid:<name>
    html_inline: str  # the whole report with images as data: URIs (file .html, browsers, email attachment)
    data: dict[str, Any]  # the JSON report (webhook body with detail = "full", file .json)
    images: dict[str, bytes] = field(default_factory=dict)  # cid name → PNG bytes

    @property
    def attachment_name(self) -> str:
        """The file name of the full report attached to an email."""
        return full_report_name(self.kind, self.period)


def full_report_name(kind: str, period: str) -> str:
    return f"tpmsync-{kind}-{period}.html"


def compact_json(payload: object) -> str:
    """JSON as a chat tool or webhook receives it: no indentation, no spaces after separators."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
