"""KPI snapshots keep a summary beside the whole document (the fast path of `tpmsync status`)

Revision ID: 0006_snapshot_summary
Revises: 0005_flow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_snapshot_summary"
down_revision = "0005_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: snapshots stored before this revision have none and are read whole until the next sync
    with op.batch_alter_table("kpi_snapshots") as batch:
        batch.add_column(sa.Column("summary", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kpi_snapshots") as batch:
        batch.drop_column("summary")
