"""Product and batch rules: what a valid product is, how shoppers' pages find it."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
    product = Product(org_id=org.id, name=name, gtin=canonical, **_checked_details(details))
    session.add(product)
    try:
        with session.begin_nested():  # the GTIN check above can lose a race: say so clearly
            session.flush()  # the caller prints the new id
    except IntegrityError as error:
        raise Conflict(N_("Another product already has GTIN %(gtin)s."), gtin=canonical) from error
    return product


# Field: longest text allowed (the column's size); None for non-text fields.
_EDITABLE: dict[str, int | None] = {
    "brand": 200,
    "description": 5000,
    "origin": 200,
    "image_url": 500,
    "standards": 300,
    "shelf_life": 100,
    "warranty_months": None,
    "website": 500,
    "redirect_to_website": None,
}
_URL_FIELDS = frozenset({"image_url", "website"})


def _checked_details(details: dict[str, object]) -> dict[str, object]:
    """Known fields only, within their sizes; links only http(s), so no `javascript:` link or
    redirect to another scheme ever reaches a shopper's page."""
    unknown = set(details) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(
            N_("Unknown product fields: %(fields)s."), fields=", ".join(sorted(unknown))
        )
    checked: dict[str, object] = {}
    for field, given in details.items():
        limit = _EDITABLE[field]
        value = (given.strip() or None) if isinstance(given, str) else given
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise InvalidInput(
                N_("%(field)s is longer than %(limit)s characters."), field=field, limit=limit
            )
        if field in _URL_FIELDS and value is not None and not _is_web_link(str(value)):
            raise InvalidInput(N_("%(field)s must be an http:// or https:// address."), field=field)
        if field == "warranty_months" and not (isinstance(value, int) and 0 <= value <= 240):
            raise InvalidInput(N_("The warranty is 0 to 240 months."))
        checked[field] = value
    return checked


def _is_web_link(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and value.isprintable()


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
