"""Rendering of the status document: a rich table sized to the terminal, Markdown for pasting, and
the detail view.

Names are untrusted: every one goes through `words.clean` and reaches rich as a `Text` (never read
as markup) and Markdown escaped. The table chooses its columns by priority for the width it is
given: every project is one line (the name cut with … when needed), the verdict and the top reason
are always shown, and from about 120 columns every column is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tpmsync import words

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

MIN_NAME, MAX_NAME = 18, 40
MIN_REASON = 24  # "12 red, 30 amber, 8 green" fits


def _date(value: str | None, year: int) -> str:
    """ "Jan 26" (with the year when it is not `year`); a dash for none."""
    if not value:
        return words.DASH
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return words.clean(value, 12)
    text = f"{day:%b} {day.day}"
    return text if day.year == year else f"{text} {day.year}"


def _forecast(project: dict[str, Any]) -> dict[str, Any]:
    return project["deadline"].get("forecast") or {}


def top_reason(project: dict[str, Any], limit: int = 64) -> str:
    return words.first_clause(words.clean(project["reasons"][0], words.REASON_LIMIT), limit) if project[
        "reasons"] else ""


class Column:
    """A number column: its header and how a project's cell reads (the project, the as-of year)."""

    __slots__ = ("cell", "header")

    def __init__(self, header: str, cell: Callable[[dict[str, Any], int], str]) -> None:
        self.header = header
        self.cell = cell


COLUMNS: dict[str, Column] = {
    "Open": Column("Open", lambda p, y: f"{p['tasks']['open']:,}"),
    "Overdue": Column("Overdue", lambda p, y: f"{p['deadline']['overdue']:,}"),
    "Blocked": Column("Blocked", lambda p, y: f"{p['dependencies']['blocked']:,}"),
    "p85": Column(words.P85, lambda p, y: _date(_forecast(p).get("p85"), y)),
    "Chance": Column(words.CHANCE, lambda p, y: words.chance(_forecast(p).get("probability_on_time"))
                     if _forecast(p).get("due_on") else words.DASH),
    "SPI": Column("SPI", lambda p, y: words.ratio((p.get("budget") or {}).get("spi"))),
    "CPI": Column("CPI", lambda p, y: words.ratio((p.get("budget") or {}).get("cpi"))),
    "Done": Column(words.DONE_ON_TIME, lambda p, y: words.percent(p["deadline"]["on_time_rate"])),
    "Soon": Column("Due soon", lambda p, y: f"{p['deadline']['due_soon']:,}"),
}
PRIORITY = ("Overdue", "Open", "Blocked", "p85", "Chance", "SPI", "CPI", "Done", "Soon")
ORDER = ("Open", "Overdue", "Soon", "Blocked", "Done", "SPI", "CPI", "p85", "Chance")


def _header_width(header: str) -> int:
    """Long headers go on two lines ("Chance / by due"): the wider of the two."""
    return max(len(part) for part in _header(header).split("\n"))


def _header(header: str) -> str:
    """A header over seven characters on two lines, split at the space nearest its middle."""
    spaces = [i for i, c in enumerate(header) if c == " "]
    if len(header) <= 8 or not spaces:
        return header
    cut = min(spaces, key=lambda i: abs(i - len(header) / 2))
    return f"{header[:cut]}\n{header[cut + 1:]}"


def choose_columns(document: dict[str, Any], width: int) -> tuple[list[str], dict[str, int], int, int]:
    """The number columns that fit in `width` (by priority), their widths, and the widths left for
    the project name and the top reason."""
    year = date.fromisoformat(document["as_of"]).year
    projects = document["projects"]
    natural = {
        key: max([_header_width(col.header), *(len(col.cell(p, year)) for p in projects)])
        for key, col in COLUMNS.items()
    }
    natural["Open"] = max(natural["Open"], len(f"{document['portfolio']['open']:,}"))
    health = max(len("Health"), len("■ amber"))
    names = max([len("Project"), len(f"Portfolio ({document['portfolio']['projects']})"),
                 *(len(words.clean(p["name"])) for p in projects)])
    reasons = max([len("Top reason"), *(len(top_reason(p)) for p in projects)])

    def used(keys: list[str]) -> int:  # the columns plus one space between each two
        return health + sum(natural[k] for k in keys) + len(keys) + 2

    chosen: list[str] = []
    for key in PRIORITY:
        if used([*chosen, key]) + min(names, MIN_NAME) + min(reasons, MIN_REASON) <= width:
            chosen.append(key)
    room = width - used(chosen)
    # the name first (it says which project), up to its own width; the reason takes the rest
    name_width = max(1, min(names, MAX_NAME, max(MIN_NAME, room - min(reasons, MIN_REASON))))
    reason_width = max(1, room - name_width)
    ordered = [k for k in ORDER if k in chosen]
    return ordered, natural, name_width, reason_width


def table_for_width(document: dict[str, Any], width: int) -> Table:
    """The status table in at most `width` columns: one line per project."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    year = date.fromisoformat(document["as_of"]).year
    keys, natural, name_width, reason_width = choose_columns(document, width)
    hidden = [COLUMNS[k].header for k in PRIORITY if k not in keys]
    caption = None
    if hidden:
        caption = f"Not shown at {width} columns: {', '.join(hidden)} (widen the terminal or use --detail)"
    table = Table(
        title=f"Status as of {words.clean(document['as_of'], 20)}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
        collapse_padding=True,
    )
    table.add_column("Project", width=name_width, no_wrap=True, overflow="ellipsis")
    table.add_column("Health", no_wrap=True)
    for key in keys:
        table.add_column(_header(COLUMNS[key].header), justify="right", no_wrap=True, min_width=natural[key])
    table.add_column("Top reason", width=reason_width, no_wrap=True, overflow="ellipsis")

    def verdict(health: str) -> Text:
        return Text(f"{words.SYMBOLS.get(health, '?')} {health}", style=f"bold {words.RICH_COLOURS.get(health, '')}")

    for project in document["projects"]:
        cells = [COLUMNS[k].cell(project, year) for k in keys]
        table.add_row(
            Text(words.shorten(words.clean(project["name"]), name_width)),
            verdict(project["health"]),
            *(Text(c) for c in cells),
            Text(words.shorten(top_reason(project), reason_width)),
        )
    portfolio = document["portfolio"]
    table.add_section()
    totals = {"Open": portfolio["open"], "Overdue": portfolio["overdue"], "Blocked": portfolio["blocked"]}
    counts = f"{len(portfolio['red'])} red, {len(portfolio['amber'])} amber, {len(portfolio['green'])} green"
    table.add_row(
        Text(words.shorten(f"Portfolio ({portfolio['projects']})", name_width)),
        verdict(portfolio["health"]),
        *(Text(f"{totals[k]:,}" if k in totals else "") for k in keys),
        Text(words.shorten(counts, reason_width)),
    )
    return table


def render_freshness(document: dict[str, Any], now: datetime | None = None) -> str:
    """One line: when the last sync finished ("synced 2 h ago"), and a warning when that is stale."""
    synced = document.get("synced_at")
    if synced is None:
        return "No sync has finished yet: run `tpmsync sync`."
    from tpmsync.words import ago

    moment = datetime.fromisoformat(synced)
    line = f"synced {ago((now or datetime.now(UTC)) - moment)} ago ({moment:%Y-%m-%d %H:%M} UTC)"
    return f"Stale data: {line}." if document.get("stale") else f"Data {line}."


class StatusTable:
    """A renderable that lays the status table out for the console's width when printed."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield table_for_width(self.document, options.max_width)


def render_table(document: dict[str, Any]) -> StatusTable:
    """The status table; print it with a rich Console and it fits that console's width."""
    return StatusTable(document)


MARKDOWN_COLUMNS = ("Open", "Overdue", "Soon", "Blocked", "Done", "SPI", "CPI", "p85", "Chance")


def render_markdown(document: dict[str, Any]) -> str:
    """A GitHub-flavoured Markdown table; every name and reason escaped and on one line."""
    year = date.fromisoformat(document["as_of"]).year
    headers = ["Project", "Health", *(COLUMNS[k].header for k in MARKDOWN_COLUMNS), "Top reason"]
    lines = [
        f"**Status as of {words.markdown_escape(words.clean(document['as_of'], 20))}**",
        "",
        "| " + " | ".join(headers) + " |",
        "|---|---|" + "--:|" * len(MARKDOWN_COLUMNS) + "---|",
    ]
    for project in document["projects"]:
        name = words.markdown_escape(words.clean(project["name"]))
        health = f"{words.SYMBOLS.get(project['health'], '?')} {words.markdown_escape(project['health'])}"
        cells = [words.markdown_escape(COLUMNS[k].cell(project, year)) for k in MARKDOWN_COLUMNS]
        reason = words.markdown_escape(top_reason(project, 120))
        lines.append("| " + " | ".join([name, health, *cells, reason]) + " |")
    portfolio = document["portfolio"]
    totals = {"Open": portfolio["open"], "Overdue": portfolio["overdue"], "Blocked": portfolio["blocked"]}
    cells = [f"{totals[k]:,}" if k in totals else "" for k in MARKDOWN_COLUMNS]
    counts = f"{len(portfolio['red'])} red, {len(portfolio['amber'])} amber, {len(portfolio['green'])} green"
    lines.append(
        f"| **Portfolio** ({portfolio['projects']} projects) | {words.SYMBOLS.get(portfolio['health'], '?')} "
        f"{portfolio['health']} | " + " | ".join(cells) + f" | {counts} |"
    )
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, indent: str, hanging: str) -> Iterator[str]:
    import textwrap

    yield from textwrap.wrap(text, width=max(20, width), initial_indent=indent, subsequent_indent=hanging,
                             break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def _task_line(task: dict[str, Any], width: int, extra: str = "") -> Iterator[str]:
    due = f" (due {words.clean(task['due'], 20)})" if task.get("due") else ""
    yield from _wrap(f"{words.clean(task['name'])}{due}{extra}", width, "  - ", "    ")
    if task.get("url"):
        yield f"    {words.clean(task['url'], 300)}"


def render_detail(project: dict[str, Any], width: int | None = None) -> str:
    """Plain text in `width` columns (the terminal's by default): verdict and reasons, then the
    overdue, blocked and critical-path tasks with links on their own lines."""
    if width is None:
        import shutil

        width = shutil.get_terminal_size((100, 24)).columns
    deadline, deps = project["deadline"], project["dependencies"]
    out = list(_wrap(f"{words.clean(project['name'])} — {project['health'].upper()}", width, "", "  "))
    for reason in project["reasons"]:
        out += _wrap(words.clean(reason, words.REASON_LIMIT), width, "  • ", "    ")
    out.append(f"Overdue ({deadline['overdue']}):")
    for task in deadline.get("overdue_tasks", []):
        out += _task_line(task, width)
    out.append(f"Blocked ({deps['blocked']}):")
    for blocked in deps.get("blocked_tasks", []):
        waits = ", ".join(words.clean(d["name"], 80) for d in blocked.get("open_dependencies", []))
        out += _task_line(blocked, width, f" — waits for {waits}" if waits else "")
    out.append(f"Critical path ({deps['critical_path_days']} days):")
    for task in deps.get("critical_path_tasks", []):
        slack = f" — float {task['total_float']} d" if task.get("total_float") is not None else ""
        out += _task_line(task, width, slack)
    out += _flow_lines(project.get("flow"), width)
    out += _forecast_lines(_forecast(project), width)
    return "\n".join(out) + "\n"


def _flow_lines(flow: dict[str, Any] | None, width: int) -> Iterator[str]:
    """Work in progress, each open task with its section and its age there, oldest first."""
    if not flow:
        return
    p85 = flow["cycle_time"]["p85"]
    within = f"; 85 % of tasks finish within {words.plural(p85, 'day')}" if p85 is not None else ""
    aging = flow["aging"]
    aging_text = f", {aging:,} aging" if aging is not None else ""
    yield f"In progress ({flow['wip']:,}{aging_text}{within}):"
    aging_gids = {item["gid"] for item in flow.get("aging_tasks", [])}
    for item in flow.get("wip_tasks", []):
        mark = " — aging" if item["gid"] in aging_gids else ""
        text = (f"{words.clean(item['name'])} — in '{words.clean(item['section'], 60)}' for "
                f"{words.plural(item['age_days'], 'day')}{mark}")
        yield from _wrap(text, width, "  - ", "    ")


def _forecast_lines(forecast: dict[str, Any], width: int) -> Iterator[str]:
    """How many by a date, why the p85 moved, the calibration, the milestones and what to unblock first."""
    if "how_many" not in forecast:
        return
    as_of = (forecast.get("throughput_window") or {}).get("end")
    year = date.fromisoformat(as_of).year if as_of else 0  # dates then show their year
    how_many = forecast["how_many"]
    if how_many is not None:
        by = _date(how_many["by"], year)
        if how_many["p85"] is None:
            yield f"By {by}: no count ({words.clean(how_many.get('reason') or '', 120)})"
        else:
            yield (f"By {by}: at least {how_many['p85']:,} of {how_many['open']:,} open tasks done (85 %), "
                   f"{how_many['p50']:,} likely (50 %)")
    yield f"Calibration: {words.calibration_line(forecast['calibration'])}"
    if forecast.get("moved"):
        yield from _wrap(words.moved_line(forecast["moved"]), width, "", "  ")
    milestones = forecast.get("milestones") or []
    if milestones:
        yield f"Milestones ({len(milestones)}):"
    for milestone in milestones:
        due = f" (due {_date(milestone['due'], year)})" if milestone.get("due") else ""
        if milestone["p85"] is None:
            text = f"{words.clean(milestone['name'])}{due}: no forecast — {words.clean(milestone['reason'] or '', 160)}"
        else:
            chance = ""
            if milestone.get("probability_on_time") is not None:
                chance = f", {words.likelihood(milestone['probability_on_time'])} likely on time"
            text = (f"{words.clean(milestone['name'])}{due}: p50 {_date(milestone['p50'], year)}, "
                    f"p85 {_date(milestone['p85'], year)}{chance}")
        yield from _wrap(text, width, "  - ", "    ")
    unblock = forecast.get("unblock_first") or []
    if unblock:
        yield "Unblock first:"
    for item in unblock:
        owner = (item.get("assignee") or {}).get("name")
        details = ", ".join(x for x in (words.clean(owner, 60) if owner else "",
                                        f"due {_date(item['due'], year)}" if item.get("due") else "") if x)
        text = (f"{words.clean(item['name'])}{f' ({details})' if details else ''} decides "
                f"{words.clean(item['milestone']['name'])} in {words.likelihood(item['share'])} of trials")
        waits = ", ".join(words.clean(b["name"], 60) for b in item.get("blocked_by", []))
        yield from _wrap(text + (f"; waits for {waits}" if waits else ""), width, "  - ", "    ")


# -- `tpmsync people` -----------------------------------------------------------------------------

PEOPLE_COLUMNS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("Open", lambda p: f"{p['open']:,}"),
    ("Overdue", lambda p: f"{p['overdue']:,}"),
    ("Due soon", lambda p: f"{p['due_in_horizon']:,}"),
    ("Hours", lambda p: f"{p['load_hours']:,.0f}/{p['capacity_hours']:,.0f}"),
    ("Load", lambda p: words.load_percent(p["load_ratio"]) + (f" {words.SYMBOLS['red']}" if p["overloaded"] else "")),
    ("Critical", lambda p: f"{p['critical_tasks']:,}"),
)


def render_people(people: list[dict[str, Any]], as_of: str) -> Table:
    """People by load, one line each, readable in 80 columns: names cleaned and passed as `Text`
    (never read as markup) and cut with … when long; the overloaded marked with ■."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    caption = (
        "Hours: estimated hours of open work overdue or due in the horizon / capacity. "
        f"Load: their ratio, {words.SYMBOLS['red']} overloaded. Critical: tasks on a critical path."
    )
    table = Table(
        title=f"Workload as of {words.clean(as_of, 20)}",
        title_justify="left",
        caption=caption if people else "No open assigned tasks.",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Person", min_width=12, max_width=24, no_wrap=True, overflow="ellipsis")
    for header, _cell in PEOPLE_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for person in people:
        style = f"bold {words.RICH_COLOURS['red']}" if person["overloaded"] else ""
        cells = [Text(cell(person)) for _header, cell in PEOPLE_COLUMNS]
        cells[4].stylize(style)
        table.add_row(Text(words.clean(person["name"], 60)), *cells)
    return table
