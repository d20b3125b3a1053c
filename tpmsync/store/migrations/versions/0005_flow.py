"""Flow: task stories (section moves, completion changes) and when each task's stories were read

Revision ID: 0005_flow
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_flow"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_stories",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("project_gid", sa.String(length=32), nullable=True),
        sa.Column("new_section_gid", sa.String(length=32), nullable=True),
        sa.Column("new_section_name", sa.Text(), nullable=True),
        sa.Column("old_section_gid", sa.String(length=32), nullable=True),
        sa.Column("old_section_name", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_gid"], ["tasks.gid"], name=op.f("fk_task_stories_task_gid_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_task_stories")),
    )
    op.create_index("ix_task_stories_task", "task_stories", ["task_gid", "created_at"], unique=False)
    op.create_table(
        "task_story_sync",
        sa.Column("task_gid", sa.String(length=32), nullable=False),
        sa.Column("task_modified_at", sa.DateTime(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_gid"], ["tasks.gid"], name=op.f("fk_task_story_sync_task_gid_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_gid", name=op.f("pk_task_story_sync")),
    )


def downgrade() -> None:
    op.drop_table("task_story_sync")
    op.drop_index("ix_task_stories_task", table_name="task_stories")
    op.drop_table("task_stories")
