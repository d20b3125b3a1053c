"""The plain-text report is byte-identical to what the rich layout of every project printed.

`data/render_text_*.txt` were written once by the renderer that laid out the whole report as one
rich Group (before it was made fast, 2026-11-30) and are the reference: the typed daily and
weekly reports, the synthetic ones with every list, and hostile names (markup of every target,
control and bidi characters, CRLF, long words) in the project, task and people names.
Regenerate only on purpose, after a change to the report's wording:

    .venv/bin/python tests/report/test_render_text_golden.py --write
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script to rewrite the reference files
    sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from synthetic import make_report, plain_names  # noqa: E402
from typed import typed_report  # noqa: E402

from tpmsync.report.model import Report  # noqa: E402
from tpmsync.report.render_text import render_rich, render_text  # noqa: E402

DATA = HERE / "data"
HOSTILE = [
    "[/oops]",
    "[link=https://evil.example]Click[/link]",
    "Budget $\\foo{1}$ and $x^2$ [bold]loud[/]",
    "[Reset your password](https://evil.example/login)",
    "<script>alert(1)</script>",
    "*bold* _italic_ ~strike~ `code` <!channel> & <@U123>",
    "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07osc link\x1b]8;;\x07",
    "\u202eevil\u202c \u200bzero\u2060width\ufeff",
    "line one\r\nline two\rthree\n| split | row |",
    "- list item\n1. numbered\n# heading",
    "Q" * 300,
    "Quarterly planning " * 30,
    "東京オフィス移転 📦 wide ｗｉｄｔｈ",
]


def hostile(what: str, index: int) -> str:
    name = HOSTILE[index % len(HOSTILE)]
    return name[:120] if what == "person" else name + ("" if index % 2 else f" {plain_names(what, index)}")


CASES: dict[str, Callable[[], Report]] = {
    "typed_daily": lambda: typed_report("daily"),
    "typed_weekly": lambda: typed_report("weekly"),
    "typed_weekly_narrow": lambda: typed_report("weekly"),
    "typed_daily_tiny": lambda: typed_report("daily"),
    "hostile_daily": lambda: make_report(len(HOSTILE), kind="daily", namer=hostile, items=6, extras=True),
    "hostile_weekly": lambda: make_report(len(HOSTILE), kind="weekly", namer=hostile, items=6, extras=True),
    "plain_weekly": lambda: make_report(4, kind="weekly", extras=True),
}
# narrower terminals too: the columns shrink and names wrap; at 6 columns the bullets have no room
WIDTHS = {"hostile_weekly": 60, "typed_weekly_narrow": 30, "typed_daily_tiny": 6}


def rendered(case: str) -> str:
    return render_text(CASES[case](), **({"width": WIDTHS[case]} if case in WIDTHS else {}))


@pytest.mark.parametrize("case", sorted(CASES))
def test_plain_text_report_is_byte_identical_to_the_reference(case: str) -> None:
    expected = (DATA / f"render_text_{case}.txt").read_text(encoding="utf-8")
    assert rendered(case) == expected


ANSI = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")  # colours and OSC 8 links


@pytest.mark.parametrize("case", ["typed_weekly", "hostile_daily"])
def test_terminal_report_has_the_same_lines_with_styles_and_links(case: str) -> None:
    from rich.console import Console

    report = CASES[case]()
    console = Console(file=io.StringIO(), width=100, color_system="truecolor", force_terminal=True)
    console.print(render_rich(report))
    styled = console.file.getvalue()  # type: ignore[attr-defined]
    lines = [line.rstrip() for line in ANSI.sub("", styled).splitlines()]
    assert "\n".join(lines) + "\n" == (DATA / f"render_text_{case}.txt").read_text(encoding="utf-8")
    heading = next(line for line in styled.splitlines() if "What changed since" in line)
    assert heading.startswith("  \x1b[1m")  # bold, inside the project's indent
    task = report.projects[0].changes.completed.items[0]
    bullet = next(line for line in styled.splitlines() if line.startswith("    • ") and task.name[:20] in line)
    assert "\x1b]8;id=" in bullet and f";{task.url}\x1b\\" in bullet and "\x1b[2m (done" in bullet


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    for name in CASES:
        (DATA / f"render_text_{name}.txt").write_text(rendered(name), encoding="utf-8", newline="")
        print(name, len(rendered(name)))
