"""What the loaders build for the KPI engine: tasks and projects, and for flow their stories.

`kpi_inputs.load_projects` builds `ProjectInput`s (with their `TaskInput`s, `DueChange`s and
`AsanaBudget`); `kpi_inputs_flow.load_flow_projects` builds `FlowProject`s (with their
`FlowTask`s and `FlowEvent`s).  Plain, frozen data.  Dates are `datetime.date` objects already
taken in the configured time zone (the engine never converts time zones); flow timestamps are
naive UTC, as the store keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class DueChange:
    """One change of a task's due date seen by sync history.

    `observed_on` is the date the sync noticed the change; `old_due`/`new_due` are the due dates
    before and after (None when there was none).
    """

    observed_on: date
    old_due: date | None
    new_due: date | None


@dataclass(frozen=True, slots=True)
class TaskInput:
    """One Asana task as the KPI engine sees it.

    `due`, `start`, `completed_on` and `modified_on` are dates in the configured time zone
    (`due_at` wins over `due_on`, `start_at` over `start_on`).  `estimate_hours` and
    `actual_hours` are the values of the configured number custom fields (None when the field is
    empty), `actual_time_minutes` is Asana time tracking (None when absent).  `dependency_gids`
    are the gids of the tasks this task depends on (its predecessors).  `project_gid` and
    `project_name` matter for tasks outside the project's task set (the project they live in, or
    None when they are in no project).  `actuals_known` is False when the actual hours the task
    had on the day computed are unknown (a past day, and the task changed since): its
    `actual_hours`/`actual_time_minutes` are None then, and no sum over them can be made.
    """

    gid: str
    name: str
    completed: bool = False
    completed_on: date | None = None
    due: date | None = None
    start: date | None = None
    assignee_gid: str | None = None
    assignee_name: str | None = None
    parent_gid: str | None = None
    is_milestone: bool = False
    estimate_hours: float | None = None
    actual_hours: float | None = None
    actual_time_minutes: float | None = None
    dependency_gids: Sequence[str] = ()
    modified_on: date | None = None
    project_gid: str | None = None
    project_name: str | None = None
    permalink_url: str | None = None
    due_history: Sequence[DueChange] = ()
    actuals_known: bool = True


@dataclass(frozen=True, slots=True)
class AsanaBudget:
    """The project's budget from Asana's Budgets API, reported beside the EVM numbers.

    `budget_type` is "time" (values in minutes) or "cost" (values in the domain's currency);
    `unit` is the unit Asana gives (e.g. "minutes", "USD").  `estimate` is Asana's aggregated
    estimate, `actual` the aggregated actual, `total` the user-defined target; each None when
    Asana does not report it.
    """

    budget_type: str
    unit: str | None
    estimate: float | None = None
    actual: float | None = None
    total: float | None = None


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """One project and everything the engine needs to compute its KPIs.

    `tasks` is the project's task set (members plus subtasks at any depth, not deleted).
    `outside_tasks` are tasks outside that set that some task of the set depends on, with
    their `project_gid`/`project_name` (None when they are in no project).  `rate` is the
    currency per hour for EVM and `currency` its code; with `rate` None the EVM numbers are in
    hours (rate 1).  `shared_gids` are the tasks of the set that are also in another tracked
    project's set (the portfolio counts each of them once).
    """

    gid: str
    name: str
    tasks: Sequence[TaskInput]
    due_on: date | None = None
    outside_tasks: Sequence[TaskInput] = ()
    asana_budget: AsanaBudget | None = None
    rate: float | None = None
    currency: str | None = None
    permalink_url: str | None = None
    shared_gids: frozenset[str] = frozenset()


# --------------------------------------------------------------------------------------------
# Flow: a project's board and its tasks' stories
# --------------------------------------------------------------------------------------------


class StoryKind(StrEnum):
    SECTION_CHANGED = "section_changed"
    MARKED_COMPLETE = "marked_complete"
    MARKED_INCOMPLETE = "marked_incomplete"


_SECTION_CHANGED = StoryKind.SECTION_CHANGED
_at = itemgetter(0)


class FlowEvent(NamedTuple):
    """One story of a task.  `at` is naive UTC.

    For `section_changed`: `project_gid` is the project the sections belong to (None when the
    store could not tell), `section_gid`/`section_name` the section moved into and
    `old_section_gid`/`old_section_name` the one moved out of.  Completion stories carry only
    `kind` and `at`.
    """

    at: datetime
    kind: StoryKind
    project_gid: str | None = None
    section_gid: str | None = None
    section_name: str | None = None
    old_section_gid: str | None = None
    old_section_name: str | None = None


class SectionRef(NamedTuple):
    gid: str
    name: str


class Membership(NamedTuple):
    """The section a task is in within one project now (section None: not in any section)."""

    project_gid: str
    section_gid: str | None


@dataclass(frozen=True, slots=True)
class FlowTask:
    """One task of a project's set as flow sees it.  Timestamps are naive UTC.

    `memberships` are the task's project memberships now (a subtask has none); `events` its
    stories **oldest first** (as `store.stories.load_stories` returns them; `sort_events` puts
    a list in that order).  `moves` and `completions` are the same stories split by kind, made
    once here so that `compute_flow` reads only the few it needs.
    """

    gid: str
    name: str
    created_at: datetime
    completed: bool = False
    completed_at: datetime | None = None
    memberships: Sequence[Membership] = ()
    events: Sequence[FlowEvent] = ()
    moves: tuple[FlowEvent, ...] = field(init=False, repr=False, compare=False)
    completions: tuple[FlowEvent, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        moves = tuple(event for event in self.events if event[1] is _SECTION_CHANGED)
        completions = () if len(moves) == len(self.events) else tuple(
            event for event in self.events if event[1] is not _SECTION_CHANGED
        )
        object.__setattr__(self, "moves", moves)
        object.__setattr__(self, "completions", completions)


@dataclass(frozen=True, slots=True)
class FlowProject:
    """A project's sections (board order) and its task set (members plus subtasks, not deleted)."""

    gid: str
    name: str
    sections: Sequence[SectionRef]
    tasks: Sequence[FlowTask]


def sort_events(events: Iterable[FlowEvent]) -> tuple[FlowEvent, ...]:
    """Stories oldest first, the order `FlowTask.events` must have."""
    return tuple(sorted(events, key=_at))

