"""The report as one HTML document that reads well in a browser and in mail clients.

Jinja2 templates under `tpmsync/templates/report/`: a table layout 640 px wide, inline styles
only, no external assets (no stylesheets, fonts, scripts or remote images). Charts are PNGs
referenced as `cid:<name>` (`images="cid"`, for email with attached images) or embedded as
`data:` URIs (`images="data"`, for files and browsers). The only links are to Asana.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tpmsync.report import wording
from tpmsync.report.charts import TREND_NAME, burnup_name
from tpmsync.report.model import Report

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "report"
MAX_IMAGE_WIDTH = 600
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
    env.globals.update(w=wording, burnup_name=burnup_name, trend_name=TREND_NAME)
    return env


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def render_html(report: Report, images: Mapping[str, bytes] | None = None, *, mode: ImageMode = "data") -> str:
    """The whole HTML document; `images` (name → PNG, from `charts.render_charts`) are shown where
    the report has a place for them, as `cid:` references or `data:` URIs by `mode`."""
    pictures = dict(images or {})

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

    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        has_image=lambda name: name in pictures,
        image_src=image_src,
        image_size=image_size,
        colour=colour,
    )
