"""The market-control dashboard's rollup tables: scan counts per day, organization, product,
province, kind and outcome; stamp counts per organization, product and day; the folder's
marks and gaps (issue 8, regulator/rollups.py). They start empty with both marks at 0: the
worker folds the existing rows in batches, and the dashboard counts what it has not folded
yet from the rows themselves, so the figures are right throughout.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    marks = op.create_table(
        "rollup_marks",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("folded_to", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_rollup_marks")),
    )
    op.bulk_insert(
        marks,
        [{"source": "scan_events", "folded_to": 0}, {"source": "stamp_events", "folded_to": 0}],
    )
    op.create_table(
        "rollup_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_gaps")),
    )
    with op.batch_alter_table("rollup_gaps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollup_gaps_source_first_id", ["source", "first_id"], unique=False
        )
    op.create_table(
        "scan_rollups",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("scans", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "org_id",
            "product_id",
            "province_code",
            "kind",
            "outcome",
            name=op.f("pk_scan_rollups"),
        ),
    )
    with op.batch_alter_table("scan_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_scan_rollups_product_id", ["product_id", "day"], unique=False)
        batch_op.create_index(
            "ix_scan_rollups_province_code", ["province_code", "day"], unique=False
        )
    op.create_table(
        "stamp_rollups",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("activated", sa.BigInteger(), nullable=False),
        sa.Column("void", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "product_id", "day", name=op.f("pk_stamp_rollups")),
    )


def downgrade() -> None:
    op.drop_table("stamp_rollups")
    with op.batch_alter_table("scan_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_rollups_province_code")
        batch_op.drop_index("ix_scan_rollups_product_id")
    op.drop_table("scan_rollups")
    with op.batch_alter_table("rollup_gaps", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_gaps_source_first_id")
    op.drop_table("rollup_gaps")
    op.drop_table("rollup_marks")
