"""Rendering of the status document: a rich table, Markdown for pasting, and the detail view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

COLOURS = {"green": "green", "amber": "yellow", "red": "red"}
SYMBOLS = {"green": "●", "amber": "▲", "red": "■"}


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _forecast(project: dict[str, Any]) -> str:
    forecast = project["deadline"].get("forecast")
    if not forecast:
        return "—"
    text = f"{forecast['p85']}"
    if forecast.get("probability_on_time") is not None:
        text += f" ({_percent(forecast['probability_on_time'])} by {forecast['due_on']})"
    return text


def _row(project: dict[str, Any]) -> list[str]:
    budget = project.get("budget") or {}
    deadline, deps = project["deadline"], project["dependencies"]
    return [
        project["name"],
        project["health"],
        str(project["tasks"]["open"]),
        str(deadline["overdue"]),
        str(deadline["due_soon"]),
        str(deps["blocked"]),
        _percent(deadline["on_time_rate"]),
        _ratio(budget.get("spi")),
        _ratio(budget.get("cpi")),
        _forecast(project),
        project["reasons"][0] if project["reasons"] else "",
    ]


HEADERS = [
    "Project",
    "Health",
    "Open",
    "Overdue",
    "Due soon",
    "Blocked",
    "On time",
    "SPI",
    "CPI",
    "Forecast p85",
    "Top reason",
]


def headline(reason: str, limit: int = 64) -> str:
    """The first clause of a reason, for a table cell; `--detail` and JSON keep the whole text."""
    short = reason.split(": ", 1)[0].split("; ", 1)[0]
    if len(short) <= limit:
        return short
    return short[: limit - 1].rsplit(" ", 1)[0] + "…"


TABLE_COLUMNS = ["Project", "Health", "Open", "Overdue", "Blocked", "SPI", "CPI", "p85", "On time?", "Top reason"]


def _table_cells(project: dict[str, Any]) -> list[str]:
    full = dict(zip(HEADERS, _row(project), strict=True))
    forecast = project["deadline"].get("forecast") or {}
    chance = forecast.get("probability_on_time")
    full["p85"] = forecast.get("p85") or "—"
    full["On time?"] = _percent(chance) if chance is not None else "—"
    full["Top reason"] = headline(full["Top reason"])
    return [full[h] for h in TABLE_COLUMNS]


def render_table(document: dict[str, Any]) -> Any:
    """A rich Table: one row per project, then the portfolio. Numbers never wrap; the reason does.

    "On time?" is the forecast's chance of finishing by the project's due date.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Status as of {document['as_of']}", title_justify="left", box=box.SIMPLE_HEAD, expand=True)
    for header in TABLE_COLUMNS:
        if header == "Project":
            table.add_column(header, max_width=26, overflow="fold")
        elif header == "Top reason":
            table.add_column(header, ratio=1, overflow="fold")
        else:
            table.add_column(header, no_wrap=True, justify="left" if header == "Health" else "right")
    for project in document["projects"]:
        cells: list[Any] = _table_cells(project)
        health = project["health"]
        cells[1] = Text(f"{SYMBOLS[health]} {health}", style=f"bold {COLOURS[health]}")
        table.add_row(*cells)
    portfolio = document["portfolio"]
    health = portfolio["health"]
    table.add_section()
    table.add_row(
        f"Portfolio ({portfolio['projects']})",
        Text(f"{SYMBOLS[health]} {health}", style=f"bold {COLOURS[health]}"),
        str(portfolio["open"]),
        str(portfolio["overdue"]),
        str(portfolio["blocked"]),
        "", "", "", "",
        f"{len(portfolio['red'])} red, {len(portfolio['amber'])} amber, {len(portfolio['green'])} green",
    )
    return table


def render_freshness(document: dict[str, Any], now: datetime | None = None) -> str:
    """One line: when the last sync finished ("synced 2 h ago"), and a warning when that is stale."""
    synced = document.get("synced_at")
    if synced is None:
        return "No sync has finished yet: run `tpmsync sync`."
    from tpmsync.status import ago

    moment = datetime.fromisoformat(synced)
    line = f"synced {ago((now or datetime.now(UTC)) - moment)} ago ({moment:%Y-%m-%d %H:%M} UTC)"
    return f"Stale data: {line}." if document.get("stale") else f"Data {line}."


def render_markdown(document: dict[str, Any]) -> str:
    lines = [
        f"**Status as of {document['as_of']}**",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for project in document["projects"]:
        cells = _row(project)
        cells[1] = f"{SYMBOLS[project['health']]} {project['health']}"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    portfolio = document["portfolio"]
    lines.append(
        f"| **Portfolio** ({portfolio['projects']} projects) | {SYMBOLS[portfolio['health']]} {portfolio['health']} "
        f"| {portfolio['open']} | {portfolio['overdue']} |  | {portfolio['blocked']} |  |  |  |  |  |"
    )
    return "\n".join(lines) + "\n"


def _task_line(task: dict[str, Any], extra: str = "") -> str:
    due = f" (due {task['due']})" if task.get("due") else ""
    link = f" {task['url']}" if task.get("url") else ""
    return f"  - {task['name']}{due}{extra}{link}"


def render_detail(project: dict[str, Any]) -> str:
    """Plain text: verdict and reasons, then the overdue, blocked and critical-path tasks with links."""
    deadline, deps = project["deadline"], project["dependencies"]
    out = [f"{project['name']} — {project['health'].upper()}"]
    out += [f"  • {reason}" for reason in project["reasons"]]
    out.append(f"Overdue ({deadline['overdue']}):")
    out += [_task_line(t) for t in deadline.get("overdue_tasks", [])]
    out.append(f"Blocked ({deps['blocked']}):")
    for blocked in deps.get("blocked_tasks", []):
        waits = ", ".join(d["name"] for d in blocked.get("open_dependencies", []))
        out.append(_task_line(blocked, f" — waits for {waits}" if waits else ""))
    out.append(f"Critical path ({deps['critical_path_days']} days):")
    for task in deps.get("critical_path_tasks", []):
        slack = f" — float {task['total_float']} d" if task.get("total_float") is not None else ""
        out.append(_task_line(task, slack))
    return "\n".join(out) + "\n"
