"""Store → KPI inputs, the use case between `store` and `kpi`. Reads with a few set-based queries
and builds each project's task set.

A project's tasks are its live members plus their subtasks at any depth, not deleted
(docs/kpis.md). Dates of `*_at` timestamps are taken in the configured time zone.

For an `as_of` in the past the store's history turns the clock back: tasks created after it are
left out; tasks deleted or removed from the project after it are put back; completions after it
are undone, and a task reopened (or completed again) after it has the completion it had then;
due and start dates are the ones in force on that day. Actual hours have no history: a task not
modified since that day had the actuals it has now; for one modified since they are unknown, and
AC is null then (never today's spending set against that day's earned value, nor a made-up 0);
estimates are taken as they are now.

A task's estimate and actual hours in a project are the values of the `[budget]` fields of that
project (`_Hours`); people read a task's estimate through the project it was loaded through.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tpmsync.config import Settings
from tpmsync.kpi.model.inputs import AsanaBudget, ProjectInput, TaskInput
from tpmsync.kpi_inputs_history import NO_PAIR, Pair, completion_history, completion_then, date_history
from tpmsync.store.models import (
    CustomField,
    CustomFieldValue,
    Project,
    ProjectBudget,
    ProjectCustomField,
    Task,
    TaskDependency,
    TaskProject,
    User,
)

T = TypeVar("T")


@dataclass(frozen=True)
class _Row:
    gid: str
    name: str
    completed: bool
    completed_at: datetime | None
    due_on: date | None
    due_at: datetime | None
    start_on: date | None
    start_at: datetime | None
    created_at: datetime | None
    modified_at: datetime | None
    assignee_gid: str | None
    parent_gid: str | None
    resource_subtype: str
    actual_time_minutes: float | None
    permalink_url: str | None
    deleted_at: datetime | None


class _Clock:
    """Converts naive-UTC timestamps to dates in the configured zone."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.utc = ZoneInfo("UTC")

    def day(self, value: datetime | None) -> date | None:
        if value is None:
            return None
        return value.replace(tzinfo=self.utc).astimezone(self.zone).date()

    def end_of(self, day: date) -> datetime:
        """The last instant of `day` in the zone, as naive UTC."""
        local = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone)
        return local.astimezone(self.utc).replace(tzinfo=None) - timedelta(microseconds=1)


def load_projects(
    session: Session, settings: Settings, projects: Sequence[Project], as_of: date | None = None
) -> list[ProjectInput]:
    """KPI inputs for `projects`; `as_of` in the past reconstructs that day from history."""
    clock = _Clock(settings.kpi.timezone)
    cutoff = clock.end_of(as_of) if as_of is not None else None
    rows = _task_rows(session)
    members = _members(session, cutoff)
    children: dict[str, list[str]] = defaultdict(list)
    for row in rows.values():
        if row.parent_gid and _alive(row, cutoff):
            children[row.parent_gid].append(row.gid)
    deps = _dependencies(session)
    estimates, actuals = _custom_numbers(session, settings)
    users = {gid: name for gid, name in session.execute(select(User.gid, User.name))}
    due_history = date_history(session, clock.day, "due", _dates_now(rows, "due"))
    start_history = date_history(session, clock.day, "start", _dates_now(rows, "start")) if cutoff is not None else {}
    completions = completion_history(session) if cutoff is not None else {}
    project_names = {gid: name for gid, name in session.execute(select(Project.gid, Project.name))}
    home = _home_projects(session)
    budgets = _budgets(session)

    def task_input(row: _Row, through: str | None, *, project_gid: str | None = None) -> TaskInput:
        """`row` as a task of the project `through` (whose estimate and actual fields it reads)."""
        completed_on = clock.day(row.completed_at)
        completed = row.completed
        history = due_history.get(row.gid, ())
        due = clock.day(row.due_at) if row.due_at is not None else row.due_on
        start = clock.day(row.start_at) if row.start_at is not None else row.start_on
        if cutoff is not None and as_of is not None:
            then = completion_then(completions.get(row.gid, ()), cutoff, row.completed_at)
            if then != row.completed_at:  # completed, reopened or completed again after that day
                completed, completed_on = then is not None, clock.day(then)
            if completed and completed_on is not None and completed_on > as_of:
                completed, completed_on = False, None
            later = [c for c in history if c.observed_on > as_of]
            if later:
                due = later[0].old_due
            history = tuple(c for c in history if c.observed_on <= as_of)
            start = next((c.old_due for c in start_history.get(row.gid, ()) if c.observed_on > as_of), start)
        # custom field values have no history: a task's actuals now were its actuals then only when
        # it has not changed since (Asana moves modified_at with every field); else they are unknown
        known = cutoff is None or (row.modified_at is not None and row.modified_at <= cutoff)
        return TaskInput(
            gid=row.gid,
            name=row.name,
            completed=completed,
            completed_on=completed_on,
            due=due,
            start=start,
            assignee_gid=row.assignee_gid,
            assignee_name=users.get(row.assignee_gid) if row.assignee_gid else None,
            parent_gid=row.parent_gid,
            is_milestone=row.resource_subtype == "milestone",
            estimate_hours=estimates.of(row.gid, through),
            actual_hours=actuals.of(row.gid, through) if known else None,
            actual_time_minutes=row.actual_time_minutes if known else None,
            actuals_known=known,
            dependency_gids=tuple(deps.get(row.gid, ())),
            modified_on=clock.day(row.modified_at),
            project_gid=project_gid,
            project_name=project_names.get(project_gid) if project_gid else None,
            permalink_url=row.permalink_url,
            due_history=history,
        )

    sets = [_task_set(members.get(project.gid, ()), rows, children, cutoff) for project in projects]
    in_sets = Counter(gid for seen in sets for gid in seen)
    out: list[ProjectInput] = []
    for project, seen in zip(projects, sets, strict=True):
        tasks = [task_input(rows[g], project.gid) for g in sorted(seen)]
        outside_gids = sorted({d for t in tasks for d in t.dependency_gids if d not in seen and d in rows})
        outside = [
            task_input(rows[g], home.get(g), project_gid=home.get(g)) for g in outside_gids if _alive(rows[g], cutoff)
        ]
        budget = budgets.get(project.gid)
        out.append(
            ProjectInput(
                gid=project.gid,
                name=project.name,
                tasks=tasks,
                due_on=project.due_on,
                outside_tasks=outside,
                asana_budget=budget,
                rate=_per_project(settings.budget.project_rates, project, settings.budget.rate),
                currency=_per_project(settings.budget.project_currencies, project, settings.budget.currency),
                permalink_url=project.permalink_url,
                shared_gids=frozenset(g for g in seen if in_sets[g] > 1),
            )
        )
    return out


def _dates_now(rows: Mapping[str, _Row], name: str) -> Callable[[str], Pair]:
    """A task's (`{name}_on`, `{name}_at`) as the store has it now."""

    def now(gid: str) -> Pair:
        row = rows.get(gid)
        return NO_PAIR if row is None else (getattr(row, f"{name}_on"), getattr(row, f"{name}_at"))

    return now


def _task_set(
    members: Iterable[str], rows: Mapping[str, _Row], children: Mapping[str, list[str]], cutoff: datetime | None
) -> set[str]:
    """A project's task set: its members alive then, plus their subtasks at any depth, each once."""
    seen: set[str] = set()
    stack = [g for g in members if g in rows and _alive(rows[g], cutoff)]
    while stack:
        gid = stack.pop()
        if gid in seen:
            continue
        seen.add(gid)
        stack.extend(children.get(gid, ()))
    return seen


def _per_project(table: Mapping[str, T], project: Project, default: T) -> T:
    """A per-project override keyed by gid or exact name, else the default."""
    return table.get(project.gid, table.get(project.name, default))


def _alive(row: _Row, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return row.deleted_at is None
    if row.created_at is not None and row.created_at > cutoff:
        return False
    return row.deleted_at is None or row.deleted_at > cutoff


def _task_rows(session: Session) -> dict[str, _Row]:
    columns = [getattr(Task, f) for f in _Row.__dataclass_fields__]
    return {r[0]: _Row(*r) for r in session.execute(select(*columns))}


def _members(session: Session, cutoff: datetime | None) -> dict[str, list[str]]:
    query = select(TaskProject.project_gid, TaskProject.task_gid)
    if cutoff is None:
        query = query.where(TaskProject.removed_at.is_(None))
    else:
        query = query.where(or_(TaskProject.removed_at.is_(None), TaskProject.removed_at > cutoff))
    out: dict[str, list[str]] = defaultdict(list)
    for project_gid, task_gid in session.execute(query):
        out[project_gid].append(task_gid)
    return out


def gid_order(gid: str) -> tuple[int, str]:
    """Sort key of gids as numbers (Asana's gids are digit strings: "9" before "10"), the same
    whatever the database's collation."""
    return len(gid), gid


def _home_projects(session: Session) -> dict[str, str]:
    """A project each task lives in (the first by gid), for naming where an outside dependency is."""
    out: dict[str, str] = {}
    query = select(TaskProject.task_gid, TaskProject.project_gid).where(TaskProject.removed_at.is_(None))
    for task_gid, project_gid in session.execute(query):
        if task_gid not in out or gid_order(project_gid) < gid_order(out[task_gid]):
            out[task_gid] = project_gid
    return out


def _dependencies(session: Session) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for task_gid, dep in session.execute(select(TaskDependency.task_gid, TaskDependency.depends_on_gid)):
        out[task_gid].append(dep)
    return out


@dataclass
class _Hours:
    """One `[budget]` field's hours (estimate or actual) of each task, per project.

    Several custom fields may carry the configured name (project-local fields: every project has
    its own "Estimated hours"). A task's hours in project P are its value in the field of that
    name among P's custom field settings; when P's settings name no such field (or are not known:
    a server that leaves them out, a store synced before they were kept), its value in any field
    of that name, the lowest gid (as a number) first.
    """

    values: dict[str, list[tuple[str, float]]]
    """task gid → (field gid, value), the lowest field gid first"""
    fields_of: dict[str, set[str]]
    """project gid → its fields of the name"""

    def of(self, task_gid: str, project_gid: str | None) -> float | None:
        own = self.fields_of.get(project_gid) if project_gid is not None else None
        for field_gid, value in self.values.get(task_gid, ()):
            if own is None or field_gid in own:
                return value
        return None


def _custom_numbers(session: Session, settings: Settings) -> tuple[_Hours, _Hours]:
    """Estimate and actual hours, from the custom fields named in `[budget]` (see `_Hours`)."""
    names = {settings.budget.estimate_field: "estimate", settings.budget.actual_field: "actual"}
    fields = {
        gid: names[name] for gid, name in session.execute(select(CustomField.gid, CustomField.name)) if name in names
    }
    hours = {"estimate": _Hours({}, {}), "actual": _Hours({}, {})}
    if not fields:
        return hours["estimate"], hours["actual"]
    query = select(CustomFieldValue.task_gid, CustomFieldValue.field_gid, CustomFieldValue.number_value).where(
        CustomFieldValue.field_gid.in_(list(fields)), CustomFieldValue.number_value.is_not(None)
    )
    for task_gid, field_gid, value in session.execute(query):
        if value is not None:
            hours[fields[field_gid]].values.setdefault(task_gid, []).append((field_gid, float(value)))
    for kind in hours.values():
        for found in kind.values.values():
            found.sort(key=lambda pair: gid_order(pair[0]))
    settings_query = select(ProjectCustomField.project_gid, ProjectCustomField.field_gid).where(
        ProjectCustomField.field_gid.in_(list(fields))
    )
    for project_gid, field_gid in session.execute(settings_query):
        hours[fields[field_gid]].fields_of.setdefault(project_gid, set()).add(field_gid)
    return hours["estimate"], hours["actual"]


def _budgets(session: Session) -> dict[str, AsanaBudget]:
    out: dict[str, AsanaBudget] = {}
    for budget in session.scalars(select(ProjectBudget)):
        out[budget.project_gid] = AsanaBudget(
            budget_type=budget.budget_type or "time",
            unit=budget.unit,
            estimate=budget.estimate,
            actual=budget.actual,
            total=budget.total,
        )
    return out


def created_days(session: Session, settings: Settings, projects: Iterable[ProjectInput]) -> dict[str, date]:
    """Creation dates (configured zone) of the projects' tasks."""
    wanted = {t.gid for p in projects for t in p.tasks}
    clock = _Clock(settings.kpi.timezone)
    out: dict[str, date] = {}
    for gid, created_at in session.execute(select(Task.gid, Task.created_at).where(Task.created_at.is_not(None))):
        day = clock.day(created_at)
        if day is not None and gid in wanted:
            out[gid] = day
    return out
