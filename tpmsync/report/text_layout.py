"""Rich renderables for the long runs of text in a report, laid out line by line.

A weekly report of 200 projects is some 40,000 lines of bulleted tasks under indented projects.
As `Table.grid`s inside `Padding` every line was measured, wrapped, padded and cropped again at
each level (about 90 ms a project). These lay out the same lines: a Text is wrapped once by
rich's own `Text.wrap` (or taken as it is when it fits on one line), then indented. The lines and
their styles are those of the grid and the padding; only the trailing padding is left out.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

_NEW_LINE = Text("\n")


def _wrapped(console: Console, text: Text, options: ConsoleOptions, cells: int | None = None) -> list[list[Segment]]:
    """The lines `text` renders as with `options`, as rich's Text would make them. A line of one
    paragraph that fits (the usual case) is taken as it is: wrapping it would change nothing.
    `cells`: the text's cell length if known."""
    width = options.max_width
    plain = text.plain
    if (text.justify is None and text.overflow is None and text.no_wrap is None and "\n" not in plain
            and "\t" not in plain and (cell_len(plain) if cells is None else cells) <= width):
        return [_segments(console, text)]
    tab_size = (console.tab_size if text.tab_size is None else text.tab_size) or 8
    no_wrap = text.no_wrap if text.no_wrap is not None else bool(options.no_wrap)
    justify = text.justify or options.justify or "default"
    overflow = text.overflow or options.overflow or "fold"
    lines = text.wrap(console, width, justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap)
    return [_segments(console, line) for line in lines]


def _segments(console: Console, line: Text) -> list[Segment]:
    """One line's segments as Text renders its lines: its own style under its spans (Text.render
    alone leaves the style of a text without spans out). Plain text when no style is ever written."""
    if console.color_system is None and not console.record:
        return [Segment(line.plain)]
    if not line.spans:
        return [Segment(line.plain, console.get_style(line.style) if line.style else None)]
    return list(_NEW_LINE.join([line]).render(console))


class Bullets:
    """Lines after a bullet with a hanging indent: what a two-column `Table.grid` (a right-aligned
    bullet column three wide, padding one) lays out, without measuring and cropping each cell
    through the table. Below five columns, where the grid squeezes the bullet too, it is the grid."""

    def __init__(self, rows: list[Text], *, more: bool) -> None:
        self.rows = rows
        self.more = more

    def grid(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=3, justify="right")
        grid.add_column(ratio=1)
        for index, row in enumerate(self.rows):
            grid.add_row("" if self.more and index == len(self.rows) - 1 else "•", row)
        return grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < 5:
            yield self.grid()
            return
        end = Segment.line()
        for line in self.lines(console, options):
            yield from line
            yield end

    def lines(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        """The lines as the grid renders them at options.max_width of five or more (no padding at the end)."""
        measured = [max(map(cell_len, row.plain.splitlines()), default=0) for row in self.rows]  # as Text measures
        widest = max(measured, default=0)
        cell = options.update(width=min(widest or 1, options.max_width - 4), justify="left", no_wrap=False,
                              overflow="ellipsis", height=None, highlight=False)
        bullet, blank = Segment("  • "), Segment("    ")
        lines: list[list[Segment]] = []
        for index, row in enumerate(self.rows):
            first = blank if self.more and index == len(self.rows) - 1 else bullet
            one_line = "\n" not in row.plain and len(row.plain.splitlines()) == 1
            for number, line in enumerate(_wrapped(console, row, cell, measured[index] if one_line else None)):
                lines.append([first if number == 0 else blank, *line])
        return lines


class Indented:
    """Renderables one under the other, indented: `Padding(Group(*items), (0, 0, 0, indent))`
    without rendering the group into padded lines first."""

    def __init__(self, items: list[RenderableType], indent: int) -> None:
        self.items = items
        self.indent = indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width - self.indent < 5:
            yield Padding(Group(*self.items), (0, 0, 0, self.indent))
            return
        inner = options.update_width(options.max_width - self.indent)
        margin, end = Segment(" " * self.indent), Segment.line()
        for item in self.items:
            if isinstance(item, Text):
                lines = _wrapped(console, item, inner)
            elif isinstance(item, Bullets) and inner.max_width >= 5:
                lines = item.lines(console, inner)
            else:
                lines = console.render_lines(item, inner, pad=False)
            for line in lines:
                yield margin
                yield from line
                yield end
