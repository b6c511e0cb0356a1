"""Accounts, roles, API tokens, the audit log; custody, shipments and life-cycle events.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("platform_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'operator', 'viewer')", name=op.f("ck_api_tokens_role")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_api_tokens_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_api_tokens_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_org_id"), ["org_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'operator', 'viewer')", name=op.f("ck_invitations_role")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_invitations_invited_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_invitations_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_login_sessions_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'operator', 'viewer')", name=op.f("ck_memberships_role")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_memberships_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("user_id", "org_id", name=op.f("uq_memberships_user_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_org_id", sa.Integer(), nullable=False),
        sa.Column("to_org_id", sa.Integer(), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_transit', 'received')", name=op.f("ck_shipments_status")
        ),
        sa.ForeignKeyConstraint(
            ["from_org_id"],
            ["organizations.id"],
            name=op.f("fk_shipments_from_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_org_id"],
            ["organizations.id"],
            name=op.f("fk_shipments_issuer_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_org_id"], ["organizations.id"], name=op.f("fk_shipments_to_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_from_org_id"), ["from_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_to_org_id"), ["to_org_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("client_net", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_audit_log_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_audit_log_token_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_org_id_id", ["org_id", "id"], unique=False)

    op.create_table(
        "shipment_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("first_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_ranges_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_ranges")),
    )
    with op.batch_alter_table("shipment_ranges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_ranges_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "stamp_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=False),
        sa.Column("first_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_stamp_events_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_org_id"],
            ["organizations.id"],
            name=op.f("fk_stamp_events_issuer_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_stamp_events_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stamp_events_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["stamp_runs.id"], name=op.f("fk_stamp_events_run_id_stamp_runs")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_stamp_events_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_events")),
    )
    with op.batch_alter_table("stamp_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stamp_events_issuer_sequence", ["issuer_org_id", "first_sequence"], unique=False
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_file", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("certifications", sa.String(length=500), nullable=True))

    with op.batch_alter_table("stamp_runs", schema=None) as batch_op:
        # Runs issued before this revision were filled completely, or are still issuing.
        batch_op.add_column(
            sa.Column("filled", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE stamp_runs SET filled = quantity WHERE status = 'ready'")
    with op.batch_alter_table("stamp_runs", schema=None) as batch_op:
        batch_op.alter_column("filled", server_default=None)
        batch_op.add_column(sa.Column("activate_product_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("activate_lot", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_stamp_runs_activate_product_id_products"),
            "products",
            ["activate_product_id"],
            ["id"],
        )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_organizations_name"), ["name"])

    with op.batch_alter_table("stamps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_org_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_stamps_holder_org_id",
            ["holder_org_id", "org_id", "sequence"],
            unique=False,
            sqlite_where=sa.text("holder_org_id IS NOT NULL"),
            postgresql_where=sa.text("holder_org_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_stamps_shipment_id",
            ["shipment_id"],
            unique=False,
            sqlite_where=sa.text("shipment_id IS NOT NULL"),
            postgresql_where=sa.text("shipment_id IS NOT NULL"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stamps_holder_org_id_organizations"),
            "organizations",
            ["holder_org_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stamps_shipment_id_shipments"), "shipments", ["shipment_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("stamps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stamps_shipment_id_shipments"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_stamps_holder_org_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_index(
            "ix_stamps_shipment_id",
            sqlite_where=sa.text("shipment_id IS NOT NULL"),
            postgresql_where=sa.text("shipment_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_stamps_holder_org_id",
            sqlite_where=sa.text("holder_org_id IS NOT NULL"),
            postgresql_where=sa.text("holder_org_id IS NOT NULL"),
        )
        batch_op.drop_column("shipment_id")
        batch_op.drop_column("holder_org_id")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organizations_name"), type_="unique")
    with op.batch_alter_table("stamp_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_stamp_runs_activate_product_id_products"), type_="foreignkey"
        )
        batch_op.drop_column("activate_lot")
        batch_op.drop_column("activate_product_id")
        batch_op.drop_column("filled")

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("certifications")
        batch_op.drop_column("image_file")

    with op.batch_alter_table("stamp_events", schema=None) as batch_op:
        batch_op.drop_index("ix_stamp_events_issuer_sequence")

    op.drop_table("stamp_events")
    with op.batch_alter_table("shipment_ranges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_ranges_shipment_id"))

    op.drop_table("shipment_ranges")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_org_id_id")

    op.drop_table("audit_log")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_to_org_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_from_org_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_org_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))

    op.drop_table("login_sessions")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_org_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_org_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
