"""The sandbox's whole Asana data set: records, indexes, accessors, mutations and events.

`Workspace` is what the HTTP server reads and what tests compare a synced store against.
Building methods (``new_*``, `Workspace.insert_task`) add records without events — the generator
uses them.  Mutation methods (`Workspace.add_task`, `Workspace.edit_task`, …) behave like the
Asana API: they set ``modified_at`` to the workspace clock, keep ``num_subtasks`` and dependency
back-links right, and append events to the streams of every resource that would see them.

Every public method takes ``Workspace.lock`` (re-entrant), so a server thread can render while
another thread mutates.
"""

from __future__ import annotations

import bisect
import html
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from tpmsync.sandbox.events import Event, EventLog, ResourceRef
from tpmsync.sandbox.model import (
    STATUS_TYPES,
    AsanaWorkspace,
    Budget,
    BudgetPart,
    CustomField,
    CustomFieldSetting,
    CustomFieldType,
    CustomValue,
    EnumOption,
    Membership,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Task,
    Team,
    User,
)

__all__ = ["InvalidRequest", "NotFoundError", "Workspace"]

FIRST_GID = 1_200_000_000_000_001
FIRST_STORY_GID = 1_300_000_000_000_001
"""Stories count from their own range, so a history of stories leaves every other gid as it was."""
TASK_SUBTYPES = ("default_task", "milestone", "approval")
TASK_FIELDS = frozenset(
    {"name", "notes", "due_on", "due_at", "start_on", "start_at", "assignee", "resource_subtype",
     "completed", "custom_fields", "actual_time_minutes"}
)
PROJECT_FIELDS = frozenset(
    {"name", "notes", "due_on", "start_on", "archived", "color", "owner", "completed", "public"}
)

_T = TypeVar("_T")


class NotFoundError(LookupError):
    """No (live) object with that gid; the server answers 404."""


class InvalidRequest(ValueError):
    """A bad argument or field value; the server answers 400."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_date(value: object, what: str) -> date | None:
    """``None``, a `date` or a ``YYYY-MM-DD`` string → `date` (`InvalidRequest` otherwise)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidRequest(f"{what}: Invalid date {value!r}, expected YYYY-MM-DD")


def parse_datetime(value: object, what: str) -> datetime | None:
    """``None``, a `datetime` or an ISO 8601 string → aware UTC `datetime`.  A bare date means
    midnight UTC; a naive time is taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), UTC)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidRequest(f"{what}: Invalid date-time {value!r}") from None
    else:
        raise InvalidRequest(f"{what}: Invalid date-time {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class Workspace:
    """All sandbox data.  Public dicts map gid → record and are meant for reading:

    ``users``, ``teams``, ``projects``, ``sections``, ``portfolios``, ``custom_fields``,
    ``custom_field_settings``, ``tasks`` (live tasks only — deleted ones leave), ``budgets``,
    ``status_updates``, ``stories``; ``deleted_task_gids`` remembers what was deleted;
    ``asana_workspace`` is the one Asana workspace; ``me`` the user the API token belongs to;
    ``events`` the event log.

    ``now`` is the clock for every timestamp a mutation writes; ``today`` is the date the
    generator spreads dates around (default: the clock's date).
    """

    def __init__(
        self,
        *,
        name: str = "Sandbox Org",
        now: Callable[[], datetime] | None = None,
        today: date | None = None,
        first_gid: int = FIRST_GID,
    ) -> None:
        self.lock = threading.RLock()
        self.now: Callable[[], datetime] = now or _utc_now
        self.today: date = today or self.now().astimezone(UTC).date()
        self._next_gid = first_gid
        self.asana_workspace = AsanaWorkspace(self.new_gid(), name)
        self.users: dict[str, User] = {}
        self.me_gid = ""
        self.teams: dict[str, Team] = {}
        self.projects: dict[str, Project] = {}
        self.sections: dict[str, Section] = {}
        self.portfolios: dict[str, Portfolio] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self.custom_field_settings: dict[str, CustomFieldSetting] = {}
        self.tasks: dict[str, Task] = {}
        self.budgets: dict[str, Budget] = {}
        self.status_updates: dict[str, StatusUpdate] = {}
        self.stories: dict[str, Story] = {}
        self.deleted_task_gids: set[str] = set()
        self.hidden_task_gids: set[str] = set()  # the token's user may not read these (403)
        self.events = EventLog()
        self._members: dict[str, list[int]] = {}
        self._task_stories: dict[str, list[int]] = {}
        self._next_story_gid = FIRST_STORY_GID

    # ------------------------------------------------------------------ building (no events)

    def new_gid(self) -> str:
        """The next gid: numeric strings, increasing, deterministic."""
        with self.lock:
            gid = str(self._next_gid)
            self._next_gid += 1
            return gid

    def new_user(self, name: str, email: str, *, me: bool = False) -> User:
        """Add a user; the first one (or one with ``me=True``) is the token's owner."""
        with self.lock:
            user = User(self.new_gid(), name, email)
            self.users[user.gid] = user
            if me or not self.me_gid:
                self.me_gid = user.gid
            return user

    def new_team(self, name: str, description: str = "") -> Team:
        with self.lock:
            team = Team(self.new_gid(), name, self.asana_workspace.gid, description)
            self.teams[team.gid] = team
            return team

    def new_custom_field(
        self,
        name: str,
        type_: CustomFieldType,
        *,
        precision: int = 0,
        options: Iterable[tuple[str, str]] = (),
        description: str = "",
        created_at: datetime | None = None,
    ) -> CustomField:
        """Add a workspace custom field; ``options`` are (name, color) pairs for enum types."""
        with self.lock:
            gid = self.new_gid()
            enum_options = tuple(EnumOption(self.new_gid(), n, color) for n, color in options)
            field = CustomField(
                gid, name, type_, self.asana_workspace.gid, created_at or self.now(),
                precision=precision, description=description, enum_options=enum_options,
            )
            self.custom_fields[gid] = field
            return field

    def new_project(
        self,
        name: str,
        *,
        team_gid: str,
        owner_gid: str | None,
        created_at: datetime | None = None,
        sections: Iterable[str] = ("Untitled section",),
        custom_field_gids: Iterable[str] = (),
        **fields: Any,
    ) -> Project:
        """Add a project with its sections and custom field settings.  ``fields`` are further
        `Project` attributes (notes, color, start_on, due_on, archived…)."""
        with self.lock:
            created = created_at or self.now()
            project = Project(self.new_gid(), name, self.asana_workspace.gid, team_gid, owner_gid,
                              created, created, **fields)
            self.projects[project.gid] = project
            self._members[project.gid] = []
            for section_name in sections:
                self.new_section(project.gid, section_name, created_at=created)
            for field_gid in custom_field_gids:
                setting = CustomFieldSetting(self.new_gid(), project.gid, field_gid)
                self.custom_field_settings[setting.gid] = setting
                project.custom_field_setting_gids.append(setting.gid)
            return project

    def new_section(self, project_gid: str, name: str, *, created_at: datetime | None = None) -> Section:
        with self.lock:
            project = self.get_project(project_gid)
            section = Section(self.new_gid(), name, project_gid, created_at or self.now())
            self.sections[section.gid] = section
            project.section_gids.append(section.gid)
            return section

    def new_portfolio(self, name: str, *, owner_gid: str, project_gids: Iterable[str] = (),
                      created_at: datetime | None = None) -> Portfolio:
        with self.lock:
            portfolio = Portfolio(self.new_gid(), name, self.asana_workspace.gid, owner_gid,
                                  created_at or self.now(), project_gids=list(project_gids))
            self.portfolios[portfolio.gid] = portfolio
            return portfolio

    def new_budget(self, parent_gid: str, budget_type: str, *, estimate: float | None,
                   actual: float, total: float | None) -> Budget:
        """Add a budget on a project: ``time`` values in minutes, ``cost`` values in USD."""
        with self.lock:
            self.get_project(parent_gid)
            if budget_type not in ("time", "cost"):
                raise InvalidRequest(f"budget_type: {budget_type!r} is not one of time, cost")
            budget = Budget(
                self.new_gid(), parent_gid, "time" if budget_type == "time" else "cost",
                estimate=BudgetPart(estimate, enabled=estimate is not None,
                                    source="tasks" if estimate is not None else "none",
                                    billable_status_filter="any"),
                actual=BudgetPart(actual, billable_status_filter="any"),
                total=BudgetPart(total, enabled=total is not None),
            )
            self.budgets[budget.gid] = budget
            return budget

    def insert_task(self, task: Task) -> Task:
        """Store a fully built task (its gid from `new_gid`) and index it: project membership,
        the parent's ``subtask_gids`` and the dependency back-links.  No events, no timestamps."""
        with self.lock:
            self.tasks[task.gid] = task
            number = int(task.gid)
            for membership in task.memberships:
                members = self._members[membership.project_gid]
                if not members or members[-1] < number:
                    members.append(number)
                else:
                    bisect.insort(members, number)
            if task.parent_gid is not None:
                parent = self.tasks[task.parent_gid]
                parent.subtask_gids = (*parent.subtask_gids, task.gid)
            for dep_gid in task.dependency_gids:
                dep = self.tasks[dep_gid]
                dep.dependent_gids = (*dep.dependent_gids, task.gid)
            return task

    def insert_membership(self, task_gid: str, project_gid: str, section_gid: str | None) -> None:
        """Make a stored task a member of one more project, without events or timestamps."""
        with self.lock:
            task = self.get_task(task_gid)
            if project_gid in task.project_gids:
                return
            task.memberships = (*task.memberships, Membership(project_gid, section_gid))
            bisect.insort(self._members[project_gid], int(task_gid))

    def insert_story(
        self,
        task_gid: str,
        resource_subtype: str,
        created_at: datetime,
        *,
        created_by_gid: str | None = None,
        new_section_gid: str | None = None,
        old_section_gid: str | None = None,
        project_gid: str | None = None,
        assignee_gid: str | None = None,
    ) -> Story:
        """Record a system story on a task, without events or timestamps.  A task's stories are
        kept in the order they are inserted, which must be the order of ``created_at``."""
        with self.lock:
            if task_gid not in self.tasks:
                raise NotFoundError(f"task: Unknown object: {task_gid}")
            number = self._next_story_gid
            self._next_story_gid += 1
            story = Story(str(number), task_gid, created_at, resource_subtype, created_by_gid,
                          new_section_gid, old_section_gid, project_gid, assignee_gid)
            self.stories[story.gid] = story
            self._task_stories.setdefault(task_gid, []).append(number)
            return story

    # ------------------------------------------------------------------ accessors

    @property
    def me(self) -> User:
        """The user the sandbox token belongs to (``/users/me``)."""
        return self.users[self.me_gid]

    def get_task(self, gid: str) -> Task:
        return self._get(self.tasks, gid, "task")

    def get_project(self, gid: str) -> Project:
        return self._get(self.projects, gid, "project")

    def get_user(self, gid: str) -> User:
        """A user by gid, email, or ``"me"``."""
        with self.lock:
            if gid == "me":
                return self.me
            for user in self.users.values():
                if user.email == gid:
                    return user
            return self._get(self.users, gid, "user")

    def get_section(self, gid: str) -> Section:
        return self._get(self.sections, gid, "section")

    def get_custom_field(self, gid_or_name: str) -> CustomField:
        """A custom field by gid or exact name."""
        with self.lock:
            if gid_or_name in self.custom_fields:
                return self.custom_fields[gid_or_name]
            for field in self.custom_fields.values():
                if field.name == gid_or_name:
                    return field
            raise NotFoundError(f"custom_field: Unknown object: {gid_or_name}")

    def project_member_gids(self, project_gid: str) -> list[str]:
        """Gids of the tasks that are direct members of the project, in gid order."""
        with self.lock:
            self.get_project(project_gid)
            return [str(n) for n in self._members[project_gid]]

    def member_index(self, project_gid: str) -> list[int]:
        """The project's member gids as sorted ints (the live index — read it under ``lock``)."""
        self.get_project(project_gid)
        return self._members[project_gid]

    def descendant_gids(self, task_gid: str) -> list[str]:
        """Gids of all subtasks of the task, at any depth, parents before children."""
        with self.lock:
            out: list[str] = []
            stack = list(reversed(self.get_task(task_gid).subtask_gids))
            while stack:
                gid = stack.pop()
                out.append(gid)
                stack.extend(reversed(self.tasks[gid].subtask_gids))
            return out

    def project_task_gids(self, project_gid: str) -> set[str]:
        """The project's task set as the KPI definitions use it: members plus their subtasks at
        any depth, not deleted."""
        with self.lock:
            out: set[str] = set()
            for gid in self.project_member_gids(project_gid):
                out.add(gid)
                out.update(self.descendant_gids(gid))
            return out

    def task_custom_field_gids(self, task: Task) -> list[str]:
        """Custom fields a task shows: those of its projects' settings, then any other field that
        holds a value on it (subtasks outside projects carry their own values)."""
        seen: dict[str, None] = {}
        for membership in task.memberships:
            project = self.projects.get(membership.project_gid)
            if project is None:
                continue
            for setting_gid in project.custom_field_setting_gids:
                seen[self.custom_field_settings[setting_gid].custom_field_gid] = None
        for field_gid in task.custom_values:
            seen[field_gid] = None
        return list(seen)

    def custom_value(self, task_gid: str, field: str) -> CustomValue | None:
        """The raw value of custom field ``field`` (gid or name) on a task, or ``None``."""
        with self.lock:
            return self.get_task(task_gid).custom_values.get(self.get_custom_field(field).gid)

    def stories_for(self, task_gid: str) -> list[Story]:
        """The task's stories, oldest first."""
        with self.lock:
            return [self.stories[str(n)] for n in self.story_index(task_gid)]

    def story_index(self, task_gid: str) -> list[int]:
        """The task's story gids as sorted ints (the live index — read it under ``lock``)."""
        self.get_task(task_gid)
        return self._task_stories.get(task_gid, [])

    def budgets_for(self, parent_gid: str) -> list[Budget]:
        with self.lock:
            return [b for b in self.budgets.values() if b.parent_gid == parent_gid]

    def status_updates_for(self, parent_gid: str) -> list[StatusUpdate]:
        """Status updates posted on a project or portfolio, oldest first."""
        with self.lock:
            return [s for s in self.status_updates.values() if s.parent_gid == parent_gid]

    def read_events(self, resource_gid: str, sync: str | None) -> tuple[list[Event], str, bool]:
        """``/events`` for a task or project: (events, next sync token, has_more).  Raises
        `tpmsync.sandbox.events.InvalidSyncToken` (→ 412) for a missing or stale token."""
        with self.lock:
            if resource_gid not in self.tasks and resource_gid not in self.projects:
                raise NotFoundError(f"resource: Unknown object: {resource_gid}")
            return self.events.read(resource_gid, sync)

    def expire_sync_tokens(self) -> None:
        """Every sync token issued so far is answered with 412 (and a fresh token) from now on."""
        with self.lock:
            self.events.expire_tokens()

    # ------------------------------------------------------------------ task mutations

    def add_task(self, project_gid: str, *, section_gid: str | None = None, **fields: Any) -> Task:
        """Create a task in a project (section default: the project's first).  ``fields``: name,
        notes, due_on, due_at, start_on, start_at, assignee (gid / "me" / None),
        resource_subtype, completed, custom_fields ({field gid or name: value}),
        actual_time_minutes.  Emits ``added`` with the project as parent."""
        with self.lock:
            project = self.get_project(project_gid)
            section = self._section_in(project, section_gid)
            task = self._new_task(fields)
            task.memberships = (Membership(project_gid, section),)
            self.insert_task(task)
            self._emit("added", self._task_ref(task), self._project_ref(project), None,
                       self._task_streams(task) | {project_gid})
            return task

    def add_subtask(self, parent_gid: str, **fields: Any) -> Task:
        """Create a subtask (same fields as `add_task`).  Emits ``added`` with the parent task as
        parent; the parent's ``num_subtasks`` and ``modified_at`` change."""
        with self.lock:
            parent = self.get_task(parent_gid)
            task = self._new_task(fields)
            task.parent_gid = parent_gid
            self.insert_task(task)
            parent.modified_at = task.created_at
            self._emit("added", self._task_ref(task), self._task_ref(parent), None, self._task_streams(task))
            return task

    def edit_task(self, gid: str, **fields: Any) -> Task:
        """Change task fields (see `add_task`); one ``changed`` event per field that changed."""
        with self.lock:
            task = self.get_task(gid)
            was_completed, was_assignee = task.completed, task.assignee_gid
            changes = self._apply_task_fields(task, fields)
            if changes:
                task.modified_at = now = self.now()
                streams = self._task_streams(task)
                for change in changes:
                    self._emit("changed", self._task_ref(task), None, change, streams)
                if task.completed != was_completed:
                    self._system_story(task, "marked_complete" if task.completed else "marked_incomplete", now)
                if task.assignee_gid != was_assignee:
                    self._system_story(task, "assigned" if task.assignee_gid else "unassigned", now,
                                       assignee_gid=task.assignee_gid)
            return task

    def complete_task(self, gid: str, completed: bool = True) -> Task:
        """Mark a task complete (``completed_at`` = now) or incomplete again."""
        return self.edit_task(gid, completed=completed)

    def hide_task(self, gid: str, hidden: bool = True) -> Task:
        """The token's user loses access to a task (as when it lives only in a project they cannot
        see): reading it answers 403, while the tasks that depend on it still name it. With
        ``hidden=False`` the access comes back."""
        with self.lock:
            task = self.get_task(gid)
            if hidden:
                self.hidden_task_gids.add(gid)
            else:
                self.hidden_task_gids.discard(gid)
            return task

    def delete_task(self, gid: str) -> None:
        """Delete a task and all its subtasks: ``deleted`` events, gone from ``tasks`` (404 from
        the API), dependency links to them dropped, the parent's ``num_subtasks`` reduced."""
        with self.lock:
            task = self.get_task(gid)
            doomed = [gid, *self.descendant_gids(gid)]
            for doomed_gid in doomed:
                victim = self.tasks[doomed_gid]
                self._emit("deleted", self._task_ref(victim), None, None, self._task_streams(victim))
            now = self.now()
            if task.parent_gid is not None:
                parent = self.tasks[task.parent_gid]
                parent.subtask_gids = tuple(g for g in parent.subtask_gids if g != gid)
                parent.modified_at = now
            gone = set(doomed)
            for doomed_gid in doomed:
                victim = self.tasks.pop(doomed_gid)
                self.deleted_task_gids.add(doomed_gid)
                for story_number in self._task_stories.pop(doomed_gid, []):
                    del self.stories[str(story_number)]
                for membership in victim.memberships:
                    self._members[membership.project_gid].remove(int(doomed_gid))
                for other_gid in (*victim.dependency_gids, *victim.dependent_gids):
                    other = self.tasks.get(other_gid)
                    if other is not None and other_gid not in gone:
                        other.dependency_gids = tuple(g for g in other.dependency_gids if g not in gone)
                        other.dependent_gids = tuple(g for g in other.dependent_gids if g not in gone)

    def add_to_project(self, gid: str, project_gid: str, section_gid: str | None = None) -> Task:
        """Make a task a member of (another) project.  Emits ``added`` with the project as
        parent; for a task already in the project it only moves it to ``section_gid``."""
        with self.lock:
            task = self.get_task(gid)
            project = self.get_project(project_gid)
            section = self._section_in(project, section_gid)
            if project_gid in task.project_gids:
                if section is not None and section_gid is not None:
                    self.move_to_section(gid, section)
                return task
            task.memberships = (*task.memberships, Membership(project_gid, section))
            bisect.insort(self._members[project_gid], int(gid))
            task.modified_at = now = self.now()
            self._emit("added", self._task_ref(task), self._project_ref(project), None,
                       self._task_streams(task))
            self._system_story(task, "added_to_project", now, project_gid=project_gid)
            return task

    def move_to_section(self, gid: str, section_gid: str) -> Task:
        """Move a task to another section of one of its projects (what Asana's
        ``POST /sections/{section_gid}/addTask`` does); a no-op when it is already there.

        Records a ``section_changed`` story (``old_section`` → ``new_section``) at the clock's
        time, and emits on the streams that see the task: ``removed`` with the old section as
        parent, ``added`` with the new section as parent (both only on the task's and that
        project's streams, since the sections belong to that project), then ``added`` for the
        new story with the task as parent (on every stream of the task, as other story events).

        ``modified_at`` does not change.  The reference disagrees with itself here: the task's
        ``modified_at`` lists "moving to a new container (project, portfolio, etc)" under what
        does *not* change it but "story is created on a task" under what does, and
        ``modified_since`` counts changed associations.  The sandbox takes the stricter reading
        (as Asana is observed to behave for section moves), so a client that relies on
        ``modified_since`` misses section moves and must follow the events stream.
        """
        with self.lock:
            task = self.get_task(gid)
            section = self.get_section(section_gid)
            project_gid = section.project_gid
            current = next((m for m in task.memberships if m.project_gid == project_gid), None)
            if current is None:
                raise InvalidRequest(f"task {gid} is not in project {project_gid}, the project of section "
                                     f"{section_gid}")
            if current.section_gid == section_gid:
                return task
            task.memberships = tuple(Membership(project_gid, section_gid) if m is current else m
                                     for m in task.memberships)
            now = self.now()
            streams = frozenset({gid, project_gid})
            if current.section_gid is not None:
                old = self.sections[current.section_gid]
                self._emit("removed", self._task_ref(task), self._section_ref(old), None, streams)
            self._emit("added", self._task_ref(task), self._section_ref(section), None, streams)
            story = self.insert_story(gid, "section_changed", now, created_by_gid=self.me_gid or None,
                                      new_section_gid=section_gid, old_section_gid=current.section_gid)
            self._emit("added", ResourceRef(story.gid, "story", None, story.resource_subtype),
                       self._task_ref(task), None, self._task_streams(task))
            return task

    def remove_from_project(self, gid: str, project_gid: str) -> Task:
        """Take a task out of a project (no-op when it is not a member).  Emits ``removed`` with
        the project as parent, seen by the project's stream."""
        with self.lock:
            task = self.get_task(gid)
            project = self.get_project(project_gid)
            if project_gid not in task.project_gids:
                return task
            streams = self._task_streams(task)
            task.memberships = tuple(m for m in task.memberships if m.project_gid != project_gid)
            self._members[project_gid].remove(int(gid))
            task.modified_at = now = self.now()
            self._emit("removed", self._task_ref(task), self._project_ref(project), None, streams)
            self._system_story(task, "removed_from_project", now, project_gid=project_gid)
            return task

    def move_task(self, gid: str, from_project: str, to_project: str, section_gid: str | None = None) -> Task:
        """Move a task from one project to another: ``removed`` then ``added``."""
        with self.lock:
            if from_project not in self.get_task(gid).project_gids:
                raise InvalidRequest(f"task {gid} is not in project {from_project}")
            self.get_project(to_project)
            self.remove_from_project(gid, from_project)
            return self.add_to_project(gid, to_project, section_gid)

    def add_dependency(self, task_gid: str, depends_on_gid: str) -> Task:
        """``task_gid`` now depends on ``depends_on_gid`` (anywhere in the workspace).  Cycles are
        allowed so KPI code can be tested against them.  Both tasks are modified and get a
        ``changed`` event (``dependencies`` / ``dependents``)."""
        return self._set_dependency(task_gid, depends_on_gid, add=True)

    def remove_dependency(self, task_gid: str, depends_on_gid: str) -> Task:
        """Drop the dependency edge (no-op when absent)."""
        return self._set_dependency(task_gid, depends_on_gid, add=False)

    # ------------------------------------------------------------------ project and status

    def edit_project(self, gid: str, **fields: Any) -> Project:
        """Change project fields: name, notes, due_on, start_on, archived, color, owner, completed,
        public.  One ``changed`` event per field that changed."""
        with self.lock:
            project = self.get_project(gid)
            unknown = set(fields) - PROJECT_FIELDS
            if unknown:
                raise InvalidRequest(f"Unknown project field(s): {', '.join(sorted(unknown))}")
            now = self.now()
            changed: list[str] = []
            for name, raw in fields.items():
                attr, value = self._coerce_project_field(name, raw)
                if getattr(project, attr) != value:
                    setattr(project, attr, value)
                    changed.append(name)
                    if name == "completed":
                        project.completed_at = now if value else None
            if changed:
                project.modified_at = now
                for name in changed:
                    self._emit("changed", self._project_ref(project), None,
                               {"field": name, "action": "changed"}, frozenset({gid}))
            return project

    def add_status_update(
        self,
        parent_gid: str,
        *,
        status_type: str,
        title: str = "",
        text: str | None = None,
        html_text: str | None = None,
        author_gid: str | None = None,
    ) -> StatusUpdate:
        """Post a status update on a project or portfolio (what ``POST /status_updates`` does);
        it becomes the parent's ``current_status_update``."""
        with self.lock:
            parent: Project | Portfolio
            if parent_gid in self.projects:
                parent, subtype = self.projects[parent_gid], "project_status_update"
            elif parent_gid in self.portfolios:
                parent, subtype = self.portfolios[parent_gid], "portfolio_status_update"
            else:
                raise NotFoundError(f"parent: Unknown object: {parent_gid}")
            if status_type not in STATUS_TYPES:
                raise InvalidRequest(f"status_type: {status_type!r} is not one of {', '.join(STATUS_TYPES)}")
            if not text and not html_text:
                raise InvalidRequest("text: Missing input (give text or html_text)")
            if not text:
                text = html.unescape(re.sub(r"<[^>]+>", "", html_text or "")).strip()
            if not html_text:
                html_text = f"<body>{html.escape(text)}</body>"
            now = self.now()
            update = StatusUpdate(self.new_gid(), parent_gid, subtype, status_type, title, text, html_text,
                                  author_gid or self.me_gid, now, now)
            self.status_updates[update.gid] = update
            parent.current_status_update_gid = update.gid
            return update

    # ------------------------------------------------------------------ internals

    def _get(self, mapping: Mapping[str, _T], gid: str, kind: str) -> _T:
        try:
            return mapping[gid]
        except KeyError:
            raise NotFoundError(f"{kind}: Unknown object: {gid}") from None

    def _coerce_project_field(self, name: str, raw: Any) -> tuple[str, Any]:
        if name in ("due_on", "start_on"):
            return name, parse_date(raw, name)
        if name == "owner":
            return "owner_gid", None if raw is None else self.get_user(str(raw)).gid
        if name in ("archived", "completed", "public"):
            return name, bool(raw)
        return name, str(raw)

    def _section_in(self, project: Project, section_gid: str | None) -> str | None:
        if section_gid is None:
            return project.section_gids[0] if project.section_gids else None
        if section_gid not in project.section_gids:
            raise InvalidRequest(f"section: {section_gid} is not a section of project {project.gid}")
        return section_gid

    def _new_task(self, fields: dict[str, Any]) -> Task:
        now = self.now()
        task = Task(self.new_gid(), "", self.asana_workspace.gid, now, now)
        fields = {"name": "New task", **fields}
        self._apply_task_fields(task, fields)
        return task

    def _apply_task_fields(self, task: Task, fields: dict[str, Any]) -> list[dict[str, Any]]:
        """Set task fields; returns the event ``change`` objects of what really changed."""
        unknown = set(fields) - TASK_FIELDS
        if unknown:
            raise InvalidRequest(f"Unknown task field(s): {', '.join(sorted(unknown))}")
        changes: list[dict[str, Any]] = []
        for name, raw in fields.items():
            if name == "custom_fields":
                changes.extend(self._apply_custom_values(task, raw))
                continue
            attr, value = self._coerce_task_field(name, raw)
            if name == "resource_subtype" and value not in TASK_SUBTYPES:
                raise InvalidRequest(f"resource_subtype: {value!r} is not one of {', '.join(TASK_SUBTYPES)}")
            if getattr(task, attr) == value:
                continue
            setattr(task, attr, value)
            change: dict[str, Any] = {"field": name, "action": "changed"}
            if name == "assignee" and value is not None:
                change["new_value"] = {"gid": value, "resource_type": "user"}
            if name == "completed":
                task.completed_at = self.now() if value else None
                task.completed_by_gid = self.me_gid if value else None
            elif name == "due_at":
                task.due_on = value.date() if isinstance(value, datetime) else task.due_on
            elif name == "due_on":
                task.due_at = None
            elif name == "start_at":
                task.start_on = value.date() if isinstance(value, datetime) else task.start_on
            elif name == "start_on":
                task.start_at = None
            changes.append(change)
        return changes

    def _coerce_task_field(self, name: str, raw: Any) -> tuple[str, Any]:
        if name in ("due_on", "start_on"):
            return name, parse_date(raw, name)
        if name in ("due_at", "start_at"):
            return name, parse_datetime(raw, name)
        if name == "assignee":
            return "assignee_gid", None if raw is None else self.get_user(str(raw)).gid
        if name == "completed":
            return name, bool(raw)
        if name == "actual_time_minutes":
            return name, None if raw is None else float(raw)
        if not isinstance(raw, str):
            raise InvalidRequest(f"{name}: expected a string, got {raw!r}")
        return name, raw

    def _apply_custom_values(self, task: Task, values: Any) -> Iterator[dict[str, Any]]:
        if not isinstance(values, Mapping):
            raise InvalidRequest("custom_fields: expected an object {field gid or name: value}")
        for key, raw in values.items():
            field = self.get_custom_field(str(key))
            value = self._coerce_custom_value(field, raw)
            if task.custom_values.get(field.gid) == value:
                continue
            if value is None:
                del task.custom_values[field.gid]
            else:
                task.custom_values[field.gid] = value
            yield {"field": "custom_fields", "action": "changed",
                   "new_value": {"gid": field.gid, "resource_type": "custom_field"}}

    def _coerce_custom_value(self, field: CustomField, raw: Any) -> CustomValue | None:
        if raw is None:
            return None
        what = f"custom_fields.{field.name}"
        try:
            if field.type == "number":
                return float(raw)
            if field.type == "text":
                return str(raw)
            if field.type == "date":
                parsed = parse_date(raw, what)
                return None if parsed is None else parsed.isoformat()
            if field.type == "people":
                items = [raw] if isinstance(raw, str) else list(raw)
                return tuple(self.get_user(str(u)).gid for u in items)
            if field.type == "enum":
                return self._option_gid(field, str(raw))
            items = [raw] if isinstance(raw, str) else list(raw)
            return tuple(self._option_gid(field, str(o)) for o in items)
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"{what}: invalid value {raw!r}") from exc

    def _option_gid(self, field: CustomField, gid_or_name: str) -> str:
        option = field.option(gid_or_name)
        if option is None:
            raise InvalidRequest(f"custom_fields.{field.name}: unknown enum option {gid_or_name!r}")
        return option.gid

    def _set_dependency(self, task_gid: str, depends_on_gid: str, *, add: bool) -> Task:
        with self.lock:
            task, dep = self.get_task(task_gid), self.get_task(depends_on_gid)
            if task_gid == depends_on_gid:
                raise InvalidRequest("dependencies: a task cannot depend on itself")
            if (depends_on_gid in task.dependency_gids) == add:
                return task
            if add:
                task.dependency_gids = (*task.dependency_gids, depends_on_gid)
                dep.dependent_gids = (*dep.dependent_gids, task_gid)
            else:
                task.dependency_gids = tuple(g for g in task.dependency_gids if g != depends_on_gid)
                dep.dependent_gids = tuple(g for g in dep.dependent_gids if g != task_gid)
            now = self.now()
            task.modified_at = dep.modified_at = now
            action = "added" if add else "removed"
            value_key = "added_value" if add else "removed_value"
            for subject, other, field in ((task, dep, "dependencies"), (dep, task, "dependents")):
                change = {"field": field, "action": action,
                          value_key: {"gid": other.gid, "resource_type": "task"}}
                self._emit("changed", self._task_ref(subject), None, change, self._task_streams(subject))
            return task

    def _task_streams(self, task: Task) -> frozenset[str]:
        """Streams that see an event on ``task``: the task, its ancestors, and every project the
        task or any ancestor is a member of."""
        streams: set[str] = set()
        current: Task | None = task
        while current is not None:
            streams.add(current.gid)
            streams.update(current.project_gids)
            current = self.tasks.get(current.parent_gid) if current.parent_gid else None
        return frozenset(streams)

    def _system_story(self, task: Task, subtype: str, at: datetime, **refs: str | None) -> None:
        """Record the story a mutation leaves on a task.  Asana also announces every new story
        with an ``added`` event (resource: the story, parent: the task); the sandbox sends that
        event only for section moves (`move_to_section`), so the streams of its older mutations
        stay as they were."""
        self.insert_story(task.gid, subtype, at, created_by_gid=self.me_gid or None, **refs)

    def story_text(self, story: Story) -> str:
        """The human-readable text Asana writes for a system story (without the creator's name)."""
        subtype = story.resource_subtype
        if subtype == "section_changed":
            new = self.sections.get(story.new_section_gid or "")
            old = self.sections.get(story.old_section_gid or "")
            project = self.projects.get(new.project_gid) if new is not None else None
            where = f" in {project.name}" if project is not None else ""
            if old is None:
                return f'moved this task to "{new.name if new else ""}"{where}'
            return f'moved this task from "{old.name}" to "{new.name if new else ""}"{where}'
        if subtype in ("added_to_project", "removed_from_project"):
            project = self.projects.get(story.project_gid or "")
            name = project.name if project is not None else ""
            return f"added to {name}" if subtype == "added_to_project" else f"removed from {name}"
        if subtype == "assigned":
            user = self.users.get(story.assignee_gid or "")
            return f"assigned to {user.name if user else 'someone'}"
        return {"marked_complete": "marked this task complete", "marked_incomplete": "marked incomplete",
                "unassigned": "unassigned"}.get(subtype, subtype.replace("_", " "))

    def _section_ref(self, section: Section) -> ResourceRef:
        return ResourceRef(section.gid, "section", section.name)

    def _task_ref(self, task: Task) -> ResourceRef:
        return ResourceRef(task.gid, "task", task.name, task.resource_subtype)

    def _project_ref(self, project: Project) -> ResourceRef:
        return ResourceRef(project.gid, "project", project.name)

    def _emit(self, action: str, resource: ResourceRef, parent: ResourceRef | None,
              change: dict[str, Any] | None, streams: Iterable[str]) -> None:
        self.events.append(created_at=self.now(), user_gid=self.me_gid or None, action=action,
                           resource=resource, parent=parent, change=change, streams=frozenset(streams))
