"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("precision", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_custom_fields")),
    )
    op.create_table(
        "project_budgets",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("project_gid", sa.String(length=32), nullable=False),
        sa.Column("budget_type", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_project_budgets")),
    )
    with op.batch_alter_table("project_budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_budgets_project_gid"), ["project_gid"], unique=False)

    op.create_table(
        "projects",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("workspace_gid", sa.String(length=32), nullable=True),
        sa.Column("team_gid", sa.String(length=32), nullable=True),
        sa.Column("owner_gid", sa.String(length=32), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("modified_at", sa.DateTime(), nullable=True),
        sa.Column("permalink_url", sa.String(length=1024), nullable=True),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_projects")),
    )
    op.create_table(
        "sections",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("project_gid", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_sections")),
    )
    with op.batch_alter_table("sections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sections_project_gid"), ["project_gid"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("projects", sa.JSON(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("tasks_upserted", sa.Integer(), nullable=False),
        sa.Column("tasks_deleted", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "sync_state",
        sa.Column("project_gid", sa.String(length=32), nullable=False),
        sa.Column("events_sync_token", sa.String(length=256), nullable=True),
        sa.Column("modified_cursor", sa.DateTime(), nullable=True),
        sa.Column("last_full_sync_at", sa.DateTime(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("project_gid", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "task_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=1024), nullable=True),
        sa.Column("new_value", sa.String(length=1024), nullable=True),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_history")),
    )
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_history_task_gid"), ["task_gid"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("resource_subtype", sa.String(length=32), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("modified_at", sa.DateTime(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("start_at", sa.DateTime(), nullable=True),
        sa.Column("assignee_gid", sa.String(length=32), nullable=True),
        sa.Column("parent_gid", sa.String(length=32), nullable=True),
        sa.Column("num_subtasks", sa.Integer(), nullable=False),
        sa.Column("actual_time_minutes", sa.Float(), nullable=True),
        sa.Column("permalink_url", sa.String(length=1024), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("workspace_gid", sa.String(length=32), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("seen_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_parent_gid"), ["parent_gid"], unique=False)

    op.create_table(
        "teams",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_teams")),
    )
    op.create_table(
        "users",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_users")),
    )
    op.create_table(
        "workspaces",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "custom_field_values",
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("field_gid", sa.String(length=32), nullable=False),
        sa.Column("number_value", sa.Float(), nullable=True),
        sa.Column("text_value", sa.Text(), nullable=True),
        sa.Column("date_value", sa.Date(), nullable=True),
        sa.Column("enum_value", sa.String(length=1024), nullable=True),
        sa.Column("multi_enum_values", sa.JSON(), nullable=True),
        sa.Column("people_values", sa.JSON(), nullable=True),
        sa.Column("display_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_gid"], ["tasks.gid"], name=op.f("fk_custom_field_values_task_gid_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_gid", "field_gid", name=op.f("pk_custom_field_values")),
    )
    op.create_table(
        "task_dependencies",
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("depends_on_gid", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_gid"], ["tasks.gid"], name=op.f("fk_task_dependencies_task_gid_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_gid", "depends_on_gid", name=op.f("pk_task_dependencies")),
    )
    with op.batch_alter_table("task_dependencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_dependencies_depends_on_gid"), ["depends_on_gid"], unique=False)

    op.create_table(
        "task_projects",
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("project_gid", sa.String(length=32), nullable=False),
        sa.Column("section_gid", sa.String(length=32), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("seen_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_gid"], ["tasks.gid"], name=op.f("fk_task_projects_task_gid_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_gid", "project_gid", name=op.f("pk_task_projects")),
    )
    with op.batch_alter_table("task_projects", schema=None) as batch_op:
        batch_op.create_index("ix_task_projects_project", ["project_gid", "removed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_projects", schema=None) as batch_op:
        batch_op.drop_index("ix_task_projects_project")

    op.drop_table("task_projects")
    with op.batch_alter_table("task_dependencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_dependencies_depends_on_gid"))

    op.drop_table("task_dependencies")
    op.drop_table("custom_field_values")
    op.drop_table("workspaces")
    op.drop_table("users")
    op.drop_table("teams")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_parent_gid"))

    op.drop_table("tasks")
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_history_task_gid"))

    op.drop_table("task_history")
    op.drop_table("sync_state")
    op.drop_table("sync_runs")
    with op.batch_alter_table("sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sections_project_gid"))

    op.drop_table("sections")
    op.drop_table("projects")
    with op.batch_alter_table("project_budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_budgets_project_gid"))

    op.drop_table("project_budgets")
    op.drop_table("custom_fields")
