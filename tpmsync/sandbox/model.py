"""Plain typed records of the sandbox's in-memory Asana data.

The records hold references as gids (``assignee_gid``, ``project_gid``…); `render.py` turns them
into Asana's JSON shapes.  Dates are ``date`` objects and times are timezone-aware UTC
``datetime`` objects; `iso_datetime` / `iso_date` give their wire form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

CustomFieldType = Literal["text", "enum", "multi_enum", "number", "date", "people"]
"""Custom field types the sandbox models (Asana's ``resource_subtype`` of a custom field)."""

CustomValue = float | str | tuple[str, ...]
"""A stored custom field value: number → float; text → str; date → ``YYYY-MM-DD`` str;
enum → option gid; multi_enum → option gids; people → user gids."""

STATUS_TYPES = (
    "on_track", "at_risk", "off_track", "on_hold", "complete", "achieved", "partial", "missed", "dropped",
)


def iso_datetime(value: datetime) -> str:
    """Asana's timestamp form: ISO 8601 in UTC with milliseconds and ``Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_date(value: date) -> str:
    """Asana's date form, ``YYYY-MM-DD``."""
    return value.isoformat()


@dataclass(slots=True, eq=False)
class User:
    gid: str
    name: str
    email: str


@dataclass(slots=True, eq=False)
class AsanaWorkspace:
    """The Asana *workspace* (organization) resource — not to be confused with `Workspace`,
    the sandbox's whole data set."""

    gid: str
    name: str
    email_domains: tuple[str, ...] = ("example.com",)
    is_organization: bool = True


@dataclass(slots=True, eq=False)
class Team:
    gid: str
    name: str
    workspace_gid: str
    description: str = ""


@dataclass(slots=True, eq=False)
class EnumOption:
    gid: str
    name: str
    color: str = "none"
    enabled: bool = True


@dataclass(slots=True, eq=False)
class CustomField:
    gid: str
    name: str
    type: CustomFieldType
    workspace_gid: str
    created_at: datetime
    precision: int = 0
    description: str = ""
    enum_options: tuple[EnumOption, ...] = ()

    def option(self, gid_or_name: str) -> EnumOption | None:
        """The enum option with this gid or exact name, if any."""
        for opt in self.enum_options:
            if gid_or_name in (opt.gid, opt.name):
                return opt
        return None


@dataclass(slots=True, eq=False)
class CustomFieldSetting:
    """A custom field attached to a project (``/projects/{gid}/custom_field_settings``)."""

    gid: str
    project_gid: str
    custom_field_gid: str
    is_important: bool = True


@dataclass(slots=True, eq=False)
class Section:
    gid: str
    name: str
    project_gid: str
    created_at: datetime


@dataclass(slots=True, eq=False)
class Project:
    gid: str
    name: str
    workspace_gid: str
    team_gid: str
    owner_gid: str | None
    created_at: datetime
    modified_at: datetime
    notes: str = ""
    color: str = "light-green"
    archived: bool = False
    public: bool = True
    completed: bool = False
    completed_at: datetime | None = None
    start_on: date | None = None
    due_on: date | None = None
    section_gids: list[str] = field(default_factory=list)
    custom_field_setting_gids: list[str] = field(default_factory=list)
    current_status_update_gid: str | None = None


@dataclass(slots=True, eq=False)
class Portfolio:
    gid: str
    name: str
    workspace_gid: str
    owner_gid: str
    created_at: datetime
    color: str = "light-blue"
    project_gids: list[str] = field(default_factory=list)
    start_on: date | None = None
    due_on: date | None = None
    current_status_update_gid: str | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """A task's membership of a project, in one of its sections."""

    project_gid: str
    section_gid: str | None


@dataclass(slots=True, eq=False)
class Task:
    """A task or subtask.  Collections are tuples so that 100k tasks stay small; the mutation
    methods of `Workspace` replace them."""

    gid: str
    name: str
    workspace_gid: str
    created_at: datetime
    modified_at: datetime
    resource_subtype: str = "default_task"
    notes: str = ""
    completed: bool = False
    completed_at: datetime | None = None
    completed_by_gid: str | None = None
    assignee_gid: str | None = None
    due_on: date | None = None
    due_at: datetime | None = None
    start_on: date | None = None
    start_at: datetime | None = None
    parent_gid: str | None = None
    actual_time_minutes: float | None = None
    memberships: tuple[Membership, ...] = ()
    dependency_gids: tuple[str, ...] = ()
    dependent_gids: tuple[str, ...] = ()
    subtask_gids: tuple[str, ...] = ()
    custom_values: dict[str, CustomValue] = field(default_factory=dict)

    @property
    def num_subtasks(self) -> int:
        """Number of direct subtasks (Asana's ``num_subtasks``)."""
        return len(self.subtask_gids)

    @property
    def project_gids(self) -> tuple[str, ...]:
        """Gids of the projects this task is a direct member of."""
        return tuple(m.project_gid for m in self.memberships)


STORY_SUBTYPES = (
    "section_changed", "marked_complete", "marked_incomplete", "added_to_project", "removed_from_project",
    "assigned", "unassigned",
)
"""Story ``resource_subtype`` values the sandbox records (all system stories)."""


@dataclass(slots=True, eq=False)
class Story:
    """A system story on a task (``GET /tasks/{gid}/stories``).  ``new_section_gid`` /
    ``old_section_gid`` are set on ``section_changed``, ``project_gid`` on ``added_to_project`` /
    ``removed_from_project``, ``assignee_gid`` on ``assigned``.  Its ``text`` is written when it is
    rendered (`Workspace.story_text`), from the names of that moment."""

    gid: str
    task_gid: str
    created_at: datetime
    resource_subtype: str
    created_by_gid: str | None = None
    new_section_gid: str | None = None
    old_section_gid: str | None = None
    project_gid: str | None = None
    assignee_gid: str | None = None


@dataclass(slots=True, eq=False)
class BudgetPart:
    """One of a budget's ``estimate`` / ``actual`` / ``total`` value objects."""

    value: float | None
    enabled: bool = True
    source: str | None = None  # estimate only: "tasks" | "capacity_plans" | "none"
    billable_status_filter: str | None = None  # estimate and actual


@dataclass(slots=True, eq=False)
class Budget:
    """An Asana budget on a project; ``budget_type`` "time" is in minutes, "cost" in ``currency``."""

    gid: str
    parent_gid: str
    budget_type: Literal["time", "cost"]
    estimate: BudgetPart
    actual: BudgetPart
    total: BudgetPart
    currency: str = "USD"

    @property
    def units(self) -> str:
        return "minutes" if self.budget_type == "time" else self.currency


@dataclass(slots=True, eq=False)
class StatusUpdate:
    gid: str
    parent_gid: str
    resource_subtype: str  # project_status_update | portfolio_status_update
    status_type: str
    title: str
    text: str
    html_text: str
    author_gid: str
    created_at: datetime
    modified_at: datetime
