"""Gid columns take a gid of any length (Asana's reference states no length for a gid)

Revision ID: 0008_gid_any_length
Revises: 0007_unreadable_tasks

PostgreSQL enforced the 32 characters of VARCHAR(32); widening to VARCHAR changes only the
catalogue (no table is rewritten). SQLite never enforced the length, so nothing changes there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_gid_any_length"
down_revision = "0007_unreadable_tasks"
branch_labels = None
depends_on = None

GID_COLUMNS = (
    ("custom_fields", "gid"),
    ("kpi_snapshots", "project_gid"),
    ("project_budgets", "gid"),
    ("project_budgets", "project_gid"),
    ("projects", "gid"),
    ("projects", "workspace_gid"),
    ("projects", "team_gid"),
    ("projects", "owner_gid"),
    ("sections", "gid"),
    ("sections", "project_gid"),
    ("sync_state", "project_gid"),
    ("task_history", "task_gid"),
    ("tasks", "gid"),
    ("tasks", "assignee_gid"),
    ("tasks", "parent_gid"),
    ("tasks", "workspace_gid"),
    ("teams", "gid"),
    ("users", "gid"),
    ("workspaces", "gid"),
    ("custom_field_values", "task_gid"),
    ("custom_field_values", "field_gid"),
    ("task_dependencies", "task_gid"),
    ("task_dependencies", "depends_on_gid"),
    ("task_projects", "task_gid"),
    ("task_projects", "project_gid"),
    ("task_projects", "section_gid"),
    ("task_stories", "gid"),
    ("task_stories", "task_gid"),
    ("task_stories", "project_gid"),
    ("task_stories", "new_section_gid"),
    ("task_stories", "old_section_gid"),
    ("task_story_sync", "task_gid"),
    ("unreadable_tasks", "gid"),
)


def _retype(old: sa.types.TypeEngine[str], new: sa.types.TypeEngine[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in GID_COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old)


def upgrade() -> None:
    _retype(sa.String(32), sa.String())


def downgrade() -> None:
    _retype(sa.String(), sa.String(32))
