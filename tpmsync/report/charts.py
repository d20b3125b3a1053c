"""PNG charts for reports, drawn with matplotlib's Agg canvas (no pyplot, no display, no global state).

matplotlib is imported inside the drawing functions, so importing this module costs nothing and
`tpmsync status` never loads it. Each chart is about 600×300 px. A project with too little
history has no burn-up (`ProjectReport.burnup` is None) and gets no chart rather than an empty one.
Burn-ups are drawn for the worst `MAX_BURNUPS` projects only, so a large portfolio's report stays
sendable.

Names are plain text: mathtext is off (`text.parse_math`), so `$\\foo{1}$` is drawn as typed. A
chart that fails to draw is left out and logged; it never sinks the report.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING, Any

from tpmsync import words
from tpmsync.report.model import ProjectReport, Report, TrendCell
from tpmsync.report.wording import COLOURS, NO_DATA_COLOUR, clean_report, day, worst_first

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

TREND_NAME = "trend"
MAX_BURNUPS = 12
WIDTH_IN, HEIGHT_IN, DPI = 6.0, 3.0, 100
MAX_TREND_ROWS = 30
PALETTE_COLOURS = 64
MAX_FORECAST_DAYS = 180  # the x axis ends at most this far after as_of
EPOCH = date(1970, 1, 1)  # matplotlib's default date epoch: a date is its days since this one
STYLE: dict[Any, Any] = {
    "font.size": 8,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.frameon": False,
    "legend.fontsize": 7,
    "text.parse_math": False,  # names are plain text, never mathtext
    "text.usetex": False,
}


def burnup_name(gid: str) -> str:
    """The image name (email Content-ID) of a project's burn-up chart."""
    return f"burnup-{gid}"


def render_charts(report: Report, *, burnups: bool | None = None) -> dict[str, bytes]:
    """Every chart the report shows, by image name: the verdict trend and (weekly) the burn-ups of
    the worst `MAX_BURNUPS` projects, the flow charts (`tpmsync.report.flow_charts`) of the worst
    `MAX_FLOW_PROJECTS` and the people load chart. A chart that raises is left out and logged."""
    from tpmsync.report import flow_charts as fc

    report = clean_report(report)
    images: dict[str, bytes] = {}
    _draw(images, TREND_NAME, "the verdict trend", lambda: trend_png(report))
    if burnups if burnups is not None else report.kind == "weekly":
        for project in burnup_projects(report):
            _draw(images, burnup_name(project.gid), f"the burn-up of {project.name}",
                  partial(burnup_png, project, report.as_of))
        for project in burnup_projects(report)[: fc.MAX_FLOW_PROJECTS]:
            for chart, draw in (("cfd", fc.cfd_png), ("cycle", fc.cycle_png), ("throughput", fc.throughput_png),
                                ("aging", fc.aging_png)):
                _draw(images, fc.flow_chart_name(chart, project.gid), f"the {chart} chart of {project.name}",
                      partial(draw, project))
        _draw(images, fc.PEOPLE_NAME, "the people load chart", partial(fc.people_png, report.people))
    return images


def burnup_projects(report: Report) -> list[ProjectReport]:
    """The projects whose burn-up is drawn: the worst `MAX_BURNUPS` (red, then amber, then green)."""
    return worst_first(report.projects)[:MAX_BURNUPS]


def _draw(images: dict[str, bytes], name: str, what: str, draw: Callable[[], bytes | None]) -> None:
    try:
        png = draw()
    except Exception as exc:  # a chart is never worth the report
        log.warning("chart %s not drawn, the report goes without it: %s: %s", what, type(exc).__name__,
                    words.one_line(str(exc), 200))
        return
    if png is not None:
        images[name] = png


def _x(day: date) -> float:
    """A date as matplotlib's date number (days since 1970-01-01)."""
    return float((day - EPOCH).days)


def _png(figure: Figure) -> bytes:
    """The figure as a palette PNG: charts have few colours, and 8 bits keep them well under 60 KB."""
    from PIL import Image

    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)  # raw pixels: no PNG encoded twice
    width, height = (round(v * DPI) for v in figure.get_size_inches())
    image = Image.frombytes("RGBA", (width, height), raw.getvalue())
    palette = image.convert("RGB").quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def burnup_png(project: ProjectReport, as_of: date) -> bytes | None:
    """Completed and total tasks over time, the forecast fan (p50…p85) and the due date."""
    burnup = project.burnup
    if burnup is None or len(burnup.points) < 2:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    mdates: Any = import_module("matplotlib.dates")  # untyped module: its locators and formatters
    xs = [_x(p.day) for p in burnup.points]
    done = [p.completed for p in burnup.points]
    total = [p.total for p in burnup.points]
    forecast = project.forecast
    last_day = max([as_of, *(d for d in (forecast.p50, forecast.p85, forecast.due_on) if d is not None)])
    right = min(last_day, as_of + timedelta(days=MAX_FORECAST_DAYS)) + timedelta(days=3)
    left = burnup.points[0].day
    now = _x(as_of)
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        figure.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.2)
        ax = figure.add_subplot()
        ax.step(xs, total, where="post", color="#777777", linewidth=1.2, label="total tasks")
        ax.step(xs, done, where="post", color="#1565c0", linewidth=1.8, label="completed")
        now_done, now_total = done[-1], total[-1]
        if forecast.p50 is not None and forecast.p85 is not None and now_done < now_total:
            p50, p85 = _x(forecast.p50), _x(forecast.p85)
            label = f"forecast p50 {day(forecast.p50, as_of.year)} … p85 {day(forecast.p85, as_of.year)}"
            ax.fill(
                [now, p50, p85], [now_done, now_total, now_total], color="#1565c0", alpha=0.15, linewidth=0, label=label
            )
            ax.plot([now, p50], [now_done, now_total], color="#1565c0", linewidth=1, linestyle="--")
            ax.plot([now, p85], [now_done, now_total], color="#1565c0", linewidth=1, linestyle=":")
            ax.hlines(now_total, now, max(p85, now), color="#777777", linewidth=1.2, linestyle="--")
        if forecast.due_on is not None and left <= forecast.due_on <= right:
            ax.axvline(
                _x(forecast.due_on),
                color=COLOURS["red"],
                linewidth=1.2,
                linestyle="--",
                label=f"due {day(forecast.due_on, as_of.year)}",
            )
        ax.axvline(now, color="#bbbbbb", linewidth=0.8)
        ax.set_xlim(_x(left), _x(right))
        ax.set_ylim(0, max(total) * 1.08 + 1)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_ylabel("tasks")
        ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
        ax.set_title(f"Burn-up — {_clip(project.name, 60)}")
        figure.legend(loc="lower center", ncols=4, bbox_to_anchor=(0.5, 0.0))
        return _png(figure)


def trend_png(report: Report) -> bytes | None:
    """The verdict per ISO week (columns) for the portfolio and each project (rows).

    None when fewer than two weeks have a recorded verdict: one column is not a trend.
    """
    known_weeks = sum(1 for cell in report.portfolio.trend if cell.health is not None)
    if known_weeks < 2 or not report.trend_periods:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    projects = worst_first(report.projects)[:MAX_TREND_ROWS]
    rows: list[tuple[str, Sequence[TrendCell]]] = [("Portfolio", report.portfolio.trend)]
    rows += [(_clip(p.name, 28), p.trend) for p in projects]
    weeks = [period.split("-", 1)[1] for period in report.trend_periods]
    height = max(1.6, 0.6 + 0.24 * len(rows))
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        for y, (_, cells) in enumerate(rows):
            for x, cell in enumerate(cells):
                colour = COLOURS.get(cell.health, NO_DATA_COLOUR) if cell.health else NO_DATA_COLOUR
                ax.add_patch(Rectangle((x + 0.06, y + 0.08), 0.88, 0.84, facecolor=colour, edgecolor="none"))
        ax.set_xlim(0, len(weeks))
        ax.set_ylim(len(rows), 0)
        ax.set_xticks([x + 0.5 for x in range(len(weeks))], weeks)
        ax.set_yticks([y + 0.5 for y in range(len(rows))], [name for name, _ in rows])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.get_yticklabels()[0].set_fontweight("bold")
        title = "Verdict by week"
        if len(report.projects) > len(projects):
            title += f" (worst {len(projects)} of {len(report.projects)} projects)"
        ax.set_title(title)
        return _png(figure)


def _clip(text: str, limit: int) -> str:
    return words.shorten(words.clean(text, limit), limit)
