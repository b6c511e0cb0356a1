"""Product and batch rules: what a valid product is, how shoppers' pages find it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.services import get_manufacturer
from chinhhang.catalog.gtin import InvalidGtin, canonical_gtin
from chinhhang.catalog.models import Batch, Product
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_

MAX_LOT_LENGTH = 20  # GS1 AI (10) allows up to 20 characters


def create_product(
    session: Session,
    *,
    org_id: int,
    name: str,
    gtin: str | None = None,
    **details: object,
) -> Product:
    """Raises InvalidInput for a bad name or GTIN, Conflict when the GTIN is taken."""
    org = get_manufacturer(session, org_id)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(N_("A product needs a name of 1 to 200 characters."))
    canonical = parse_gtin(gtin) if gtin else None
    if canonical and session.scalar(select(Product.id).where(Product.gtin == canonical)):
        raise Conflict(N_("Another product already has GTIN %(gtin)s."), gtin=canonical)
    unknown = set(details) - _EDITABLE
    if unknown:
        raise InvalidInput(N_("Unknown product fields: %(fields)s."), fields=", ".join(unknown))
    product = Product(org_id=org.id, name=name, gtin=canonical, **details)
    session.add(product)
    session.flush()  # the caller prints the new id
    return product


_EDITABLE = frozenset(
    {
        "brand",
        "description",
        "origin",
        "image_url",
        "standards",
        "shelf_life",
        "warranty_months",
        "website",
        "redirect_to_website",
    }
)


def parse_gtin(text: str) -> str:
    try:
        return canonical_gtin(text)
    except InvalidGtin as error:
        raise InvalidInput(str(error)) from error


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(N_("No such product."))
    return product


def product_by_gtin(session: Session, gtin: str) -> Product:
    """Raises InvalidInput for a malformed GTIN and NotFound for one nobody registered."""
    product = session.scalars(select(Product).where(Product.gtin == parse_gtin(gtin))).first()
    if product is None:
        raise NotFound(N_("No product with this GTIN is registered here."))
    return product


def get_or_create_batch(
    session: Session,
    *,
    product_id: int,
    lot: str,
    production_date: date | None = None,
    expiry_date: date | None = None,
    facility: str | None = None,
) -> Batch:
    lot = validate_lot(lot)
    batch = find_batch(session, product_id, lot)
    if batch is None:
        batch = Batch(
            product_id=product_id,
            lot=lot,
            production_date=production_date,
            expiry_date=expiry_date,
            facility=facility,
        )
        session.add(batch)
        session.flush()  # stamps will point at its id
    return batch


def save_batch(
    session: Session,
    *,
    product_id: int,
    lot: str,
    facility: str | None = None,
    production_date: date | None = None,
    expiry_date: date | None = None,
) -> Batch:
    """Create the batch, or update the given fields of the one with this lot."""
    get_product(session, product_id)
    batch = get_or_create_batch(session, product_id=product_id, lot=lot)
    updates = {"facility": facility, "production_date": production_date, "expiry_date": expiry_date}
    for field, value in updates.items():
        if value is not None:
            setattr(batch, field, value)
    if batch.production_date and batch.expiry_date and batch.expiry_date < batch.production_date:
        raise InvalidInput(N_("The expiry date is before the production date."))
    session.flush()  # the caller prints the id
    return batch


def find_batch(session: Session, product_id: int, lot: str) -> Batch | None:
    return session.scalars(
        select(Batch).where(Batch.product_id == product_id, Batch.lot == lot)
    ).first()


def validate_lot(lot: str) -> str:
    """GS1 AI (10): 1 to 20 characters of the GS1 'CSET 82' printable set, no spaces."""
    lot = lot.strip()
    if not 1 <= len(lot) <= MAX_LOT_LENGTH or not lot.isascii() or not lot.isprintable():
        raise InvalidInput(N_("A lot number has 1 to 20 letters, digits or symbols."))
    if " " in lot or any(ch in lot for ch in "#$@[\\]^`{|}~"):
        raise InvalidInput(N_("A lot number has 1 to 20 letters, digits or symbols."))
    return lot
