"""One format of a report as a string or a file: what `tpmsync report … [--out FILE]` prints or writes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tpmsync.report.model import Report

FORMATS = ("text", "markdown", "html", "json")
SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}


def format_for(path: str | Path) -> str | None:
    """The format a file name asks for by its suffix (report.html → "html"), or None."""
    return SUFFIXES.get(Path(path).suffix.lower())


def render(report: Report, fmt: str, *, images: Mapping[str, bytes] | None = None) -> str:
    """`report` as `fmt` (text, markdown, html, json). HTML embeds its charts as data: URIs,
    drawn here unless `images` are given."""
    if fmt == "text":
        from tpmsync.report.render_text import render_text

        return render_text(report)
    if fmt == "markdown":
        from tpmsync.report.render_markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from tpmsync.report.render_html import render_html

        if images is None:
            from tpmsync.report.charts import render_charts

            images = render_charts(report)
        return render_html(report, images, mode="data")
    if fmt == "json":
        from tpmsync.report.render_json import render_json

        return render_json(report)
    raise ValueError(f"report format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def write_report(report: Report, fmt: str, path: str | Path) -> Path:
    """Write `report` as `fmt` to `path` (parent folders created); returns the absolute path."""
    text = render(report, fmt)
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
