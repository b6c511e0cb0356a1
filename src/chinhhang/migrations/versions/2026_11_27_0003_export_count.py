"""How many times each stamp run's codes were exported (leak control, printing issue).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stamp_runs", schema=None) as batch_op:
        # Runs issued before this revision were never exported through the audited path.
        batch_op.add_column(
            sa.Column("export_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("stamp_runs", schema=None) as batch_op:
        batch_op.drop_column("export_count")
