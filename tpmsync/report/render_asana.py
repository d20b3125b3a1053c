"""A project's part of the report in Asana's rich text, for a project status update (`html_text`).

Asana accepts a strict XML subset: a `<body>` root and only `strong`, `em`, `u`, `s`, `code`,
`a href`, `ul`, `ol`, `li`, `h1`, `h2` and `hr` (empty: `<hr/>`); headers hold only inline tags
and no line break. Newlines are significant in Asana rich text, so none are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from tpmsync import words
from tpmsync.report import wording as w
from tpmsync.report.model import ProjectReport, Report
from tpmsync.report.model_tasks import SlipList, TaskList, TaskRef
from tpmsync.report.model_written import Written, WrittenLine

ALLOWED_TAGS = frozenset({"body", "strong", "em", "u", "s", "code", "a", "ul", "ol", "li", "h1", "h2", "hr"})
DAILY_ITEMS = 5
WEEKLY_ITEMS = 10


def _text(value: str) -> str:
    """Text for Asana's XML: no control characters (CR, LF: newlines are significant), escaped."""
    return escape(words.clean(value, len(value) + 1))


def _link(name: str, url: str | None) -> str:
    target = words.safe_url(url)
    return f"<a href={quoteattr(target)}>{_text(name)}</a>" if target else _text(name)


def _task(ref: TaskRef, year: int, *, completed: bool = False) -> str:
    detail = w.task_detail(ref, year, completed=completed)
    return _link(ref.name, ref.url) + (f" {_text(detail)}" if detail else "")


def _items(items: Iterable[str], more: int = 0) -> str:
    body = "".join(f"<li>{item}</li>" for item in items)
    if more:
        body += f"<li><em>… and {more:,} more</em></li>"
    return f"<ul>{body}</ul>"


def _tasks(label: str, tasks: TaskList, year: int, limit: int, *, completed: bool = False) -> str:
    if not tasks.total:
        return ""
    shown = tasks.items[:limit]
    lines = (_task(t, year, completed=completed) for t in shown)
    return f"<strong>{_text(label)} ({tasks.total:,})</strong>{_items(lines, tasks.total - len(shown))}"


def _slips(slips: SlipList, year: int, limit: int) -> str:
    if not slips.total:
        return ""
    shown = slips.items[:limit]
    lines = (f"{_task(s.task, year)} <strong>{_text(w.slip_detail(s, year))}</strong>" for s in shown)
    return f"<strong>Slipped ({slips.total:,})</strong>{_items(lines, slips.total - len(shown))}"


def _written(written: Written) -> str:
    """The written status in Asana's subset (no paragraphs, no line breaks): the note as a list
    under "Note", the headline in bold, each section a header and a list; tasks link to Asana."""
    parts: list[str] = []
    items: list[str] = []

    def pieces(line: WrittenLine) -> str:
        return "".join(_link(p.text, p.url) if p.url else _text(p.text) for p in line.pieces)

    def flush() -> None:
        if items:
            parts.append(_items(items))
            items.clear()

    notes = [pieces(line) for line in written.lines if line.kind == "note"]
    if notes:
        parts.append(f"<h2>Note</h2>{_items(f'<em>{note}</em>' for note in notes)}")
    for line in written.lines:
        if line.kind == "item":
            items.append(pieces(line))
            continue
        flush()
        if line.kind == "title":
            parts.append(f"<h2>{pieces(line)}</h2>")
        elif line.kind == "headline":
            parts.append(f"<strong>{pieces(line)}</strong>")
    flush()
    return "".join(parts)


def render_asana(report: Report, project: ProjectReport) -> str:
    """`<body>…</body>` for one project: verdict, reasons, what changed; weekly adds the rest."""
    year = report.as_of.year
    daily = report.kind == "daily"
    limit = DAILY_ITEMS if daily else WEEKLY_ITEMS
    p = project if w.clean_report(report) is report else w.clean_project(project)
    title = f"{w.verdict(p.health)} — {report.title}"
    if was := w.verdict_change(p.changes, p.health):
        title += f" ({was})"
    parts = [f"<h2>{_text(title)}</h2>"]
    if p.written is not None:  # the written status leads; the numbers and lists follow
        parts += [_written(p.written), "<hr/>"]
    parts.append(f"<strong>{_text(w.headline(p.headline, p.forecast, year))}</strong>")
    parts.append(f"<em>{_text(report.freshness())}</em>")
    reasons = w.reasons_for(p, report.kind)
    if reasons:
        title = _text(w.reasons_title(p))
        parts.append(f"<h2>{title}</h2>{_items((_text(r) for r in reasons), w.reasons_left(p, report.kind))}")
    c = p.changes
    parts.append(f"<h2>{_text('What changed ' + w.since_text(c, year))}</h2>")
    if c.count:
        parts += [
            _tasks("Completed", c.completed, year, limit, completed=True),
            _tasks("Milestones reached", c.milestones_reached, year, limit, completed=True),
            _tasks("Newly overdue", c.newly_overdue, year, limit),
            _slips(c.slipped, year, limit),
            _tasks("Newly blocked", c.newly_blocked, year, limit),
        ]
    else:
        parts.append(_items(["No changes."]))
    if not daily:
        up = p.upcoming
        parts.append(f"<h2>Next {up.days} days</h2>")
        if up.total:
            parts += [
                _tasks("Milestones", up.milestones, year, limit),
                _tasks("Other tasks due", up.due, year, limit),
            ]
        else:
            parts.append(_items(["Nothing due."]))
        facts = [
            f"<strong>Forecast:</strong> {_text(w.forecast_text(p.forecast, year))}",
            f"<strong>Budget:</strong> {_text(w.budget_text(p.budget))}",
        ]
        cp = p.critical_path
        if cp.tasks.total:
            path = " → ".join(_link(t.name, t.url) for t in cp.tasks.items)
            more = f" … (+{cp.tasks.more})" if cp.tasks.more else ""
            facts.append(f"<strong>Critical path ({_text(w.plural(cp.days, 'day'))}):</strong> {path}{more}")
        facts += [f"<strong>Data quality:</strong> {_text(q.text)}" for q in p.data_quality]
        parts.append(f"<h2>Outlook</h2>{_items(facts)}")
    parts.append(f"<h2>How to read this</h2>{_items(_text(line) for line in w.legend_lines())}")
    parts.append("<hr/><em>Posted by tpmsync")
    parts.append(f" · {_text(report.kind)} report {_text(report.period)}</em>")
    return "<body>" + "".join(parts) + "</body>"
