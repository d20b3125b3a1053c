"""The report as one HTML document that reads well in a browser and in mail clients.

Jinja2 templates under `tpmsync/templates/report/`: one fluid column (readable from a 360 px phone
to a desktop, at most 800 px wide), inline styles only, no external assets (no stylesheets, fonts,
scripts or remote images). Charts are PNGs referenced as `cid:<name>` (`images="cid"`, for email
with attached images) or embedded as `data:` URIs (`images="data"`, for files and browsers). The
only links are to Asana.

`render_email_html` is the summary an email carries: red and amber projects in full, the others
one line each, as many as fit in `EMAIL_LIMIT` bytes (Gmail clips HTML over about 102 KB); the
full report goes with it as an attachment.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from tpmsync import words
from tpmsync.report import wording
from tpmsync.report.charts import TREND_NAME, burnup_name
from tpmsync.report.flow_charts import PEOPLE_NAME, flow_chart_name
from tpmsync.report.model import Report

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "report"
MAX_IMAGE_WIDTH = 600
EMAIL_LIMIT = 100_000  # bytes of the email's HTML part
EMAIL_ITEMS = 5  # tasks per list in the email summary
ImageMode = Literal["cid", "data"]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.globals.update(
        w=wording,
        burnup_name=burnup_name,
        trend_name=TREND_NAME,
        safe_url=words.safe_url,
        legend_items=words.LEGEND,
        flow_chart_name=flow_chart_name,
        people_name=PEOPLE_NAME,
    )
    return env


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _helpers(pictures: Mapping[str, bytes], mode: ImageMode) -> dict[str, object]:
    """What the templates call to show images and colours."""

    def image_src(name: str) -> str:
        if mode == "cid":
            return f"cid:{name}"
        return "data:image/png;base64," + base64.b64encode(pictures[name]).decode("ascii")

    def image_size(name: str) -> tuple[int, int]:
        width, height = png_size(pictures[name])
        if width <= MAX_IMAGE_WIDTH:
            return width, height
        return MAX_IMAGE_WIDTH, round(height * MAX_IMAGE_WIDTH / width)

    def colour(health: str | None) -> str:
        return wording.COLOURS.get(health or "", wording.NO_DATA_COLOUR)

    return {"has_image": lambda name: name in pictures, "image_src": image_src, "image_size": image_size,
            "colour": colour}


def render_html(report: Report, images: Mapping[str, bytes] | None = None, *, mode: ImageMode = "data") -> str:
    """The whole HTML document; `images` (name → PNG, from `charts.render_charts`) are shown where
    the report has a place for them, as `cid:` references or `data:` URIs by `mode`."""
    report = wording.clean_report(report)
    template = environment().get_template("report.html.j2")
    return template.render(report=report, **_helpers(dict(images or {}), mode))


def _module(name: str, report: Report, helpers: Mapping[str, object]) -> object:
    template: Template = environment().get_template(name)
    return template.make_module({"report": report, **helpers})


def render_email_html(
    report: Report,
    images: Mapping[str, bytes] | None = None,
    *,
    attachment: str | None = None,
    limit: int = EMAIL_LIMIT,
) -> str:
    """The email's HTML (images as `cid:`), at most `limit` bytes at any portfolio size: the
    portfolio and its trend chart, the red and amber projects in full (worst first, with their
    burn-ups when drawn), the others one line each; what does not fit is counted and left to the
    full report, attached as `attachment`."""
    report = wording.clean_report(report)
    helpers = _helpers(dict(images or {}), "cid")
    sections: Any = _module("project.html.j2", report, helpers)
    rows: Any = _module("macros.html.j2", report, helpers)
    year = report.as_of.year
    template = environment().get_template("email.html.j2")

    def page(full: list[Markup], lines: list[Markup], left: int) -> str:
        return template.render(report=report, sections=full, lines=lines, left=left, attachment=attachment,
                               **helpers)

    ordered = wording.worst_first(report.projects)
    rows_of = [Markup(rows.overview_row(p, year)) for p in ordered]
    used = len(page([], [], len(ordered)).encode()) + 400  # room for the "… and N more" line
    lines_size = sum(len(row.encode()) for row in rows_of)
    if used + lines_size > limit:  # even one line each is too much: as many lines as fit, worst first
        kept: list[Markup] = []
        for row in rows_of:
            used += len(row.encode())
            if used > limit:
                break
            kept.append(row)
        return page([], kept, len(ordered) - len(kept))
    # every project has its line; the red and amber ones, worst first, are upgraded to their full
    # section while the sections fit
    used += lines_size
    full: list[Markup] = []
    lines: list[Markup] = []
    for project, row in zip(ordered, rows_of, strict=True):
        if project.health != "green" and not lines:  # the worst first: once one is a line, the rest are
            section = Markup(sections.project_section(project, report, EMAIL_ITEMS))
            grows = len(section.encode()) - len(row.encode())
            if used + grows <= limit:
                full.append(section)
                used += grows
                continue
        lines.append(row)
    return page(full, lines, 0)
