"""The owner's CSV export of warranty registrations: shoppers' names and phone numbers.

Personal data (Decree 13/2023), so it takes `export_warranty` (owners and admins) and every
export is in the audit log, written and committed before the first byte (a download cut short
still counts). The rows are then read in pages of EXPORT_PAGE by id in a read-only session of
their own, so a big export holds no write lock and little memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import record, require
from chinhhang.catalog.models import Product
from chinhhang.consumer.models import WarrantyRegistration
from chinhhang.spreadsheet import BOM, cell
from chinhhang.stamps.serials import grouped

COLUMNS = (
    "serial",
    "product",
    "gtin",
    "name",
    "phone",
    "purchase_date",
    "ends_on",
    "shop",
    "registered_at",
)
EXPORT_PAGE = 2_000


def plan_export(session: Session, actor: Actor) -> int:
    """Check and audit an export; returns the organization whose registrations to write.
    Raises Forbidden for a role or kind of organization that may not export."""
    org = require(session, actor, "export_warranty")
    count = session.scalar(
        select(func.count())
        .select_from(WarrantyRegistration)
        .where(WarrantyRegistration.org_id == org.id)
    )
    record(session, actor, "warranty.export", f"organization:{org.id}", rows=int(count or 0))
    session.flush()
    return org.id


def csv_chunks(sessions: sessionmaker[Session], org_id: int) -> Iterator[bytes]:
    """The header, then the registrations oldest first, a page at a time (UTF-8 with a BOM,
    so that spreadsheet programs read the Vietnamese names right)."""
    yield (BOM + ",".join(COLUMNS) + "\r\n").encode()
    after = 0
    while True:
        with sessions() as session:
            rows = session.execute(
                select(WarrantyRegistration, Product.name, Product.gtin)
                .join(Product, Product.id == WarrantyRegistration.product_id)
                .where(WarrantyRegistration.org_id == org_id, WarrantyRegistration.id > after)
                .order_by(WarrantyRegistration.id)
                .limit(EXPORT_PAGE)
            ).all()
            if not rows:
                return
            after = rows[-1][0].id
            yield _lines(rows).encode()


def _lines(rows: Sequence[Row[WarrantyRegistration, str, str | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row, product, gtin in rows:
        writer.writerow(
            [
                grouped(row.serial),
                cell(product),
                cell(gtin),
                cell(row.name),
                row.phone,
                cell(row.purchase_date),
                cell(row.ends_on),
                cell(row.shop),
                cell(row.created_at),
            ]
        )
    return out.getvalue()
