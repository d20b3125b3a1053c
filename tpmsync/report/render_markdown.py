"""The report as Markdown (file .md, wikis, chat tools that render it). Task names link to Asana."""

from __future__ import annotations

from tpmsync import words
from tpmsync.report import wording as w
from tpmsync.report.model import ProjectReport, Report
from tpmsync.report.model_tasks import SlipList, TaskList, TaskRef
from tpmsync.report.model_written import Written

DAILY_ITEMS = 5
WEEKLY_ITEMS = 1_000  # the model already keeps at most max_items of each list


def escape(text: str) -> str:
    """Backslash-escape what Markdown would otherwise read as markup (text already cleaned)."""
    return words.markdown_escape(text)


def link(name: str, url: str | None) -> str:
    target = words.safe_url(url)
    return f"[{escape(name)}]({target})" if target else escape(name)


def render_markdown(report: Report) -> str:
    report = w.clean_report(report)
    year = report.as_of.year
    out = [
        f"# {escape(report.title)}",
        "",
        f"**Portfolio: {w.verdict(report.health)}** · {escape(w.portfolio_line(report))}  ",
        f"{w.period_label(report)}: {escape(w.period_summary(report))}",
        "",
        f"| Project | Verdict | Open | Overdue | Blocked | p85 | {w.CHANCE} | Changed |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for p in report.projects:
        chance = w.chance(p.forecast.probability_on_time) if p.forecast.due_on else w.DASH
        verdict = w.verdict(p.health)
        if was := w.verdict_change(p.changes, p.health):
            verdict += f" ({was})"
        out.append(
            f"| {link(p.name, p.url)} | {verdict} | {p.headline.open:,} | {p.headline.overdue:,} | "
            f"{p.headline.blocked:,} | {w.day(p.forecast.p85, year)} | {chance} "
            f"| {escape(w.changes_summary(p.changes))} |"
        )
    if report.kind == "weekly" and any(c.health for p in report.projects for c in p.trend[:-1]):
        out += ["", "## Verdict by week", ""]
        weeks = [period.split("-", 1)[1] for period in report.trend_periods]
        out.append("| Project | " + " | ".join(weeks) + " |")
        out.append("|---|" + "|".join(":-:" for _ in weeks) + "|")
        out.append("| Portfolio | " + " | ".join(_symbol(c.health) for c in report.portfolio.trend) + " |")
        for p in report.projects:
            out.append(f"| {escape(p.name)} | " + " | ".join(_symbol(c.health) for c in p.trend) + " |")
    overloaded = w.overloaded(report)
    if overloaded:
        out += ["", f"**Overloaded people** ({len(overloaded):,}):", ""]
        out += [f"- {escape(w.person_text(person))}" for person in overloaded]
    for p in report.projects:
        if report.kind == "daily" and p.health == "green" and not p.changes.count:
            continue
        out += ["", *_project(report, p, year)]
    out += ["", escape(report.freshness()), ""]
    out += ["**How to read this:**", ""] + [f"- {escape(line)}" for line in w.legend_lines()]
    out += ["", f"*Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · scope {escape(report.scope)}*", ""]
    return "\n".join(out)


def _symbol(health: str | None) -> str:
    return w.SYMBOLS.get(health, "?") if health else "·"


def _task(task: TaskRef, year: int, *, completed: bool = False) -> str:
    detail = w.task_detail(task, year, completed=completed)
    return link(task.name, task.url) + (f" {escape(detail)}" if detail else "")


def _tasks(label: str, tasks: TaskList, year: int, limit: int, *, completed: bool = False) -> list[str]:
    if not tasks.total:
        return []
    shown = tasks.items[:limit]
    lines = [f"**{label}** ({tasks.total:,}):", ""]
    lines += [f"- {_task(t, year, completed=completed)}" for t in shown]
    if tasks.total > len(shown):
        lines.append(f"- … and {tasks.total - len(shown):,} more")
    return [*lines, ""]


def _slips(slips: SlipList, year: int, limit: int) -> list[str]:
    if not slips.total:
        return []
    shown = slips.items[:limit]
    lines = [f"**Slipped** ({slips.total:,}):", ""]
    lines += [f"- {_task(s.task, year)} {escape(w.slip_detail(s, year))}" for s in shown]
    if slips.total > len(shown):
        lines.append(f"- … and {slips.total - len(shown):,} more")
    return [*lines, ""]


def _written(written: Written) -> list[str]:
    """The written status: the note quoted, the headline in bold, each section a bold title and
    a list; tasks link to Asana."""
    out: list[str] = []
    for line in written.lines:
        text = "".join(link(piece.text, piece.url) if piece.url else escape(piece.text) for piece in line.pieces)
        if line.kind == "item":
            out.append(f"- {text}")
            continue
        if out and out[-1]:
            out.append("")
        out += [f"> {text}" if line.kind == "note" else f"**{text}**", ""]
    return [*out, ""] if out and out[-1] else out


def _project(report: Report, p: ProjectReport, year: int) -> list[str]:
    daily = report.kind == "daily"
    limit = DAILY_ITEMS if daily else WEEKLY_ITEMS
    heading = f"## {w.verdict(p.health)} {link(p.name, p.url)}"
    if was := w.verdict_change(p.changes, p.health):
        heading += f" ({was})"
    out = [heading, ""]
    if p.written is not None:  # the lead; the details below never repeat it
        out += _written(p.written)
    out += [escape(w.headline(p.headline, p.forecast, year)), ""]
    reasons = w.reasons_for(p, report.kind)
    if reasons:
        out += [f"**{w.reasons_title(p)}:**", ""]
        out += [f"- {escape(r)}" for r in reasons]
        if left := w.reasons_left(p, report.kind):
            out.append(f"- … and {left} more")
        out.append("")
    c = p.changes
    out += [f"**What changed {escape(w.since_text(c, year))}:** {escape(w.changes_summary(c))}", ""]
    out += _tasks("Completed", c.completed, year, limit, completed=True)
    out += _tasks("Milestones reached", c.milestones_reached, year, limit, completed=True)
    out += _tasks("Newly overdue", c.newly_overdue, year, limit)
    out += _slips(c.slipped, year, limit)
    out += _tasks("Newly blocked", c.newly_blocked, year, limit)
    if (moved := w.moved_in_details(p)) is not None:
        out += [escape(w.moved_text(moved, year)) + ".", ""]
    if p.flow is not None and p.flow.aging:
        aging = p.flow.aging
        shown = aging[:limit]
        out += [f"**Aging work** ({len(aging):,}):", ""]
        out += [f"- {escape(w.aging_text(item, p.flow))}" for item in shown]
        if len(aging) > len(shown):
            out.append(f"- … and {len(aging) - len(shown):,} more")
        out.append("")
    if daily:
        return out
    up = p.upcoming
    if up.total:
        out += _tasks(f"Milestones in the next {up.days} days", up.milestones, year, limit)
        out += _tasks(f"Other tasks due in the next {up.days} days", up.due, year, limit)
    else:
        out += [f"**Nothing due in the next {up.days} days.**", ""]
    cp = p.critical_path
    if cp.tasks.total:
        path = " → ".join(link(t.name, t.url) for t in cp.tasks.items)
        more = f" … (+{cp.tasks.more})" if cp.tasks.more else ""
        out += [f"**Critical path** ({w.plural(cp.days, 'day')}): {path}{more}", ""]
    out += [f"**Forecast:** {escape(w.forecast_text(p.forecast, year))}", ""]
    out += [f"**Budget:** {escape(w.budget_text(p.budget))}"]
    if p.budget is not None:
        out[-1] += f" ({escape(w.budget_coverage(p.budget))})"
    out.append("")
    if p.data_quality:
        out += ["**Data quality:**", ""]
        out += [f"- {escape(q.text)}" for q in p.data_quality]
        out.append("")
    weeks = f"{report.trend_periods[0]} → {report.trend_periods[-1]}" if report.trend_periods else ""
    out += [f"**Trend** ({weeks}): " + " ".join(_symbol(c.health) for c in p.trend), ""]
    return out
