"""Project custom fields: which custom fields each project has set (its `custom_field_settings`)

Revision ID: 0009_project_custom_fields
Revises: 0008_gid_any_length

Estimates and actuals of a task in a project are read from the field of that project when
several fields share the configured name (docs/kpis.md). A store upgraded to this revision knows
a project's settings from the next read of its project record (a full sync); until then the
rule falls back to the field of that name with the lowest gid.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_project_custom_fields"
down_revision = "0008_gid_any_length"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_custom_fields",
        sa.Column("project_gid", sa.String(), nullable=False),
        sa.Column("field_gid", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("project_gid", "field_gid", name=op.f("pk_project_custom_fields")),
    )


def downgrade() -> None:
    op.drop_table("project_custom_fields")
