"""Every renderer and channel payload with hostile names and real portfolio sizes (issue 10).

Reports are made in memory (`synthetic.make_report`), so these run without a database: names with
markup of every target, control and bidi characters, CRLF and 100,000 characters, and portfolios
of 50 to 2,000 projects.
"""

from __future__ import annotations

import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from synthetic import make_report, plain_names

from tpmsync.deliver.outgoing import Outgoing, ProjectLine, Renderings, compact_json
from tpmsync.deliver.slack import MAX_BLOCKS, MAX_SECTION, slack_message
from tpmsync.deliver.teams import MAX_BYTES, teams_message
from tpmsync.deliver.webhook import SUMMARY_LIMIT, summary_body
from tpmsync.report.charts import TREND_NAME, burnup_name, burnup_png, render_charts, trend_png
from tpmsync.report.model import Burnup, BurnupPoint, Report
from tpmsync.report.outgoing import build_outgoing, status_lines
from tpmsync.report.render_asana import ALLOWED_TAGS, render_asana
from tpmsync.report.render_html import EMAIL_LIMIT, render_email_html, render_html
from tpmsync.report.render_summary import TEXT_LIMIT, render_summary_text
from tpmsync.report.wording import clean_report, headline, subject
from tpmsync.words import CHANCE, DONE_ON_TIME, LEGEND

EVIL = "https://evil.example/login"
HOSTILE = [
    "[/oops]",
    "[link=https://evil.example]Click[/link]",
    "Budget $\\foo{1}$ and $x^2$",
    f"[Reset your password]({EVIL})",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "*bold* _italic_ ~strike~ `code` <!channel> & <@U123>",
    "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07osc link\x1b]8;;\x07",
    "\u202eevil\u202c \u200bzero\u2060width\ufeff",
    "line one\r\nline two\rthree\n| split | row |",
    "- list item\n1. numbered\n# heading",
    "Q" * 100_000,
    "Quarterly planning " * 6_000,
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def hostile_namer(names: list[str]) -> Any:
    def namer(what: str, index: int) -> str:
        if what == "person":
            return names[index % len(names)][:300]
        return names[index % len(names)] + ("" if index % 2 else f" {plain_names(what, index)}")

    return namer


def outgoing_for(report: Report, images: dict[str, bytes] | None = None) -> Outgoing:
    return build_outgoing(report, images={} if images is None else images)


def chat_outgoing(report: Report) -> Outgoing:
    """What the chat channels read (`projects`, `subject`), without rendering the documents they
    do not send: fast for thousands of projects."""
    report = clean_report(report)
    lines = tuple(
        ProjectLine(gid=p.gid, name=p.name, health=p.health, reasons=p.reasons, url=p.url,
                    headline=headline(p.headline, p.forecast, report.as_of.year), asana_html="",
                    status=status_lines(p), status_text=p.written.text if p.written else "")
        for p in report.projects
    )
    return Outgoing(kind=report.kind, period=report.period, scope=report.scope, subject=subject(report),
                    health=report.health, projects=lines, summary_text="", html="", data={},
                    renderings=Renderings.of())


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def check_html(html: str) -> None:
    parser = Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "iframe", "style", "link", "object"}
    for tag, attrs in parser.tags:
        assert tag not in {"script", "iframe", "object", "embed", "style", "link", "base", "form"}
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith(("cid:", "data:image/png;base64,"))
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("https://app.asana.com/"), attrs
    assert not CONTROL.search(html.replace("\n", "").replace("\r", ""))


def check_markdown(markdown: str) -> None:
    assert not re.search(r"(?<!\\)<(script|img)", markdown)
    for target in re.findall(r"(?<!\\)\]\(([^)]*)\)", markdown):
        assert target.startswith("https://app.asana.com/"), target
    assert not CONTROL.search(markdown.replace("\n", ""))
    for row in (line for line in markdown.splitlines() if line.startswith("| ")):
        assert row.endswith("|")  # a name's newline never split a table row


def check_asana(html: str) -> None:
    root = ET.fromstring(html)
    assert {element.tag for element in root.iter()} <= ALLOWED_TAGS
    for element in root.iter("a"):
        assert element.get("href", "").startswith("https://app.asana.com/")
    assert "\r" not in html and "\n" not in html
    assert len(html.encode()) < 60_000


def check_slack(message: dict[str, Any]) -> None:
    assert len(message["blocks"]) <= MAX_BLOCKS
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert all(len(t) <= MAX_SECTION for t in texts)
    assert sum(len(t) for t in texts) <= 40_000
    for text in texts:
        for link in re.findall(r"<([^>]*)>", text):
            assert link.startswith(("https://app.asana.com/", "https://wiki.example.com/")), link
        assert not CONTROL.search(text.replace("\n", ""))


def check_teams(message: dict[str, Any]) -> None:
    body = compact_json(message)
    assert len(body.encode()) <= MAX_BYTES
    card = message["attachments"][0]["content"]
    for block in card["body"]:
        for text in re.findall(r'"text":"((?:[^"\\]|\\.)*)"', json.dumps(block, ensure_ascii=False)):
            for target in re.findall(r"\]\(([^)]*)\)", text):
                assert target.startswith(("https://app.asana.com/", "https://wiki.example.com/")), target
            assert "https://evil" not in text


def everything(report: Report) -> None:
    """Render `report` for every output and check each; raises on a crash or live markup."""
    out = outgoing_for(report)
    check_html(out.html)
    assert len(out.html.encode()) < EMAIL_LIMIT
    check_html(out.html_inline)
    for project in clean_report(report).projects:  # the written lead is drawn from its lines, each piece escaped
        for line in project.written.lines if project.written is not None else ():
            for piece in line.pieces:
                assert str(escape(piece.text)) in out.html_inline, piece.text
    check_markdown(out.markdown)
    assert "\x1b" not in out.text and not CONTROL.search(out.text.replace("\n", ""))
    assert "\x1b" not in out.summary_text and not CONTROL.search(out.summary_text.replace("\n", ""))
    assert len(out.summary_text.encode()) < TEXT_LIMIT
    for line in out.projects:
        check_asana(line.asana_html)
        assert len(line.name) <= 200 and not CONTROL.search(line.name)
        assert not CONTROL.search(line.status_text.replace("\n", ""))  # the Asana status update's `text`
        for status in line.status:
            for text, url in status.pieces:
                assert not CONTROL.search(text) and "\n" not in text
                assert url is None or url.startswith("https://app.asana.com/"), url
    check_slack(slack_message(out, "https://wiki.example.com/report"))
    check_teams(teams_message(out, "https://wiki.example.com/report"))
    assert len(compact_json(summary_body(out.data)).encode()) <= SUMMARY_LIMIT


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_every_renderer_and_channel_is_safe_with_each_hostile_name(kind: str) -> None:
    everything(make_report(len(HOSTILE), kind=kind, namer=hostile_namer(HOSTILE), extras=True))


hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300),
    st.lists(st.sampled_from(["[", "]", "(", ")", "<", ">", "*", "_", "~", "`", "|", "$", "\\", "&", "#", "-",
                              "\r\n", "\x1b[", "\x1b]8;;", "\x07", "\u202e", "\u200b", "https://evil.example/",
                              "link=", "/", " ", "word", "1."]), max_size=60).map("".join),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(hostile_text, min_size=1, max_size=4), kind=st.sampled_from(["daily", "weekly"]))
def test_property_random_hostile_names_never_crash_act_or_grow(names: list[str], kind: str) -> None:
    everything(make_report(3, kind=kind, namer=hostile_namer(names), items=4, extras=True))


@settings(max_examples=20, deadline=None)
@given(names=st.lists(hostile_text, min_size=1, max_size=4))
@example(names=["\u0300"])  # a lone combining mark: a code point but no terminal cell
def test_property_status_views_with_random_hostile_names(names: list[str]) -> None:
    import io

    from rich.cells import cell_len
    from rich.console import Console

    from tests.test_status_render import document, project
    from tpmsync.status_render import render_detail, render_markdown, render_table

    doc = document(*(project(i, name, ("red", "amber", "green")[i % 3], (name,)) for i, name in enumerate(names)))
    for width in (80, 120):
        console = Console(width=width, file=io.StringIO(), color_system=None, force_terminal=False, record=True)
        console.print(render_table(doc))
        segments = list(console.render(render_table(doc), console.options))
        assert all(s.style is None or not s.style.link for s in segments)
        text = console.export_text()
        # terminal cells, not code points: a combining mark takes none (found by hypothesis: "\u0300")
        assert all(cell_len(line) <= width for line in text.splitlines())
        assert not CONTROL.search(text.replace("\n", ""))
    check_markdown(render_markdown(doc))
    detail = "".join(render_detail(p, width=80) for p in doc["projects"])
    assert not CONTROL.search(detail.replace("\n", "")) and len(detail) < 20_000


# ------------------------------------------------------------------------------------- charts


def test_chart_names_are_plain_text_not_mathtext() -> None:
    report = make_report(3, kind="weekly", namer=lambda what, i: "Budget $\\foo{1}$" if what == "project" else "t")
    png = burnup_png(report.projects[0], report.as_of)
    assert png is not None and png.startswith(b"\x89PNG")
    assert trend_png(report) is not None


def test_a_chart_that_fails_is_left_out_and_logged_and_the_report_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    report = make_report(3, kind="weekly")
    broken = replace(report.projects[0], burnup=Burnup(source="snapshots", points=(
        BurnupPoint(day=report.as_of.replace(day=1), completed=1, total=10**400),  # no float holds it
        BurnupPoint(day=report.as_of, completed=2, total=10**400),
    )))
    report = replace(report, projects=(broken, *report.projects[1:]))
    with caplog.at_level(logging.WARNING, logger="tpmsync.report.charts"):
        images = render_charts(report)
    assert burnup_name(broken.gid) not in images
    assert burnup_name(report.projects[1].gid) in images
    assert any("not drawn" in r.getMessage() and broken.name in r.getMessage() for r in caplog.records)
    out = build_outgoing(report, images=images)
    assert broken.name in out.html_inline


def test_burnups_are_drawn_for_the_worst_projects_only() -> None:
    from tpmsync.report.charts import MAX_BURNUPS, burnup_projects

    report = make_report(MAX_BURNUPS + 6, kind="weekly", items=1)
    drawn = burnup_projects(report)
    assert len(drawn) == MAX_BURNUPS
    assert {p.gid for p in report.projects if p.health != "green"} <= {p.gid for p in drawn}


# -------------------------------------------------------------------------------- words in use


def test_sentences_in_channels_are_cut_at_word_boundaries() -> None:
    reason = "the milestone is at risk because the forecast p85 falls after the due date " * 8
    report = make_report(3, kind="daily")  # no written status: the reasons are shown
    report = replace(report, projects=tuple(replace(p, reasons=(reason,)) for p in report.projects))
    out = outgoing_for(report)
    slack = slack_message(out)["blocks"][3]["text"]["text"]
    teams = teams_message(out)["attachments"][0]["content"]["body"][2]["items"][-1]["text"]
    for shown in (re.search(r"• (.*)", slack), re.search(r"- (.*)", teams)):
        assert shown is not None
        text = shown.group(1)
        assert text.endswith("…")
        kept = text[:-1]
        assert reason.startswith(kept) and reason[len(kept)] == " ", text


def test_every_report_has_the_legend_and_names_the_two_on_time_numbers_apart() -> None:
    report = make_report(3, kind="weekly")
    out = outgoing_for(report)
    for text in (out.text, out.markdown, out.html, out.html_inline, out.projects[0].asana_html):
        assert "How to read this" in text
        for term, _ in LEGEND:
            assert term.replace("/", "") .split()[0] in text, term
        assert "On time?" not in text
    assert CHANCE in out.markdown and DONE_ON_TIME in out.markdown
    assert CHANCE in out.text


def test_html_is_fluid_from_phone_to_desktop() -> None:
    html = render_html(make_report(5, kind="weekly"), render_charts(make_report(1, kind="weekly")))
    assert not re.search(r'width="6[1-9]\d"|(?<!max-)width:6\d\dpx', html)
    assert "max-width:800px" in html and 'name="viewport"' in html
    assert re.search(r"width:100%;max-width:\d+px;height:auto", html)  # images scale down
    fixed = re.findall(r"(?<!max-)width:(\d+)px", html)
    assert all(int(px) <= 14 for px in fixed), fixed  # only the trend squares have a fixed size


# --------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("projects", [50, 400])
def test_email_html_stays_under_100_kb_with_red_and_amber_in_full(projects: int) -> None:
    report = make_report(projects, kind="weekly")
    html = render_email_html(report, {}, attachment="tpmsync-weekly-2026-W48.html")
    assert len(html.encode()) < EMAIL_LIMIT
    assert "tpmsync-weekly-2026-W48.html" in html and "How to read this" in html
    not_green = [p for p in report.projects if p.health != "green"]
    if projects == 50:
        for p in report.projects:  # every project is there, green ones in one line each
            assert p.name in html
        in_full = [p for p in not_green if p.reasons[0].split(":")[0] in html]
        assert len(in_full) >= 10 and in_full[0] == not_green[0]  # the worst in full first
    else:
        assert re.search(r"… and [\d,]+ more projects? in the attached full report", html)
        assert not_green[0].name in html


@pytest.mark.parametrize("projects", [50, 250])
def test_the_email_text_part_is_the_written_summary_under_100_kb(projects: int) -> None:
    report = clean_report(make_report(projects, kind="weekly", items=4, extras=True))
    text = render_summary_text(report, attachment="tpmsync-weekly-2026-W48.html")
    assert len(text.encode()) < TEXT_LIMIT
    assert text.startswith(report.title + "\n") and report.freshness() in text
    assert "Completed (" not in text and "Critical path" not in text  # the lead, not the whole report
    worst = [p for p in report.projects if p.health != "green"]
    assert worst[0].written is not None and worst[0].written.text.rstrip("\n") in text
    if projects == 50:  # every red and amber project's written status, every green one a line
        assert all(p.written is not None and p.written.text.rstrip("\n") in text for p in worst)
        assert all(p.name in text for p in report.projects)
    else:
        assert re.search(r"… and [\d,]+ more projects? in the attached full report\.", text)


def test_the_email_carries_only_the_charts_it_shows() -> None:
    report = make_report(2, kind="weekly", items=2)  # one red, one amber
    out = build_outgoing(report, images=render_charts(report))
    assert TREND_NAME not in out.images or f"cid:{TREND_NAME}" in out.html
    assert all(f"cid:{name}" in out.html for name in out.images)
    assert any(name.startswith("burnup-") for name in out.images)


def test_webhook_summary_is_compact_worst_first_and_under_256_kb_at_1000_projects() -> None:
    data = make_report(1000, kind="weekly", items=2).to_json()
    body = summary_body(data)
    size = len(compact_json(body).encode())
    assert size <= SUMMARY_LIMIT < 256_000
    assert body["detail"] == "summary"
    healths = [p["health"] for p in body["projects"]]
    assert healths == sorted(healths, key={"red": 0, "amber": 1, "green": 2}.__getitem__)
    assert body["omitted"] + len(body["projects"]) == 1000
    assert "completed" in body["projects"][0]["changes"] and isinstance(body["projects"][0]["changes"]["completed"],
                                                                         int)
    assert len(compact_json(make_report(50, kind="weekly").to_json()).encode()) > size  # full at 50 > summary at 1,000


def test_teams_card_is_compact_red_and_amber_first_and_linear() -> None:
    out = chat_outgoing(make_report(50, kind="daily", items=1))
    message = teams_message(out, "https://wiki.example.com/report")
    body = compact_json(message)
    assert len(body.encode()) <= MAX_BYTES
    card = message["attachments"][0]["content"]
    containers = [b for b in card["body"] if b["type"] == "Container"]
    assert len(containers) > 11  # measured compact, as sent: more than the 11 of 50 indented JSON allowed
    colours = [c["items"][0]["columns"][0]["items"][0]["color"] for c in containers]
    assert colours == sorted(colours, key={"Attention": 0, "Warning": 1, "Good": 2}.__getitem__)
    if len(containers) < 50:
        assert "(https://wiki.example.com/report)" in card["body"][-1]["text"]
    many = chat_outgoing(make_report(1000, kind="daily", items=1))
    start = time.perf_counter()
    teams_message(many)
    assert time.perf_counter() - start < 5  # was 70 s: quadratic


def test_slack_stays_within_block_kit_limits_at_2000_projects() -> None:
    hostile = hostile_namer(HOSTILE)
    namer = lambda what, i: hostile(what, i) if what == "project" else plain_names(what, i)  # noqa: E731
    out = chat_outgoing(make_report(2000, kind="daily", namer=namer, items=1))
    check_slack(slack_message(out, "https://wiki.example.com/report"))


def test_a_100k_name_makes_a_small_asana_status_update() -> None:
    report = make_report(2, kind="weekly", namer=lambda what, i: "Quarterly planning " * 6_000)
    html = render_asana(report, report.projects[0])
    assert len(html.encode()) < 40_000  # was 113 KB; every one of its task names is 200 characters now
    check_asana(html)


def test_webhook_413_is_one_line_and_detail_full_sends_the_whole_report(sqlite_store: Any) -> None:
    from tests.deliver.deliver_support import make_settings
    from tpmsync.deliver.service import deliver

    url = "https://ops.example.com/hooks/tpmsync"
    out = outgoing_for(make_report(20, kind="daily", items=2))
    channels = {"compact": {"type": "webhook", "url": url}, "full": {"type": "webhook", "url": url, "detail": "full"}}
    with responses.RequestsMock() as http:
        http.post(url, json={"id": "evt_1"})
        http.post(url, status=413, body="<html><body><h1>413 Request Entity Too Large</h1>\n</body></html>")
        [sent] = deliver(sqlite_store, make_settings(channels), out, channels=["compact"], sleep=lambda s: None)
        [refused] = deliver(sqlite_store, make_settings(channels), out, channels=["full"], sleep=lambda s: None)
        compact = json.loads(http.calls[0].request.body)
        full = json.loads(http.calls[1].request.body)
    assert sent.status == "sent" and compact["detail"] == "summary" and "changes" in compact["projects"][0]
    assert full == out.data
    assert refused.status == "failed" and refused.error is not None
    assert "\n" not in refused.error and "too large (413)" in refused.error and 'drop detail = "full"' in refused.error


def test_slack_shows_formatting_characters_in_names_as_typed_not_as_formatting() -> None:
    namer = lambda what, i: "*Launch* _beta_ ~old~ `x` <!here>" if what == "project" else "t"  # noqa: E731
    message = slack_message(chat_outgoing(make_report(1, kind="daily", namer=namer, items=1)))
    project = message["blocks"][3]["text"]["text"]
    name = project.split("|", 1)[1].split(">*", 1)[0]
    assert name == "∗Launch∗ ˍbetaˍ ∼old∼ ˋxˋ &lt;!here&gt;"
    assert "<!here>" not in json.dumps(message)
