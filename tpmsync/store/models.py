"""The local store's schema: SQLAlchemy 2.0 typed models.

The schema is declared here and changed only through Alembic revisions
(`tpmsync/store/migrations/versions`); an API payload never decides a column.
Timestamps are stored as naive UTC; dates as dates. Rows that disappear upstream keep a
tombstone (`deleted_at`, `removed_at`) instead of being deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Gid = String()  # Asana's gids are strings of no stated length (migration 0008)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    __tablename__ = "workspaces"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512))


class User(Base):
    __tablename__ = "users"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(512))
    email: Mapped[str | None] = mapped_column(String(512))


class Team(Base):
    __tablename__ = "teams"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(512))


class Project(Base):
    __tablename__ = "projects"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    workspace_gid: Mapped[str | None] = mapped_column(Gid)
    team_gid: Mapped[str | None] = mapped_column(Gid)
    owner_gid: Mapped[str | None] = mapped_column(Gid)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    modified_at: Mapped[datetime | None] = mapped_column(DateTime)
    permalink_url: Mapped[str | None] = mapped_column(String(1024))
    tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)


class Section(Base):
    __tablename__ = "sections"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    project_gid: Mapped[str | None] = mapped_column(Gid, index=True)
    name: Mapped[str | None] = mapped_column(String(1024))


class Task(Base):
    __tablename__ = "tasks"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    resource_subtype: Mapped[str] = mapped_column(String(32), default="default_task")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    modified_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    start_on: Mapped[date | None] = mapped_column(Date)
    start_at: Mapped[datetime | None] = mapped_column(DateTime)
    assignee_gid: Mapped[str | None] = mapped_column(Gid)
    parent_gid: Mapped[str | None] = mapped_column(Gid, index=True)
    num_subtasks: Mapped[int] = mapped_column(Integer, default=0)
    actual_time_minutes: Mapped[float | None] = mapped_column(Float)
    permalink_url: Mapped[str | None] = mapped_column(String(1024))
    notes: Mapped[str | None] = mapped_column(Text)
    workspace_gid: Mapped[str | None] = mapped_column(Gid)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    seen_run_id: Mapped[int | None] = mapped_column(Integer)


class TaskProject(Base):
    """Membership of a task in a project (a task can live in several). `removed_at` is the tombstone."""

    __tablename__ = "task_projects"
    task_gid: Mapped[str] = mapped_column(Gid, ForeignKey("tasks.gid", ondelete="CASCADE"), primary_key=True)
    project_gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    section_gid: Mapped[str | None] = mapped_column(Gid)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    seen_run_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("ix_task_projects_project", "project_gid", "removed_at"),)


class TaskDependency(Base):
    """Edge: `task_gid` depends on (is blocked by) `depends_on_gid`."""

    __tablename__ = "task_dependencies"
    task_gid: Mapped[str] = mapped_column(Gid, ForeignKey("tasks.gid", ondelete="CASCADE"), primary_key=True)
    depends_on_gid: Mapped[str] = mapped_column(Gid, primary_key=True, index=True)


class UnreadableTask(Base):
    """A task Asana answered 403 or 404 for when it was fetched as an outside dependency (in a
    project the token cannot see, or deleted). It is not asked for again until `checked_at` is older
    than the re-ask window of `tpmsync.sync.run`, or a task newly depends on it (`save_tasks` then
    drops the row), or it is saved after all."""

    __tablename__ = "unreadable_tasks"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime)


class CustomField(Base):
    __tablename__ = "custom_fields"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    type: Mapped[str] = mapped_column(String(32))
    precision: Mapped[int | None] = mapped_column(Integer)


class ProjectCustomField(Base):
    """A custom field set on a project (Asana's `custom_field_settings`): which of several fields
    of one name (project-local fields) is this project's. Written from a project record that
    carries its settings (`save_project`); a project without rows has no fields set or its
    settings were never read, and the loader treats both alike (docs/kpis.md "Budget")."""

    __tablename__ = "project_custom_fields"
    project_gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    field_gid: Mapped[str] = mapped_column(Gid, primary_key=True)


class CustomFieldValue(Base):
    __tablename__ = "custom_field_values"
    task_gid: Mapped[str] = mapped_column(Gid, ForeignKey("tasks.gid", ondelete="CASCADE"), primary_key=True)
    field_gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    number_value: Mapped[float | None] = mapped_column(Float)
    text_value: Mapped[str | None] = mapped_column(Text)
    date_value: Mapped[date | None] = mapped_column(Date)
    enum_value: Mapped[str | None] = mapped_column(String(1024))
    multi_enum_values: Mapped[list[Any] | None] = mapped_column(JSON)
    people_values: Mapped[list[Any] | None] = mapped_column(JSON)
    display_value: Mapped[str | None] = mapped_column(Text)


class TaskHistory(Base):
    """A change observed between two syncs: due, start, assignee, completed, project membership."""

    __tablename__ = "task_history"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_gid: Mapped[str] = mapped_column(Gid, index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(1024))
    new_value: Mapped[str | None] = mapped_column(String(1024))
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    sync_run_id: Mapped[int | None] = mapped_column(Integer)


class TaskStory(Base):
    """A story of a task that flow metrics read: a section move or a completion change.

    `kind` is section_changed | marked_complete | marked_incomplete; `project_gid` is the project
    the moved-between sections belong to (None when sync could not tell); `created_at` is naive
    UTC. Names are kept as the story recorded them, so a section deleted since still has one.
    """

    __tablename__ = "task_stories"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    task_gid: Mapped[str] = mapped_column(Gid, ForeignKey("tasks.gid", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    project_gid: Mapped[str | None] = mapped_column(Gid)
    new_section_gid: Mapped[str | None] = mapped_column(Gid)
    new_section_name: Mapped[str | None] = mapped_column(Text)
    old_section_gid: Mapped[str | None] = mapped_column(Gid)
    old_section_name: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_task_stories_task", "task_gid", "created_at"),)


class TaskStorySync(Base):
    """When a task's stories were last read, and the task's `modified_at` then: stories are read
    again only for a task whose `modified_at` differs (or whose marker was dropped)."""

    __tablename__ = "task_story_sync"
    task_gid: Mapped[str] = mapped_column(Gid, ForeignKey("tasks.gid", ondelete="CASCADE"), primary_key=True)
    task_modified_at: Mapped[datetime | None] = mapped_column(DateTime)
    synced_at: Mapped[datetime] = mapped_column(DateTime)


class ProjectBudget(Base):
    """A budget from Asana's Budgets API, in its own unit (hours or currency)."""

    __tablename__ = "project_budgets"
    gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    project_gid: Mapped[str] = mapped_column(Gid, index=True)
    budget_type: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[float | None] = mapped_column(Float)
    estimate: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SyncState(Base):
    """Per-project incremental state. Written in the same transaction as the data it covers."""

    __tablename__ = "sync_state"
    project_gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    events_sync_token: Mapped[str | None] = mapped_column(String(256))
    modified_cursor: Mapped[datetime | None] = mapped_column(DateTime)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16))
    projects: Mapped[list[Any] | None] = mapped_column(JSON)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    tasks_upserted: Mapped[int] = mapped_column(Integer, default=0)
    tasks_deleted: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(Text)


class KpiSnapshot(Base):
    """One project's KPIs for one day (the JSON of `tpmsync status`), refreshed after each sync.

    `fingerprint` identifies the KPI settings it was computed with; a different one means stale.
    """

    __tablename__ = "kpi_snapshots"
    project_gid: Mapped[str] = mapped_column(Gid, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    sync_run_id: Mapped[int | None] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    health: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))  # `data` less its detail lists


class Delivery(Base):
    """The delivery ledger: one report (kind, period, scope) to one channel target, at most once.

    `target` is the project gid for per-project channels (Asana status updates), else "".
    `status` is pending | sent | failed; `claimed_until` and `claim_token` are the lease of the
    worker sending it right now (see `tpmsync.deliver.ledger` for the claim protocol).
    """

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(512))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        Index("ix_deliveries_key", "kind", "period", "scope", "channel", "target", unique=True),
        Index("ix_deliveries_updated_at", "updated_at"),
    )


class ScheduleRun(Base):
    """One run of a scheduled job, or its skip: what `tpmsync schedule list` shows as the last outcome.

    `fire_time` is the time the schedule asked for (naive UTC), `started_at` when the worker
    began. `outcome`: running | ok | partial | failed | busy | missed | interrupted; `trigger`:
    schedule | manual (`tpmsync schedule run-once`).
    """

    __tablename__ = "schedule_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(128), index=True)
    fire_time: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)


class SchedulerLease(Base):
    """Who leads the scheduler workers of this store.

    On SQLite the row is the lock itself: a worker leads while `expires_at` is in the future and
    renews it every few seconds. On PostgreSQL an advisory lock decides and the row only tells
    `tpmsync schedule list` who holds it.
    """

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    renewed_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


# Tables in the same database that tpmsync does not declare: APScheduler's job store creates its
# own. Alembic's autogenerate comparison leaves them out (migrations/env.py and the migration test).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic `include_object` hook: everything except `FOREIGN_TABLES` and what belongs to them."""
    if type_ == "table":
        return name not in FOREIGN_TABLES
    table = getattr(obj, "table", None)
    return getattr(table, "name", None) not in FOREIGN_TABLES
