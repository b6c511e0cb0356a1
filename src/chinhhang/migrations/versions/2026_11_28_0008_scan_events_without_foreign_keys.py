"""Scan events keep their stamp, product, batch and organization without foreign keys.

`scan_events` is the platform's largest and hottest table: every counted scan appends a row.
Each of its four foreign keys made PostgreSQL look the parent row up again per event and lock
it FOR KEY SHARE, so every concurrent scan of one brand locked the same organization and
product rows (a multixact per shared lock). Measured with the scan benchmark's load
(docs/benchmarks.md, "Third session"): 20 µs of PostgreSQL's CPU per genuine scan, about a
fifth of its share, and 4-8 % of the genuine scan's throughput.

Nothing is lost by it. The hot path copies the references from the stamp row it has just
counted, in the same statement (scans/sql.py), and a page view's from the product it showed;
nothing deletes stamps, products, batches or organizations (they are voided or withdrawn), so
no event can come to point at nothing. The columns stay indexed where they are read.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (constraint, column, referred table, referred column), as the initial schema named them.
_REFERENCES = (
    ("fk_scan_events_batch_id_batches", "batch_id", "batches", "id"),
    ("fk_scan_events_org_id_organizations", "org_id", "organizations", "id"),
    ("fk_scan_events_product_id_products", "product_id", "products", "id"),
    ("fk_scan_events_stamp_code_stamps", "stamp_code", "stamps", "code"),
)


def upgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        for name, _column, _table, _key in _REFERENCES:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        for name, column, table, key in _REFERENCES:
            batch_op.create_foreign_key(name, table, [column], [key])
