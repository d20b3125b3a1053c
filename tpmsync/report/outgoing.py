"""Render one report for every audience at once: the `Outgoing` a delivery channel receives."""

from __future__ import annotations

from collections.abc import Mapping

from tpmsync.deliver.outgoing import Outgoing, ProjectLine, Renderings, StatusLine, full_report_name
from tpmsync.report import wording as w
from tpmsync.report.model import ProjectReport, Report
from tpmsync.report.render_asana import render_asana
from tpmsync.report.render_html import render_email_html, render_html
from tpmsync.report.render_markdown import render_markdown
from tpmsync.report.render_summary import render_summary_text
from tpmsync.report.render_text import render_text


def build_outgoing(report: Report, *, images: Mapping[str, bytes] | None = None) -> Outgoing:
    """Every rendering of `report`; `images` are its charts (drawn here when not given; a chart
    that cannot be drawn is left out and logged)."""
    report = w.clean_report(report)
    if images is None:
        from tpmsync.report.charts import render_charts

        images = render_charts(report)
    charts = dict(images)
    year = report.as_of.year
    lines = tuple(
        ProjectLine(
            gid=p.gid,
            name=p.name,
            health=p.health,
            reasons=p.reasons,
            url=p.url,
            headline=w.headline(p.headline, p.forecast, year),
            asana_html=render_asana(report, p),
            status=status_lines(p),
            status_text=p.written.text if p.written is not None else "",
        )
        for p in report.projects
    )
    attachment = full_report_name(report.kind, report.period)
    email = render_email_html(report, charts, attachment=attachment)
    return Outgoing(
        kind=report.kind,
        period=report.period,
        scope=report.scope,
        subject=w.subject(report),
        health=report.health,
        projects=lines,
        summary_text=render_summary_text(report, attachment=attachment),
        html=email,
        data=report.to_json(),
        renderings=Renderings(
            lambda: render_text(report),
            lambda: render_markdown(report),
            lambda: render_html(report, charts, mode="data"),
        ),
        images={name: png for name, png in charts.items() if f"cid:{name}" in email},
    )



def status_lines(project: ProjectReport) -> tuple[StatusLine, ...]:
    """The project's written status as the channels receive it."""
    if project.written is None:
        return ()
    return tuple(
        StatusLine(line.kind, tuple((piece.text, piece.url) for piece in line.pieces)) for line in project.written.lines
    )
