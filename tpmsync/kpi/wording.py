"""How verdict reasons word tasks, dates, counts and money: "'Ship it' (due Nov 20, Ana)".

The reasons are sentences a person reads in every channel, so they are worded here once; the
rules in `tpmsync.kpi.health` decide what a reason says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tpmsync.kpi.model.inputs import TaskInput

NAMES_SHOWN = 3
"""How many tasks a reason names before it says "and N more"."""


def day_text(day: date, as_of: date) -> str:
    """The day as "Nov 20", with ", 2027" added when its year is not as_of's."""
    text = f"{day:%b} {day.day}"
    return text if day.year == as_of.year else f"{text}, {day.year}"


def quoted(task: TaskInput) -> str:
    return f"'{task.name}'"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def money(value: float, unit: str) -> str:
    return f"{value:,.2f} {unit}".rstrip()


def names(items: Sequence[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = list(items[:NAMES_SHOWN])
    more = total - len(shown)
    if more > 0:
        return ", ".join(shown) + f" and {more} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def task_with_due(task: TaskInput, as_of: date) -> str:
    """'Name' (due Nov 20, Assignee, in 'Other project'), with whichever details are known."""
    details = []
    if task.due is not None:
        details.append(f"due {day_text(task.due, as_of)}")
    if task.assignee_name:
        details.append(task.assignee_name)
    if task.project_name:
        details.append(f"in '{task.project_name}'")
    return quoted(task) + (f" ({', '.join(details)})" if details else "")
