"""The report for a terminal (a rich renderable) and as plain text (email text part, .txt files)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from tpmsync import words
from tpmsync.report import wording as w
from tpmsync.report.model import ProjectReport, Report
from tpmsync.report.model_tasks import SlipList, TaskList, TaskRef
from tpmsync.report.text_layout import Bullets, Indented

DAILY_ITEMS = 5
WEEKLY_ITEMS = 1_000  # the model already keeps at most max_items of each list


def render_rich(report: Report) -> RenderableType:
    """The whole report as one rich renderable (print it with a rich Console)."""
    report = w.clean_report(report)
    year = report.as_of.year
    parts: list[RenderableType] = [
        Text(report.title, style="bold"),
        _portfolio_line(report),
        Text(f"{w.period_label(report)}: {w.period_summary(report)}"),
        Text(""),
        _table(report),
    ]
    if report.kind == "weekly" and any(c.health for p in report.projects for c in p.trend[:-1]):
        parts += [Text(""), _trend_table(report)]
    overloaded = w.overloaded(report)
    if overloaded:
        parts += [Text(""), Text(f"Overloaded people ({len(overloaded):,}):", style="bold")]
        parts.append(_bullets(Text(w.person_text(person)) for person in overloaded))
    for project in report.projects:
        if report.kind == "daily" and project.health == "green" and not project.changes.count:
            continue
        parts += [Text(""), _project(report, project, year)]
    parts += [Text(""), Text(report.freshness())]
    parts += [Text(""), Text("How to read this:", style="bold"), _bullets(Text(line) for line in w.legend_lines())]
    parts += [Text(""), Text(f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · scope {report.scope}", style="dim")]
    return Group(*parts)


def render_text(report: Report, width: int = 100) -> str:
    """Plain text without colour codes, `width` columns wide: what `Console.print` would write to a
    file, taken from the rendered segments (only a line wider than `width` is cropped, where
    printing measures every segment to crop them all)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, legacy_windows=False)
    lines = []
    for line in Segment.split_lines(console.render(render_rich(report), console.options)):
        text = "".join(segment.text for segment in line if not segment.control)
        if cell_len(text) > width:
            text = "".join(segment.text for segment in Segment.adjust_line_length(line, width) if not segment.control)
        lines.append(text)
    return "\n".join(line.rstrip() for line in "\n".join(lines).splitlines()) + "\n"


def _link(url: str | None) -> str:
    """A rich style linking to `url` (http(s) only, nothing that could end the style early)."""
    target = words.safe_url(url)
    return f"link {target}" if target else ""


def _verdict(health: str | None) -> Text:
    if health is None:
        return Text(w.DASH, style="dim")
    return Text(w.verdict(health), style=f"bold {w.RICH_COLOURS.get(health, '')}")


def _symbol(health: str | None) -> Text:
    if health is None:
        return Text("·", style="dim")
    return Text(w.SYMBOLS.get(health, "?"), style=w.RICH_COLOURS.get(health, ""))


def _portfolio_line(report: Report) -> Text:
    line = Text("Portfolio ")
    line.append_text(_verdict(report.health))
    line.append(f" · {w.portfolio_line(report)}")
    return line


def _table(report: Report) -> Table:
    year = report.as_of.year
    table = Table(box=box.SIMPLE, pad_edge=False, show_edge=False)
    table.add_column("Project", min_width=16, max_width=28)
    table.add_column("Verdict", no_wrap=True)
    for name in ("Open", "Overdue", "Blocked", "p85", w.CHANCE):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("Changed", min_width=20, ratio=1)
    for p in report.projects:
        verdict = _verdict(p.health)
        if was := w.verdict_change(p.changes, p.health):
            verdict.append(f" ({was})", style="dim")
        table.add_row(
            Text(p.name, style=_link(p.url)),
            verdict,
            f"{p.headline.open:,}",
            f"{p.headline.overdue:,}",
            f"{p.headline.blocked:,}",
            w.day(p.forecast.p85, year),
            w.chance(p.forecast.probability_on_time) if p.forecast.due_on else w.DASH,
            w.changes_summary(p.changes),
        )
    return table


def _trend_table(report: Report) -> Table:
    table = Table(title="Verdict by week", title_justify="left", box=box.SIMPLE, pad_edge=False, show_edge=False)
    table.add_column("Project")
    for period in report.trend_periods:
        table.add_column(period.split("-", 1)[1], justify="center")
    rows: Iterable[tuple[str, Iterable[str | None]]] = [
        ("Portfolio", (c.health for c in report.portfolio.trend)),
        *((p.name, (c.health for c in p.trend)) for p in report.projects),
    ]
    for name, healths in rows:
        table.add_row(Text(name), *(_symbol(h) for h in healths))
    return table


def _task(task: TaskRef, year: int, *, completed: bool = False) -> Text:
    text = Text(task.name, style=_link(task.url))
    detail = w.task_detail(task, year, completed=completed)
    if detail:
        text.append(f" {detail}", style="dim")
    return text


def _bullets(lines: Iterable[Text], more: int = 0) -> Bullets:
    """Bulleted lines with a hanging indent, and "… and N more"."""
    rows = list(lines)
    if more:
        rows.append(Text(f"… and {more:,} more", style="dim"))
    return Bullets(rows, more=bool(more))


def _tasks(label: str, tasks: TaskList, year: int, limit: int, *, completed: bool = False) -> list[RenderableType]:
    if not tasks.total:
        return []
    shown = tasks.items[:limit]
    lines = [_task(task, year, completed=completed) for task in shown]
    return [Text(f"{label} ({tasks.total:,}):", style="bold"), _bullets(lines, tasks.total - len(shown))]


def _slips(slips: SlipList, year: int, limit: int) -> list[RenderableType]:
    if not slips.total:
        return []
    shown = slips.items[:limit]
    lines = []
    for slip in shown:
        line = _task(slip.task, year)
        line.append(f" {w.slip_detail(slip, year)}")
        lines.append(line)
    return [Text(f"Slipped ({slips.total:,}):", style="bold"), _bullets(lines, slips.total - len(shown))]


def _project(report: Report, p: ProjectReport, year: int) -> RenderableType:
    daily = report.kind == "daily"
    limit = DAILY_ITEMS if daily else WEEKLY_ITEMS
    title = _verdict(p.health)
    title.append("  ")
    title.append(p.name, style=f"bold {_link(p.url)}".strip())
    if was := w.verdict_change(p.changes, p.health):
        title.append(f"  ({was})", style="dim")
    body: list[RenderableType] = []
    if p.written is not None:  # the lead (already sanitised; links shown as <url>); the details never repeat it
        body += [Text(p.written.text.rstrip("\n")), Text("")]
    body.append(Text(w.headline(p.headline, p.forecast, year)))
    reasons = w.reasons_for(p, report.kind)
    if reasons:
        body.append(Text(f"{w.reasons_title(p)}:", style="bold"))
        body.append(_bullets((Text(reason) for reason in reasons), w.reasons_left(p, report.kind)))
    changes = p.changes
    body.append(Text(f"What changed {w.since_text(changes, year)}: {w.changes_summary(changes)}", style="bold"))
    body += _tasks("Completed", changes.completed, year, limit, completed=True)
    body += _tasks("Milestones reached", changes.milestones_reached, year, limit, completed=True)
    body += _tasks("Newly overdue", changes.newly_overdue, year, limit)
    body += _slips(changes.slipped, year, limit)
    body += _tasks("Newly blocked", changes.newly_blocked, year, limit)
    if (moved := w.moved_in_details(p)) is not None:
        body.append(Text(w.moved_text(moved, year) + "."))
    if p.flow is not None and p.flow.aging:
        aging = p.flow.aging
        shown = aging[:limit]
        body.append(Text(f"Aging work ({len(aging):,}):", style="bold"))
        body.append(_bullets((Text(w.aging_text(item, p.flow)) for item in shown), len(aging) - len(shown)))
    if not daily:
        up = p.upcoming
        if up.total:
            body += _tasks(f"Milestones in the next {up.days} days", up.milestones, year, limit)
            body += _tasks(f"Other tasks due in the next {up.days} days", up.due, year, limit)
        else:
            body.append(Text(f"Nothing due in the next {up.days} days.", style="bold"))
        cp = p.critical_path
        if cp.tasks.total:
            path = " → ".join(t.name for t in cp.tasks.items)
            more = f" … (+{cp.tasks.more})" if cp.tasks.more else ""
            body.append(Text(f"Critical path ({w.plural(cp.days, 'day')}): {path}{more}"))
        body.append(Text(f"Forecast: {w.forecast_text(p.forecast, year)}"))
        body.append(Text(f"Budget: {w.budget_text(p.budget)}"))
        if p.budget is not None:
            body.append(Text(f"  {w.budget_coverage(p.budget)}", style="dim"))
        if p.asana_budget is not None:
            a = p.asana_budget
            unit = a.unit or ""
            body.append(Text(f"Asana budget: {a.actual} of {a.total} {unit} used ({w.percent(a.used_share)})"))
        if p.data_quality:
            body.append(Text("Data quality:", style="bold"))
            body.append(_bullets(Text(q.text) for q in p.data_quality))
        trend = Text("Trend: ")
        for cell in p.trend:
            trend.append_text(_symbol(cell.health))
            trend.append(" ")
        body.append(trend)
    if p.url:
        body.append(Text(p.url, style=f"dim {_link(p.url)}".strip()))
    return Group(title, Indented(body, 2))
