"""Flow and people charts, aging items and overloaded people, why the p85 moved, and the written
status leading every channel (issue 11 item 5, issue 13 items 3 and 5). In memory: no database."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from synthetic import AS_OF, make_report

from tpmsync.config import Settings
from tpmsync.deliver.slack import slack_message
from tpmsync.deliver.teams import teams_message
from tpmsync.report import flow_charts as fc
from tpmsync.report import wording as w
from tpmsync.report.charts import render_charts
from tpmsync.report.model import Report
from tpmsync.report.model_flow import FlowDayCounts
from tpmsync.report.outgoing import build_outgoing
from tpmsync.report.render_asana import render_asana
from tpmsync.report.render_html import render_html
from tpmsync.report.render_markdown import render_markdown
from tpmsync.report.render_text import render_text
from tpmsync.reporting import notes_for

PNG = b"\x89PNG\r\n\x1a\n"
MATH = "Budget $\\foo{1}$"


def report(kind: str = "weekly", projects: int = 2, **kwargs: Any) -> Report:
    return make_report(projects, kind=kind, items=6, extras=True, **kwargs)


def test_each_flow_and_people_chart_is_a_png_and_names_stay_plain_text() -> None:
    weekly = report(projects=1, namer=lambda what, i: MATH if what in ("project", "section", "person") else f"t{i}")
    project = weekly.projects[0]
    for draw in (fc.cfd_png, fc.cycle_png, fc.throughput_png, fc.aging_png):
        png = draw(project)
        assert png is not None and png.startswith(PNG), draw.__name__
    people = fc.people_png(weekly.people)
    assert people is not None and people.startswith(PNG)
    images = render_charts(weekly)
    for gid in (p.gid for p in weekly.projects):
        assert {fc.flow_chart_name(c, gid) for c in fc.FLOW_CHARTS} <= set(images)
    assert fc.PEOPLE_NAME in images
    html = render_html(weekly, images, mode="cid")
    for name in (fc.flow_chart_name("cfd", project.gid), fc.flow_chart_name("aging", project.gid), fc.PEOPLE_NAME):
        assert f'src="cid:{name}"' in html


def test_no_flow_or_no_people_draws_nothing_and_a_daily_report_draws_no_flow_chart() -> None:
    project = replace(report().projects[0], flow=None)
    assert [d(project) for d in (fc.cfd_png, fc.cycle_png, fc.throughput_png, fc.aging_png)] == [None] * 4
    assert fc.people_png(()) is None
    daily = render_charts(report("daily"))
    assert not any(name.startswith(("cfd-", "cycle-", "aging-", "throughput-", "people")) for name in daily)


def test_weekly_throughput_sums_whole_weeks_ending_on_the_last_day() -> None:
    flow = report().projects[0].flow
    assert flow is not None
    weeks = fc.weekly_throughput(flow)
    assert len(weeks) == 6 and weeks[-1][0] == AS_OF
    assert weeks[-1][1] == sum(d.throughput for d in flow.days[-7:])
    assert sum(count for _, count in weeks) == sum(d.throughput for d in flow.days)


def test_a_flow_chart_that_fails_is_left_out_and_the_rest_are_drawn(caplog: pytest.LogCaptureFixture) -> None:
    weekly = report()
    broken = weekly.projects[0]
    assert broken.flow is not None
    days = tuple(FlowDayCounts(d.day, (10**400, *d.columns[1:]), d.completed, d.throughput) for d in broken.flow.days)
    broken = replace(broken, flow=replace(broken.flow, days=days))
    weekly = replace(weekly, projects=(broken, *weekly.projects[1:]))
    with caplog.at_level(logging.WARNING, logger="tpmsync.report.charts"):
        images = render_charts(weekly)
    assert fc.flow_chart_name("cfd", broken.gid) not in images
    assert fc.flow_chart_name("aging", broken.gid) in images
    assert fc.flow_chart_name("cfd", weekly.projects[1].gid) in images
    assert any("not drawn" in r.getMessage() and "cfd" in r.getMessage() for r in caplog.records)


def test_the_daily_report_names_each_aging_item_and_each_overloaded_person_a_line_each() -> None:
    daily = report("daily")
    project = daily.projects[0]
    assert project.flow is not None
    aging = project.flow.aging
    overloaded = [p for p in daily.people if p.overloaded]
    fine = [p for p in daily.people if not p.overloaded]
    assert aging and overloaded and fine
    text, markdown, html = render_text(daily, width=400), render_markdown(daily), render_html(daily, {})
    for item in aging[:5]:
        line = f"{item.task.name} in {item.section} for {item.age_days} days (85 % of tasks finish within 12)"
        assert line in text and line in html
        assert any(line in row for row in markdown.splitlines() if row.startswith("- "))
    for person in overloaded:
        line = f"{person.name}: {round(person.load_ratio * 100)}% of capacity for the next 14 days"
        assert sum(1 for row in text.splitlines() if line in row) == 1
        assert line in markdown and line in html
    for person in fine:
        assert f"{person.name}: {round(person.load_ratio * 100)}%" not in text
    young = [i for i in project.flow.wip if not i.aging]
    assert young and f"{young[0].task.name} in {young[0].section} for" not in text


def documents(built: Report) -> dict[str, str]:
    """The report in each format a person reads, markup taken off so sentences compare as text."""
    return {
        "text": render_text(built, width=400),
        "markdown": render_markdown(built).replace("\\", ""),
        "html": html.unescape(render_html(built, {})),
        "asana": html.unescape("".join(render_asana(built, p) for p in built.projects)),
    }


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_why_the_p85_moved_is_in_every_format_once(kind: str) -> None:
    built = report(kind, projects=1)
    lead = "p85 moved 9 days later since 2026-11-18: +5 scope (12 tasks added), +1 progress (4 tasks completed), " \
           "+3 pace (throughput 26, was 30)."
    details = "p85 moved 9 days later since Nov 18: +5 scope (12 tasks added), +3 pace (26 done in 6 weeks, was 30), " \
              "+1 progress (4 tasks completed)"
    for name, document in documents(built).items():
        assert document.count(lead) == 1 and details not in document, name  # the written lead says it
    bare = replace(built, projects=tuple(replace(p, written=None) for p in built.projects))
    for name in ("text", "markdown", "html"):  # without a written status, the details say it
        document = documents(bare)[name]
        assert document.count(details) == 1 and lead not in document, name
    moved = built.projects[0].moved
    assert moved is not None and moved.scope_days + moved.pace_days + moved.progress_days == moved.change_days


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_the_reasons_are_said_once_by_the_written_lead_in_every_format(kind: str) -> None:
    built = report(kind, projects=1)
    project = built.projects[0]
    assert project.written is not None and len(project.reasons) >= 2
    for name, document in documents(built).items():
        for reason in project.reasons:
            assert document.count(reason) == 1, (name, reason)
        assert not re.search(r"\bWhy\b", document), name  # no "Why" list beside the lead
        lead = document.index(project.reasons[0])
        assert lead < document.index("What changed since"), name  # the lead comes before the details
    bare = replace(built, projects=(replace(project, written=None),))
    for name, document in documents(bare).items():  # without a written status the details give the reasons
        assert re.search(r"\bWhy\b", document), name
        assert document.count(w.reasons_for(replace(project, written=None), kind)[0]) == 1, name


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_reasons_beyond_the_leads_five_are_listed_once_in_the_weekly_details(kind: str) -> None:
    reasons = tuple(f"Reason number {k} of nine" for k in range(1, 10))
    built = make_report(1, kind=kind, items=4, extras=True, reasons=reasons)
    project = built.projects[0]
    assert project.reasons == reasons and project.written is not None and "… and 3 more." in project.written.text
    for name, document in documents(built).items():
        for k, reason in enumerate(reasons, start=1):
            said = document.count(reason)
            if k <= w.LEAD_REASONS:
                assert said == 1, (name, reason)  # in the lead only
            else:  # weekly: once, under "More reasons"; daily: left to the lead's "… and 3 more"
                assert said == (1 if kind == "weekly" else 0), (name, reason)
        assert ("More reasons" in document) == (kind == "weekly"), name


def test_the_written_status_leads_asana_slack_teams_email_and_the_html_report() -> None:
    daily = report("daily", projects=1)
    project = daily.projects[0]
    written = project.written
    assert written is not None
    out = build_outgoing(daily, images={})
    line = out.projects[0]
    assert line.status_text == written.text  # the Asana status update's `text`
    headline = next(w for w in written.lines if w.kind == "headline").plain
    assert headline.startswith(project.name.split(" ")[0]) and ">95 %" in headline  # never 100 %
    assert "<5 %" in written.text  # the milestone at 1 %: never 0 %
    slack = slack_message(out)["blocks"][3]["text"]["text"].split("\n")
    assert slack[1].startswith("_") and "What changed" in slack[3]  # note, headline, then the sections
    teams = teams_message(out)["attachments"][0]["content"]["body"][2]["items"][1]["text"]
    assert teams.startswith("_") and "**What changed**" in teams
    for page in (out.html, out.html_inline):
        assert page.index("Finish forecast (p85)") < page.index("What changed since")
    assert out.summary_text.index(written.text.rstrip("\n")) > 0  # the email's text part leads with it too
    asana = line.asana_html
    assert asana.index("<h2>Note</h2>") < asana.index("<h2>What changed</h2>") < asana.index("<h2>What changed since")
    assert re.search(r'<a href="https://app.asana.com/0/\d+/\d+">“', asana)


def test_the_asana_status_update_text_is_the_written_status() -> None:
    from tpmsync.deliver.asana_status import AsanaStatusChannel
    from tpmsync.deliver.base import ChannelTable, Runtime

    daily = report("daily", projects=1)
    out = build_outgoing(daily, images={})
    settings = Settings()
    table = ChannelTable("asana", {"type": "asana_status"}, "(test)", {})
    channel = AsanaStatusChannel("asana", table, Runtime(settings, env={}))
    (prepared,) = channel.prepare(out)
    assert prepared.payload["text"] == daily.projects[0].written.text  # type: ignore[union-attr]
    assert prepared.payload["html_text"].startswith("<body>")


def test_notes_come_from_the_command_line_then_the_project_note_file(tmp_path: Path) -> None:
    config = tmp_path / "tpmsync.toml"
    config.write_text("", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "1200000000000001.md").write_text("Vendor signs on Friday.\n", encoding="utf-8")
    settings = Settings(source=str(config))
    notes = notes_for(settings, ["1200000000000001", "1200000000000002"], "Demo moved to Tuesday")
    assert notes == {"1200000000000001": "Demo moved to Tuesday\nVendor signs on Friday.",
                     "1200000000000002": "Demo moved to Tuesday"}
    assert notes_for(settings, ["1200000000000002"]) == {}
    assert notes_for(Settings(), ["1200000000000001"]) == {}  # no config file: no note folder
    assert notes_for(settings, ["../etc"], None) == {}  # a gid is never a path


def test_previous_report_day_is_the_last_sent_report_of_the_same_kind(sqlite_store: Any) -> None:
    from tpmsync.deliver.ledger import LedgerKey, claim, mark_sent
    from tpmsync.reporting import previous_report_day

    def sent(kind: str, period: str) -> None:
        key = LedgerKey(kind, period, "portfolio", "file")
        mark_sent(sqlite_store, claim(sqlite_store, key), "ok")

    with sqlite_store.read() as session:
        assert previous_report_day(session, "daily", date(2026, 11, 25)) == date(2026, 11, 24)
        assert previous_report_day(session, "weekly", date(2026, 11, 25)) == date(2026, 11, 18)
    sent("daily", "2026-11-20")
    sent("daily", "2026-11-25")  # this period itself does not count
    sent("weekly", "2026-W46")
    with sqlite_store.read() as session:
        assert previous_report_day(session, "daily", date(2026, 11, 25)) == date(2026, 11, 20)
        assert previous_report_day(session, "weekly", date(2026, 11, 25)) == date(2026, 11, 11)
