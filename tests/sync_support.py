"""Helpers for sync tests: a sandbox on 127.0.0.1, settings pointing at it, and an exact comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tpmsync.asana.client import AsanaClient
from tpmsync.config import AsanaSettings, Settings
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import CustomField, CustomFieldValue, Task, TaskDependency, TaskProject
from tpmsync.sync import SyncResult, run_sync

TOKEN = "sandbox-token"


def make_settings(base_url: str, database_url: str, workspace: Workspace, **asana: Any) -> Settings:
    fast = {
        "token": TOKEN,
        "base_url": base_url,
        "workspace": workspace.asana_workspace.gid,
        "projects": tuple(workspace.projects),
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.01,
        "max_retries": 8,
        "timeout_seconds": 10.0,
    }
    fast.update(asana)
    return Settings(asana=AsanaSettings(**fast), database_url=database_url, source="(test)")


def sandbox_config(
    path: Path,
    base_url: str,
    ws: Workspace,
    database_url: str,
    *,
    projects: Sequence[str] | None = None,
    asana_extra: str = "",
    extra: str = "",
) -> Path:
    """Write a tpmsync.toml at `path` for the sandbox at `base_url`: its workspace, `projects`
    (default: all of them), the store at `database_url`; `asana_extra` goes into [asana], `extra`
    (more tables) at the end."""
    listed = ", ".join(f'"{p}"' for p in (list(ws.projects) if projects is None else projects))
    path.write_text(
        f'[asana]\nbase_url = "{base_url}"\nworkspace = "{ws.asana_workspace.gid}"\nprojects = [{listed}]\n'
        f'{asana_extra}[database]\nurl = "{database_url}"\n{extra}',
        encoding="utf-8",
    )
    return path


def sync(store: Store, settings: Settings, **kwargs: Any) -> SyncResult:
    with AsanaClient(settings.asana) as client:
        return run_sync(store, client, settings, **kwargs)


def with_projects(settings: Settings, projects: tuple[str, ...]) -> Settings:
    return replace(settings, asana=replace(settings.asana, projects=projects))


def store_project_set(store: Store, project: str) -> set[str]:
    """Members plus descendants, not deleted, as the store has them."""
    with store.read() as session:
        members = set(
            session.scalars(
                select(TaskProject.task_gid)
                .join(Task, Task.gid == TaskProject.task_gid)
                .where(TaskProject.project_gid == project, TaskProject.removed_at.is_(None),
                       Task.deleted_at.is_(None))
            )
        )
        children: dict[str, list[str]] = {}
        for gid, parent in session.execute(
            select(Task.gid, Task.parent_gid).where(Task.parent_gid.is_not(None), Task.deleted_at.is_(None))
        ):
            children.setdefault(parent, []).append(gid)
    out = set(members)
    stack = list(members)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return sorted(value)
    return value


def assert_store_matches(store: Store, ws: Workspace, projects: list[str] | None = None) -> None:
    """The store holds exactly the sandbox's tasks, memberships, edges and custom values."""
    projects = projects or list(ws.projects)
    with ws.lock:
        expected_sets = {p: ws.project_task_gids(p) for p in projects}
        for project, expected in expected_sets.items():
            got = store_project_set(store, project)
            assert got == expected, (
                f"project {project}: missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}"
            )
        every = set().union(*expected_sets.values())
        with store.read() as session:
            rows = {t.gid: t for t in session.scalars(select(Task).where(Task.gid.in_(every)))}
            members: dict[str, set[str]] = {}
            for task_gid, project_gid in session.execute(
                select(TaskProject.task_gid, TaskProject.project_gid).where(TaskProject.removed_at.is_(None))
            ):
                members.setdefault(task_gid, set()).add(project_gid)
            edges: dict[str, set[str]] = {}
            for task_gid, dep in session.execute(select(TaskDependency.task_gid, TaskDependency.depends_on_gid)):
                edges.setdefault(task_gid, set()).add(dep)
            field_names = {f.gid: f.name for f in session.scalars(select(CustomField))}
            values: dict[str, dict[str, Any]] = {}
            for v in session.scalars(select(CustomFieldValue)):
                stored = (
                    v.number_value
                    if v.number_value is not None
                    else v.text_value or v.enum_value or v.multi_enum_values or v.people_values or v.date_value
                )
                if isinstance(stored, date):
                    stored = stored.isoformat()
                values.setdefault(v.task_gid, {})[field_names[v.field_gid]] = _plain(
                    tuple(stored) if isinstance(stored, list) else stored
                )
        for gid in every:
            truth = ws.tasks[gid]
            row = rows[gid]
            assert (row.name, row.completed, row.due_on, row.start_on, row.parent_gid, row.assignee_gid) == (
                truth.name, truth.completed, truth.due_on, truth.start_on, truth.parent_gid, truth.assignee_gid
            ), gid
            assert row.resource_subtype == truth.resource_subtype, gid
            assert members.get(gid, set()) == set(truth.project_gids), gid
            assert edges.get(gid, set()) == set(truth.dependency_gids), gid
            expected_values = {}
            for field_gid, raw in truth.custom_values.items():
                field = ws.custom_fields[field_gid]
                value: Any = raw
                if field.type == "enum":
                    option = field.option(str(raw))
                    value = option.name if option else raw
                elif field.type == "multi_enum":
                    value = sorted(
                        (opt.name if (opt := field.option(str(x))) else x) for x in raw  # type: ignore[union-attr]
                    )
                elif isinstance(raw, tuple):
                    value = sorted(raw)
                expected_values[field.name] = value
            assert values.get(gid, {}) == expected_values, gid
