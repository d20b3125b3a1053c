"""Flow and people charts for the weekly report (and the HTML report), one function each.

Drawn like `tpmsync.report.charts` (matplotlib's Agg canvas, imported on first draw, names as
plain text, a palette PNG of about 600×300 px) from the report alone, so `build_report` stays
pure and a stored JSON report can be drawn again:

- `cfd_png`: the cumulative flow diagram over the flow window (completed at the bottom, then
  the board's sections from the last to the first, stacked);
- `cycle_png`: the cycle-time scatterplot (one dot per task completed in the window) with the
  p50 and p85 lines;
- `throughput_png`: the weekly throughput run chart (tasks completed per week, last week last);
- `aging_png`: the age of each item in progress against the cycle-time p50 and p85, by section;
- `people_png`: the load of each person against capacity (100 %), most loaded first.

A function returns None when it has nothing to show (no flow, no started items, no people).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from importlib import import_module
from typing import Any

from tpmsync.report.charts import DPI, HEIGHT_IN, STYLE, WIDTH_IN, _clip, _png, _x
from tpmsync.report.model import ProjectReport
from tpmsync.report.model_flow import FlowReport, PersonReport
from tpmsync.report.wording import COLOURS

FLOW_CHARTS = ("cfd", "cycle", "throughput", "aging")
PEOPLE_NAME = "people"
MAX_FLOW_PROJECTS = 5  # four charts each: a weekly report of a large portfolio stays sendable
MAX_PEOPLE = 25
MAX_AGING = 40
BLUE, GREY, P85_COLOUR = "#1565c0", "#777777", COLOURS["red"]
COLUMN_COLOURS = ("#90caf9", "#a5d6a7", "#ffe082", "#ce93d8", "#80cbc4", "#ffab91", "#b0bec5", "#f48fb1")


def flow_chart_name(chart: str, gid: str) -> str:
    """The image name (email Content-ID) of one of a project's flow charts ("cfd", "cycle", …)."""
    return f"{chart}-{gid}"


def _axes(title: str, *, height: float = HEIGHT_IN, left: float = 0.09) -> tuple[Any, Any]:
    """A figure with fixed margins: a constrained layout costs about as much as the drawing."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    figure.subplots_adjust(left=left, right=0.98, top=1 - 0.3 / height, bottom=0.45 / height)
    ax = figure.add_subplot()
    ax.set_title(title)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    return figure, ax


def _dates(ax: Any) -> None:
    mdates: Any = import_module("matplotlib.dates")
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def cfd_png(project: ProjectReport) -> bytes | None:
    """Open tasks per section and the completed tasks, stacked, for each day of the window."""
    flow = project.flow
    if flow is None or len(flow.days) < 2 or not flow.columns:
        return None
    import matplotlib

    xs = [_x(d.day) for d in flow.days]
    first = flow.days[0].completed
    layers = [[d.completed - first for d in flow.days]]  # done within the window
    labels = ["completed"]
    colours = [GREY]
    for index in range(len(flow.columns) - 1, -1, -1):  # the last column sits on top of the done band
        layers.append([d.columns[index] if index < len(d.columns) else 0 for d in flow.days])
        name = _clip(flow.columns[index] or "(no name)", 24)
        labels.append(name + (" ▸" if flow.started[index] else ""))
        colours.append(COLUMN_COLOURS[index % len(COLUMN_COLOURS)])
    with matplotlib.rc_context(STYLE):
        figure, ax = _axes(f"Cumulative flow — {_clip(project.name, 50)}")
        ax.stackplot(xs, layers, labels=labels, colors=colours, linewidth=0)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylabel("tasks")
        _dates(ax)
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1][:10], names[::-1][:10], loc="upper left", fontsize=6)
        return _png(figure)


def _percentile_lines(ax: Any, flow: FlowReport, *, horizontal: bool) -> None:
    for value, label, colour, style in (
        (flow.cycle_p50, "p50", BLUE, "--"),
        (flow.cycle_p85, "p85", P85_COLOUR, ":"),
    ):
        if value is None:
            continue
        text = f"{label} {value} days"
        if horizontal:
            ax.axhline(value, color=colour, linewidth=1.1, linestyle=style, label=text)
        else:
            ax.axvline(value, color=colour, linewidth=1.1, linestyle=style, label=text)


def cycle_png(project: ProjectReport) -> bytes | None:
    """One dot per task completed in the window at (completion day, cycle time), p50 and p85 lines."""
    flow = project.flow
    points = [] if flow is None else [(c.task.completed_on, c.cycle_days) for c in flow.completed]
    shown = [(day, days) for day, days in points if day is not None and days is not None]
    if flow is None or not shown:
        return None
    import matplotlib

    with matplotlib.rc_context(STYLE):
        figure, ax = _axes(f"Cycle time — {_clip(project.name, 50)} ({len(shown)} tasks)")
        ax.scatter([_x(day) for day, _ in shown], [days for _, days in shown], s=14, color=BLUE, alpha=0.7,
                   linewidths=0, label="completed task")
        _percentile_lines(ax, flow, horizontal=True)
        ax.set_xlim(_x(flow.window_start) - 1, _x(max(day for day, _ in shown)) + 1)
        ax.set_ylim(0, max(days for _, days in shown) * 1.3 + 1)
        ax.set_ylabel("days in progress")
        _dates(ax)
        ax.legend(loc="upper left", ncols=3)
        return _png(figure)


def weekly_throughput(flow: FlowReport) -> list[tuple[date, int]]:
    """Tasks completed per week (ending on the last day of the window), oldest week first; a
    partial first week is left out."""
    days = flow.days
    weeks: list[tuple[date, int]] = []
    end = len(days)
    while end - 7 >= 0:
        chunk = days[end - 7 : end]
        weeks.append((chunk[-1].day, sum(d.throughput for d in chunk)))
        end -= 7
    return weeks[::-1]


def throughput_png(project: ProjectReport) -> bytes | None:
    """A run chart of tasks completed per week, with the median week."""
    flow = project.flow
    weeks = [] if flow is None else weekly_throughput(flow)
    if len(weeks) < 2:
        return None
    import matplotlib

    counts = [count for _, count in weeks]
    middle = sorted(counts)[len(counts) // 2]
    with matplotlib.rc_context(STYLE):
        figure, ax = _axes(f"Throughput per week — {_clip(project.name, 50)}")
        xs = [_x(day) for day, _ in weeks]
        ax.plot(xs, counts, color=BLUE, marker="o", markersize=3.5, linewidth=1.4, label="tasks completed")
        ax.axhline(middle, color=GREY, linewidth=1, linestyle="--", label=f"median {middle}")
        ax.set_xlim(xs[0] - 3, xs[-1] + 3)
        ax.set_ylim(0, max(counts) * 1.15 + 1)
        ax.set_ylabel("tasks per week")
        _dates(ax)
        ax.legend(loc="upper left")
        return _png(figure)


def aging_png(project: ProjectReport) -> bytes | None:
    """Each item in progress at its age in its section (oldest `MAX_AGING`), against p50 and p85."""
    flow = project.flow
    if flow is None or not flow.wip:
        return None
    import matplotlib

    items = sorted(flow.wip, key=lambda item: -item.age_days)[:MAX_AGING]
    started = [name for name, flag in zip(flow.columns, flow.started, strict=False) if flag]
    sections = [*started, *sorted({i.section for i in items} - set(started))]
    where = {name: index for index, name in enumerate(sections)}
    with matplotlib.rc_context(STYLE):
        figure, ax = _axes(f"Aging work in progress — {_clip(project.name, 50)}", left=0.09)
        for aging, colour, label in ((False, BLUE, "in progress"), (True, P85_COLOUR, "aging (above p85)")):
            chosen = [i for i in items if i.aging == aging]
            if chosen:
                xs = [where[i.section] + (k % 7 - 3) * 0.04 for k, i in enumerate(chosen)]  # spread, same each run
                ax.scatter(xs, [i.age_days for i in chosen], s=18, color=colour, linewidths=0, label=label)
        _percentile_lines(ax, flow, horizontal=True)
        ax.set_xticks(range(len(sections)), [_clip(name or "(no name)", 18) for name in sections])
        ax.set_xlim(-0.6, len(sections) - 0.4)
        top = max([i.age_days for i in items] + [flow.cycle_p85 or 0])
        ax.set_ylim(0, top * 1.3 + 1)  # room for the legend in one row above the dots
        ax.set_ylabel("age in days")
        ax.legend(loc="upper left", ncols=4)
        return _png(figure)


def people_png(people: Sequence[PersonReport]) -> bytes | None:
    """Each person's load as a share of capacity (the most loaded `MAX_PEOPLE`), 100 % marked."""
    loaded = sorted((p for p in people if p.open), key=lambda p: (-p.load_ratio, p.name, p.gid))[:MAX_PEOPLE]
    if not loaded:
        return None
    import matplotlib

    horizon = loaded[0].horizon_days
    height = max(1.8, 0.7 + 0.22 * len(loaded))
    with matplotlib.rc_context(STYLE):
        figure, ax = _axes(f"Load against capacity, next {horizon} days", height=height, left=0.3)
        ys = list(range(len(loaded)))
        shares = [p.load_ratio * 100 for p in loaded]
        colours = [P85_COLOUR if p.overloaded else BLUE for p in loaded]
        ax.barh(ys, shares, color=colours, height=0.7)
        ax.axvline(100, color=GREY, linewidth=1, linestyle="--")
        ax.set_yticks(ys, [_clip(p.name, 28) for p in loaded])
        ax.set_ylim(len(loaded) - 0.5, -0.5)
        ax.set_xlim(0, max([*shares, 100.0]) * 1.12)
        ax.set_xlabel("% of capacity")
        ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
        for y, share in zip(ys, shares, strict=True):
            ax.text(share, y, f" {share:.0f} %", va="center", fontsize=6)
        return _png(figure)

