"""Unreadable tasks: outside dependencies Asana answered 403/404 for, and when

Revision ID: 0007_unreadable_tasks
Revises: 0006_snapshot_summary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_unreadable_tasks"
down_revision = "0006_snapshot_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unreadable_tasks",
        sa.Column("gid", sa.String(length=32), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("gid", name=op.f("pk_unreadable_tasks")),
    )


def downgrade() -> None:
    op.drop_table("unreadable_tasks")
