"""What a delivery channel receives: one report, already rendered for every audience.

`tpmsync.report` builds it (`build_outgoing`); `tpmsync.deliver` sends it. Channels read only
this, so a channel never needs the store or the KPI engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
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


class Renderings:
    """The whole report as plain text (file .txt), Markdown (file .md) and HTML with its images
    inline (file .html, the email's attachment), each rendered on first use: a delivery to chat or
    Asana renders none of them (the text alone takes about 20 s for a weekly of 200 projects)."""

    def __init__(
        self, text: Callable[[], str], markdown: Callable[[], str], html_inline: Callable[[], str]
    ) -> None:
        self._render = {"text": text, "markdown": markdown, "html_inline": html_inline}

    @classmethod
    def of(cls, text: str = "", markdown: str = "", html_inline: str = "") -> Renderings:
        """Renderings already made."""
        return cls(lambda: text, lambda: markdown, lambda: html_inline)

    @cached_property
    def text(self) -> str:
        return self._render["text"]()

    @cached_property
    def markdown(self) -> str:
        return self._render["markdown"]()

    @cached_property
    def html_inline(self) -> str:
        return self._render["html_inline"]()


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
    summary_text: str  # the written summary as plain text, what the email's HTML leads with (its text/plain part)
    html: str  # the email's HTML summary (< 100 KB at any size); images referenced as cid:<name>
    data: dict[str, Any]  # the JSON report (webhook body with detail = "full", file .json)
    renderings: Renderings  # the whole report as text, Markdown and inline HTML, rendered when first read
    images: dict[str, bytes] = field(default_factory=dict)  # cid name → PNG bytes

    @property
    def text(self) -> str:
        """The whole report as plain text (file .txt)."""
        return self.renderings.text

    @property
    def markdown(self) -> str:
        """The whole report as Markdown (file .md, wikis)."""
        return self.renderings.markdown

    @property
    def html_inline(self) -> str:
        """The whole report with images as data: URIs (file .html, browsers, the email's attachment)."""
        return self.renderings.html_inline

    @property
    def attachment_name(self) -> str:
        """The file name of the full report attached to an email."""
        return full_report_name(self.kind, self.period)


def full_report_name(kind: str, period: str) -> str:
    return f"tpmsync-{kind}-{period}.html"


def compact_json(payload: object) -> str:
    """JSON as a chat tool or webhook receives it: no indentation, no spaces after separators."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
