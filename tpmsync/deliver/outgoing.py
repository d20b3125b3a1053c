"""What a delivery channel receives: one report, already rendered for every audience.

`tpmsync.report` builds it (`build_outgoing`); `tpmsync.deliver` sends it. Channels read only
this, so a channel never needs the store or the KPI engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    text: str  # plain text (email text part, file .txt)
    markdown: str  # Markdown (file .md, wikis)
    html: str  # a whole HTML document; images referenced as cid:<name>
    html_inline: str  # the same document with images as data: URIs (file .html, browsers)
    data: dict[str, Any]  # the JSON report (webhook body, file .json)
    images: dict[str, bytes] = field(default_factory=dict)  # cid name → PNG bytes
