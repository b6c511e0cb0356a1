"""Traceability: the EPCIS repository, product links for the Digital Link resolver, GS1
location codes and company prefixes, and the index of first genuine scans (issue 5).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "epcis_captures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_epcis_captures_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_epcis_captures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_captures")),
    )
    with op.batch_alter_table("epcis_captures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_captures_org_id"), ["org_id"], unique=False)

    op.create_table(
        "epcis_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "capture_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=500), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("biz_step", sa.String(length=500), nullable=True),
        sa.Column("disposition", sa.String(length=500), nullable=True),
        sa.Column("read_point", sa.String(length=500), nullable=True),
        sa.Column("biz_location", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["epcis_captures.id"],
            name=op.f("fk_epcis_events_capture_id_epcis_captures"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_epcis_events_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_events")),
        sa.UniqueConstraint("org_id", "event_id", name="uq_epcis_events_org_event"),
    )
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_events_capture_id"), ["capture_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_epcis_events_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_epcis_events_org_time", ["org_id", "event_time"], unique=False)
        batch_op.create_index("ix_epcis_events_time", ["event_time"], unique=False)

    op.create_table(
        "product_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=20), server_default="", nullable=False),
        sa.Column("link_type", sa.String(length=60), nullable=False),
        sa.Column("href", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hreflang", sa.String(length=20), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_links_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_links")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("product_links", schema=None) as batch_op:
        batch_op.create_index("ix_product_links_product_lot", ["product_id", "lot"], unique=False)
        batch_op.create_index(
            "ux_product_links_default",
            ["product_id", "lot"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.create_table(
        "epcis_event_epcs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("epc", sa.String(length=500), nullable=False),
        sa.Column(
            "stamp_code",
            sa.String(length=24).with_variant(sa.String(length=24, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["event_pk"],
            ["epcis_events.id"],
            name=op.f("fk_epcis_event_epcs_event_pk_epcis_events"),
        ),
        sa.ForeignKeyConstraint(
            ["stamp_code"], ["stamps.code"], name=op.f("fk_epcis_event_epcs_stamp_code_stamps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_event_epcs")),
    )
    with op.batch_alter_table("epcis_event_epcs", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_epcs_epc", ["epc"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_epcis_event_epcs_event_pk"), ["event_pk"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_event_epcs_stamp",
            ["stamp_code"],
            unique=False,
            sqlite_where=sa.text("stamp_code IS NOT NULL"),
            postgresql_where=sa.text("stamp_code IS NOT NULL"),
        )

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facility_gln", sa.String(length=13), nullable=True))

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gln", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("gs1_company_prefix", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("widest_step", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Steps recorded before this revision: each organization's widest so far.
    op.execute(
        "UPDATE organizations SET widest_step = coalesce((SELECT max(last_sequence - "
        "first_sequence + 1) FROM stamp_events WHERE stamp_events.issuer_org_id = "
        "organizations.id), 0)"
    )

    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_events_first_sale",
            ["org_id", "scanned_at"],
            unique=False,
            sqlite_where=sa.text("scan_number = 1 AND outcome = 'genuine'"),
            postgresql_where=sa.text("scan_number = 1 AND outcome = 'genuine'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_scan_events_first_sale",
            sqlite_where=sa.text("scan_number = 1 AND outcome = 'genuine'"),
            postgresql_where=sa.text("scan_number = 1 AND outcome = 'genuine'"),
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("widest_step")
        batch_op.drop_column("gs1_company_prefix")
        batch_op.drop_column("gln")

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("facility_gln")

    with op.batch_alter_table("epcis_event_epcs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_epcis_event_epcs_stamp",
            sqlite_where=sa.text("stamp_code IS NOT NULL"),
            postgresql_where=sa.text("stamp_code IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_epcis_event_epcs_event_pk"))
        batch_op.drop_index("ix_epcis_event_epcs_epc")

    op.drop_table("epcis_event_epcs")
    with op.batch_alter_table("product_links", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_product_links_default",
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )
        batch_op.drop_index("ix_product_links_product_lot")

    op.drop_table("product_links")
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_events_time")
        batch_op.drop_index("ix_epcis_events_org_time")
        batch_op.drop_index(batch_op.f("ix_epcis_events_event_id"))
        batch_op.drop_index(batch_op.f("ix_epcis_events_capture_id"))

    op.drop_table("epcis_events")
    with op.batch_alter_table("epcis_captures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_captures_org_id"))

    op.drop_table("epcis_captures")
