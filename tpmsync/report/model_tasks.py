"""Tasks as a report names them: a task with its link, and the lists of them a report keeps.

A list is at most the first `max_items` entries (most important first) and `total`, the full
count, so a report about 50,000 tasks stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TaskRef:
    """A task as a report names it, with its link to Asana."""

    gid: str
    name: str
    url: str | None = None
    due: date | None = None
    assignee: str | None = None
    completed_on: date | None = None
    milestone: bool = False


@dataclass(frozen=True)
class TaskList:
    """The first entries of a list of tasks and how many there are in all."""

    items: tuple[TaskRef, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Slip:
    """An open task whose due date moved later since the state compared with."""

    task: TaskRef
    previous_due: date | None
    current_due: date | None
    days: int | None


@dataclass(frozen=True)
class SlipList:
    items: tuple[Slip, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)
