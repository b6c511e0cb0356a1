"""The login lockout: wrong passwords in a row and the lock on each user, and the same count
for addresses that have no account (accounts/services/logins.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        # Existing users start with no failures and no lock.
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "unknown_logins",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_unknown_logins")),
    )
    with op.batch_alter_table("unknown_logins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unknown_logins_last_failed_login_at"),
            ["last_failed_login_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("unknown_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unknown_logins_last_failed_login_at"))
    op.drop_table("unknown_logins")
    # A native DROP COLUMN (SQLite 3.35+): rebuilding `users` on SQLite would drop the table
    # its memberships, sessions and tokens point at, which the foreign keys refuse.
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("last_failed_login_at")
        batch_op.drop_column("failed_logins")
