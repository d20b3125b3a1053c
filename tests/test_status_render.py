"""`tpmsync status` views with hostile names and narrow terminals: nothing is read as markup, every
project is one line at 80 columns, the full table from 120, the detail view wraps readably."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console

from tpmsync.status_render import render_detail, render_markdown, render_table

REASON = "12 of 55 open tasks overdue: 'Migrate billing', 'SSO rollout' and 10 more; oldest due 2026-11-02"


def project(index: int, name: str, health: str = "red", reasons: tuple[str, ...] = (REASON,)) -> dict[str, Any]:
    task = {"gid": f"9{index}", "name": name, "due": "2026-11-20", "url": f"https://app.asana.com/0/1/9{index}"}
    return {
        "gid": f"12{index:02d}", "name": name, "health": health, "reasons": list(reasons),
        "tasks": {"total": 120, "open": 55, "completed": 65},
        "deadline": {"overdue": 12, "due_soon": 4, "on_time_rate": 0.71, "slipped": 2,
                     "forecast": {"p50": "2026-12-20", "p85": "2027-01-26", "due_on": "2027-01-15",
                                  "probability_on_time": 0.43},
                     "overdue_tasks": [task]},
        "budget": {"spi": 0.81, "cpi": 1.02},
        "dependencies": {"blocked": 7, "critical_path_days": 31, "blocked_tasks": [],
                         "critical_path_tasks": [dict(task, total_float=0)]},
    }


def document(*projects: dict[str, Any]) -> dict[str, Any]:
    healths = [p["health"] for p in projects]
    return {
        "as_of": "2026-11-25",
        "projects": list(projects),
        "portfolio": {"health": "red" if "red" in healths else "amber" if "amber" in healths else "green",
                      "projects": len(projects), "open": 55 * len(projects), "overdue": 12 * len(projects),
                      "blocked": 7 * len(projects),
                      **{h: [p["name"] for p in projects if p["health"] == h] for h in ("red", "amber", "green")}},
    }


def printed(renderable: Any, width: int) -> tuple[str, list[Any]]:
    console = Console(width=width, file=io.StringIO(), color_system=None, force_terminal=False, record=True)
    console.print(renderable)
    segments = list(console.render(renderable, console.options))
    return console.export_text(), segments


NAMES = [
    "Customer portal relaunch for the enterprise segment with SSO",
    "Data warehouse migration",
    "Website",
    "Mobile app v2 — offline mode, push notifications and analytics",
    "Infra",
]


@pytest.mark.parametrize("width", [80, 90, 100])
def test_at_80_to_100_columns_every_project_is_one_line_with_verdict_and_reason(width: int) -> None:
    doc = document(*(project(i, name, ("red", "amber", "green")[i % 3]) for i, name in enumerate(NAMES)))
    text, _ = printed(render_table(doc), width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    for index, name in enumerate(NAMES):
        [row] = [line for line in lines if line.startswith(name[:8])]  # exactly one line per project
        assert ("■ red", "▲ amber", "● green")[index % 3] in row
        assert "12 of 55 open" in row  # the top reason is visible
        if len(name) > 30:
            assert "…" in row.split("  ")[0]  # the name is cut with …
    assert len(lines) < 16  # no reason wrapped one character per line


def test_at_120_columns_the_full_table_and_one_meaning_per_label() -> None:
    doc = document(*(project(i, name) for i, name in enumerate(NAMES)))
    text, _ = printed(render_table(doc), 120)
    for header in ("Open", "Overdue", "Blocked", "SPI", "CPI", "p85", "Chance", "by due", "Done on", "time",
                   "Due", "soon"):
        assert header in text, header
    assert "On time?" not in text and "Not shown" not in text
    assert "43%" in text and "71%" in text  # the chance by the due date and the on-time rate, both shown
    narrow, _ = printed(render_table(doc), 80)
    assert "Not shown at 80 columns:" in narrow


@pytest.mark.parametrize("width", [60, 80, 200])
def test_rich_markup_in_names_is_shown_as_typed_and_never_a_link(width: int) -> None:
    doc = document(
        project(1, "[/oops]"),
        project(2, "[link=https://evil.example]Click me[/link]", reasons=("[bold red]fake[/] reason",)),
        project(3, "\x1b]8;;https://evil.example\x07osc\x1b]8;;\x07 \x1b[31mred\u202e"),
    )
    text, segments = printed(render_table(doc), width)
    assert "[/oops]" in text
    assert "[link=https:" in text or "[link=" in text
    assert all(segment.style is None or not segment.style.link for segment in segments)
    assert "\x1b" not in text and "\u202e" not in text


def test_markdown_escapes_names_and_keeps_one_row_per_project() -> None:
    hostile = "<script>alert(1)</script> [Reset your password](https://evil.example/login) | a\nb\r\nc"
    doc = document(project(1, hostile), project(2, "<img src=x onerror=alert(1)>", "green", ()))
    markdown = render_markdown(doc)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 4  # header, two projects, portfolio: the newlines did not split a row
    assert len({row.replace("\\|", "").count("|") for row in rows}) == 1  # every row has the same cells
    assert not re.search(r"(?<!\\)<(script|img)", markdown)
    assert "](https://evil.example" not in markdown.replace("\\](", "")
    assert "Chance by due" in markdown and "Done on time" in markdown and "On time?" not in markdown


def test_detail_wraps_to_the_width_and_keeps_links_whole() -> None:
    long_name = "Customer portal relaunch for the enterprise segment with single sign-on and audit logging"
    text = render_detail(project(1, long_name, reasons=(REASON * 2,)), width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 or line.strip().startswith("https://") for line in lines)
    assert lines[0].startswith("Customer portal relaunch") and len(lines[0]) > 20  # not one letter per line
    assert "    https://app.asana.com/0/1/91" in lines
    assert max(len(line.split()) for line in lines) > 3


def person(gid: str, name: str, ratio: float) -> dict[str, Any]:
    return {"gid": gid, "name": name, "open": 12, "overdue": 1, "due_in_horizon": 5, "load_hours": ratio * 64,
            "unestimated": 0, "capacity_hours": 64.0, "load_ratio": ratio, "overloaded": ratio > 1,
            "critical_tasks": 2, "critical_task_gids": ["1", "2"]}


def test_people_table_reads_in_80_columns_with_hostile_names_shown_as_typed() -> None:
    from tpmsync.status_render import render_people

    people = [
        person("u1", "[link=https://evil.example]Ana[/link] \x1b[31mred\u202e", 1.8),
        person("u2", "Bartholomew Fitzgerald-Montgomery the Third of Somewhere Long", 0.5),
        person("u3", "[/oops]", 0.0),
    ]
    text, segments = printed(render_people(people, "2026-11-25"), 80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "[link=https:" in text and "[/oops]" in text
    assert all(segment.style is None or not segment.style.link for segment in segments)
    assert "\x1b" not in text and "\u202e" not in text
    (ana,) = [line for line in text.splitlines() if line.startswith("[link")]
    assert "180% ■" in ana and "115/64" in ana
    (bart,) = [line for line in text.splitlines() if line.startswith("Bartholomew")]
    assert "…" in bart and "■" not in bart and "50%" in bart
    assert "No open assigned tasks." in printed(render_people([], "2026-11-25"), 80)[0]


def test_detail_shows_flow_milestones_unblock_first_calibration_and_the_move() -> None:
    item = {"gid": "7", "name": "Migrate \x1b[31mauth", "section": "Review", "started_on": "2026-11-03",
            "age_days": 23}
    detail_project = project(1, "Web")
    detail_project["flow"] = {"wip": 2, "aging": 1, "cycle_time": {"p85": 9}, "aging_tasks": [item],
                              "wip_tasks": [item, {**item, "gid": "8", "name": "Billing", "age_days": 1}]}
    detail_project["deadline"]["forecast"].update(
        throughput_window={"start": "2026-10-15", "end": "2026-11-25"},
        how_many={"by": "2026-12-09", "p50": 7, "p85": 5, "open": 12, "trials": 10_000, "reason": None},
        calibration={"judged": 9, "held": 7},
        moved={"since": "2026-11-18", "p85_change_days": 9, "scope_days": 5, "progress_days": 1, "pace_days": 3,
               "tasks_added": 12, "tasks_removed": 0},
        milestones=[
            {"gid": "m1", "name": "Beta", "p50": "2026-12-18", "p85": "2026-12-24", "due": "2026-12-20",
             "probability_on_time": 0.001, "reason": None},
            {"gid": "m2", "name": "GA", "p50": None, "p85": None, "due": None, "probability_on_time": None,
             "reason": "Web has 0 cycle time(s); a milestone forecast needs 5 of either"},
        ],
        unblock_first=[{"gid": "t1", "name": "API schema", "assignee": {"gid": "u1", "name": "Ana"},
                        "due": "2026-11-28", "share": 1.0, "milestone": {"gid": "m1", "name": "Beta"},
                        "blocked_by": [{"gid": "t0", "name": "Vendor [b]contract[/b]"}]}],
    )
    text = render_detail(detail_project, 100)
    assert "In progress (2, 1 aging; 85 % of tasks finish within 9 days):" in text
    assert "  - Migrate auth — in 'Review' for 23 days — aging" in text and "\x1b" not in text
    assert "By Dec 9: at least 5 of 12 open tasks done (85 %), 7 likely (50 %)" in text
    assert "Calibration: 85 % dates held 7 of 9 times here" in text
    assert "p85 moved 9 days later since 2026-11-18: +5 scope (12 tasks added), +3 pace, +1 progress" in text
    assert "  - Beta (due Dec 20): p50 Dec 18, p85 Dec 24, <5 % likely on time" in text
    assert "  - GA: no forecast — Web has 0 cycle time(s)" in text
    assert ("  - API schema (Ana, due Nov 28) decides Beta in >95 % of trials; waits for Vendor [b]contract[/b]"
            in text)
    assert "0 %" not in text.replace("50 %", "").replace("100 ", "")
