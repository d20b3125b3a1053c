"""Rendering: text, Markdown, HTML for mail and browsers, JSON, Asana rich text, charts, Outgoing.

The reports are built from typed inputs (`tests/report/typed.py`: KPIs computed from tasks, eight
weeks of verdicts, daily counts), with no store and no sandbox: these tests check the rendering.
Building a report from a synced store is tested in test_report_build.py and the end-to-end tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields, replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.report.typed import typed_report
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.report.charts import TREND_NAME, burnup_name, render_charts
from tpmsync.report.model import Report
from tpmsync.report.outgoing import build_outgoing
from tpmsync.report.render_asana import ALLOWED_TAGS
from tpmsync.report.render_html import png_size, render_html
from tpmsync.report.render_json import read_json, render_json
from tpmsync.report.render_markdown import render_markdown
from tpmsync.report.render_text import render_rich, render_text
from tpmsync.report.write import FORMATS, format_for, write_report

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rendered:
    daily: Report
    weekly: Report
    daily_out: Outgoing
    weekly_out: Outgoing


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    """Daily and weekly reports of three projects with eight weeks of history, and their Outgoing."""
    daily = typed_report("daily")
    weekly = typed_report("weekly")
    return Rendered(daily, weekly, build_outgoing(daily), build_outgoing(weekly))


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def asana_urls(report: Report) -> set[str]:
    urls: set[str] = set()
    for p in report.projects:
        urls.add(p.url or "")
        lists = [
            p.changes.completed,
            p.changes.milestones_reached,
            p.changes.newly_overdue,
            p.changes.newly_blocked,
            p.upcoming.milestones,
            p.upcoming.due,
            p.critical_path.tasks,
            *(q.examples for q in p.data_quality),
        ]
        urls |= {t.url or "" for items in lists for t in items.items}
        urls |= {s.task.url or "" for s in p.changes.slipped.items}
    return urls - {""}


def test_daily_is_shorter_than_weekly_in_every_format(rendered: Rendered) -> None:
    d, w = rendered.daily_out, rendered.weekly_out
    assert len(d.text) < len(w.text)
    assert len(d.markdown) < len(w.markdown)
    assert len(d.html) < len(w.html)
    assert "Critical path" in w.text and "Critical path" not in d.text
    assert "Forecast" in w.markdown and "Forecast" not in d.markdown


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_html_has_no_external_assets_and_links_only_to_asana(rendered: Rendered, kind: str) -> None:
    report: Report = getattr(rendered, kind)
    out: Outgoing = getattr(rendered, f"{kind}_out")
    allowed = asana_urls(report)
    for html, scheme in ((out.html, "cid:"), (out.html_inline, "data:image/png;base64,")):
        tags = tags_of(html)
        names = {tag for tag, _ in tags}
        assert not names & {"link", "script", "style", "iframe", "object", "embed", "base"}
        srcs = [attrs["src"] or "" for tag, attrs in tags if "src" in attrs]
        assert srcs and all(src.startswith(scheme) for src in srcs)
        hrefs = {attrs["href"] or "" for tag, attrs in tags if "href" in attrs}
        assert hrefs and hrefs <= allowed
        assert all(h.startswith("https://app.asana.com/") for h in hrefs)
        assert not re.search(r"url\(|@import|https?://(?!app\.asana\.com/)", html)
    cids = {src.removeprefix("cid:") for tag, attrs in tags_of(out.html) if (src := attrs.get("src"))}
    assert cids == set(out.images)


def test_images_are_small_pngs_the_html_shows(rendered: Rendered) -> None:
    weekly = rendered.weekly_out
    assert TREND_NAME in weekly.images
    assert {burnup_name(p.gid) for p in rendered.weekly.projects if p.burnup} <= set(weekly.images)
    for name, png in weekly.images.items():
        width, height = png_size(png)
        assert len(png) < 60_000, name
        assert width == 600 and 160 <= height <= 300, (name, width, height)
    assert set(rendered.daily_out.images) == {TREND_NAME}


def test_charts_are_skipped_without_history(rendered: Rendered) -> None:
    weekly = rendered.weekly
    no_history = replace(
        weekly,
        projects=tuple(
            replace(p, burnup=None, flow=None, trend=tuple(replace(c, health=None) for c in p.trend))
            for p in weekly.projects
        ),
        portfolio=replace(weekly.portfolio, trend=tuple(replace(c, health=None) for c in weekly.portfolio.trend)),
        people=(),
    )
    assert render_charts(no_history) == {}
    html = render_html(no_history, {}, mode="cid")
    assert "<img" not in html


def test_asana_html_uses_only_asanas_rich_text_subset(rendered: Rendered) -> None:
    for out in (rendered.daily_out, rendered.weekly_out):
        assert len(out.projects) == len(rendered.daily.projects)
        for line in out.projects:
            html = line.asana_html
            assert html.startswith("<body>") and html.endswith("</body>")
            assert "\n" not in html
            root = ET.fromstring(html)  # well-formed XML, as Asana requires
            for element in root.iter():
                assert element.tag in ALLOWED_TAGS, element.tag
                assert set(element.attrib) <= ({"href"} if element.tag == "a" else set()), element.attrib
                if element.tag in ("h1", "h2"):
                    assert {child.tag for child in element} <= {"strong", "em", "u", "s", "code", "a"}
            assert {tag for tag, _ in tags_of(html)} <= ALLOWED_TAGS
            assert line.name not in ("",) and line.health in ("green", "amber", "red")


def test_outgoing_fills_every_field(rendered: Rendered) -> None:
    for report, out in ((rendered.daily, rendered.daily_out), (rendered.weekly, rendered.weekly_out)):
        for name in [f.name for f in fields(Outgoing)] + ["text", "markdown", "html_inline"]:
            assert getattr(out, name), name
        assert (out.kind, out.period, out.scope, out.health) == (
            report.kind,
            report.period,
            report.scope,
            report.health,
        )
        assert out.subject.startswith(f"tpmsync {report.kind} — {report.health.upper()} — {report.period}: ")
        assert out.data == report.to_json()
        for line, project in zip(out.projects, report.projects, strict=True):
            assert (line.gid, line.name, line.health, line.reasons, line.url) == (
                project.gid,
                project.name,
                project.health,
                project.reasons,
                project.url,
            )
            assert re.match(r"^[\d,]+ open · [\d,]+ overdue · [\d,]+ blocked", line.headline)
            assert (line.reasons == ()) == (line.health == "green")


def test_json_round_trips(rendered: Rendered) -> None:
    for report in (rendered.daily, rendered.weekly):
        text = render_json(report)
        assert read_json(text) == report
        data = json.loads(text)
        assert data["kind"] == report.kind and data["as_of"] == report.as_of.isoformat()
        assert data["projects"][0]["changes"]["completed"]["total"] == report.projects[0].changes.completed.total


def test_budget_without_estimates_says_so_in_every_format(rendered: Rendered) -> None:
    weekly = rendered.weekly
    first = replace(weekly.projects[0], budget=None)
    report = replace(weekly, projects=(first, *weekly.projects[1:]))
    out = build_outgoing(report, images={})
    for text in (out.text, out.markdown, out.html, out.projects[0].asana_html):
        assert "No estimates" in text
    assert read_json(render_json(report)).projects[0].budget is None
    assert json.loads(render_json(report))["projects"][0]["budget"] is None


def test_text_is_plain_and_the_terminal_version_is_rich(rendered: Rendered) -> None:
    from rich.console import Console

    text = render_text(rendered.weekly)
    assert "\x1b[" not in text
    assert rendered.weekly.title in text
    for project in rendered.weekly.projects:
        assert project.name in text
    console = Console(width=120, record=True, force_terminal=True, color_system="truecolor")
    console.print(render_rich(rendered.weekly))
    assert "\x1b[" in console.export_text(styles=True)


def test_markdown_links_tasks_to_asana(rendered: Rendered) -> None:
    md = render_markdown(rendered.weekly)
    assert md.startswith(f"# {rendered.weekly.title}")
    links = re.findall(r"\]\((https?://[^)]+)\)", md)
    assert links and set(links) <= asana_urls(rendered.weekly)


def test_write_report_writes_each_format(rendered: Rendered, tmp_path: Path) -> None:
    for fmt in FORMATS:
        path = write_report(rendered.daily, fmt, tmp_path / "out" / f"report.{fmt}")
        assert path.is_file() and path.stat().st_size > 200
    assert read_json((tmp_path / "out" / "report.json").read_text(encoding="utf-8")) == rendered.daily
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "cid:" not in html
    assert (format_for("a/report.HTML"), format_for("r.md"), format_for("r.txt"), format_for("r.pdf")) == (
        "html",
        "markdown",
        "text",
        None,
    )
    with pytest.raises(ValueError, match="text, markdown, html, json"):
        write_report(rendered.daily, "pdf", tmp_path / "r.pdf")


def test_rendering_without_charts_never_imports_matplotlib() -> None:
    code = (
        "import sys, tpmsync.cli, tpmsync.status, tpmsync.report.build, tpmsync.report.outgoing, "
        "tpmsync.report.write, tpmsync.report.render_html, tpmsync.report.charts; "
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_whole_report_documents_are_rendered_only_when_a_channel_reads_them() -> None:
    report = typed_report("weekly")
    out = build_outgoing(report, images={})
    assert not {"text", "markdown", "html_inline"} & set(vars(out.renderings))  # chat and Asana need none
    assert out.text == render_text(report) and out.markdown == render_markdown(report)
    assert out.html_inline == render_html(report, {}, mode="data")
    assert {"text", "markdown", "html_inline"} <= set(vars(out.renderings))  # each rendered once, then kept
