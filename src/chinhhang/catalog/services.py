"""Product and batch rules: what a valid product is, how shoppers' pages find it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import (
    can_oversee,
    get_organization,
    parse_gln,
    record,
    require,
)
from chinhhang.catalog.data_items import DataItem, completeness, product_data_items
from chinhhang.catalog.gtin import InvalidGtin, canonical_gtin
from chinhhang.catalog.images import store_image
from chinhhang.catalog.models import Batch, Product
from chinhhang.errors import Conflict, Gone, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_

MAX_LOT_LENGTH = 20  # GS1 AI (10) allows up to 20 characters


def create_product(
    session: Session,
    actor: Actor,
    *,
    name: str,
    gtin: str | None = None,
    **details: object,
) -> Product:
    """Raises InvalidInput for a bad name or GTIN, Conflict when the GTIN is taken."""
    org = require(session, actor, "manage_products")
    name = _checked_name(name)
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
    record(session, actor, "product.create", f"product:{product.id}", name=name, gtin=canonical)
    return product


def update_product(
    session: Session,
    actor: Actor,
    product_id: int,
    *,
    name: str | None = None,
    gtin: str | None = None,
    **details: object,
) -> Product:
    """Change the given fields (None leaves a field as it is; an empty text clears it).

    The GTIN can be set once but not changed: printed static codes carry it.
    """
    org = require(session, actor, "manage_products")
    product = get_product(session, product_id)
    if product.org_id != org.id:
        raise NotFound(N_("No such product."))
    if name is not None:
        product.name = _checked_name(name)
    if gtin:
        canonical = parse_gtin(gtin)
        if product.gtin not in (None, canonical):
            raise Conflict(N_("A product's GTIN cannot be changed once set."))
        if product.gtin is None and session.scalar(
            select(Product.id).where(Product.gtin == canonical)
        ):
            raise Conflict(N_("Another product already has GTIN %(gtin)s."), gtin=canonical)
        product.gtin = canonical
    for field, value in _checked_details(details).items():
        setattr(product, field, value)
    session.flush()
    record(session, actor, "product.edit", f"product:{product.id}", fields=sorted(details))
    return product


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput(N_("A product needs a name of 1 to 200 characters."))
    return name


def product_for(session: Session, actor: Actor, product_id: int) -> Product:
    """A product as its maker (or a regulator) sees it in the portal; NotFound to others."""
    org = require(session, actor, "view")
    product = session.get(Product, product_id)
    if product is None or (product.org_id != org.id and not can_oversee(session, actor)):
        raise NotFound(N_("No such product."))
    return product


def list_products(
    session: Session, actor: Actor, *, before: int | None = None, limit: int = 50
) -> Sequence[Product]:
    org = require(session, actor, "view")
    query = select(Product).where(Product.org_id == org.id)
    if before is not None:
        query = query.where(Product.id < before)
    return session.scalars(query.order_by(Product.id.desc()).limit(limit)).all()


def product_data(session: Session, actor: Actor, product_id: int) -> list[DataItem]:
    """The ten data items of Circular 02/2024 for a product its maker (or a regulator) sees,
    present or missing (catalog/data_items.py)."""
    product = product_for(session, actor, product_id)
    batches = session.scalars(select(Batch).where(Batch.product_id == product.id)).all()
    return product_data_items(product, _maker_of(session, product), batches)


def products_completeness(
    session: Session, actor: Actor, products: Sequence[Product]
) -> dict[int, tuple[int, int]]:
    """Product id → (data items present, asked for), for a list of products the actor was
    shown; one query for all their batches rather than one per product."""
    require(session, actor, "view")
    ids = [product.id for product in products]
    batches: dict[int, list[Batch]] = {product_id: [] for product_id in ids}
    for batch in session.scalars(select(Batch).where(Batch.product_id.in_(ids))):
        batches[batch.product_id].append(batch)
    return {
        product.id: completeness(
            product_data_items(product, _maker_of(session, product), batches[product.id])
        )
        for product in products
    }


def _maker_of(session: Session, product: Product) -> Organization:
    maker = session.get(Organization, product.org_id)
    assert maker is not None  # noqa: S101 - a foreign key
    return maker


def list_batches(
    session: Session,
    actor: Actor,
    product_id: int,
    *,
    before: int | None = None,
    limit: int | None = None,
) -> Sequence[Batch]:
    """Newest first, keyset-paged by id (all of them without a limit)."""
    product = product_for(session, actor, product_id)
    query = select(Batch).where(Batch.product_id == product.id)
    if before is not None:
        query = query.where(Batch.id < before)
    return session.scalars(query.order_by(Batch.id.desc()).limit(limit)).all()


# Field: longest text allowed (the column's size); None for non-text fields.
_EDITABLE: dict[str, int | None] = {
    "brand": 200,
    "description": 5000,
    "origin": 200,
    "image_url": 500,
    "standards": 300,
    "certifications": 500,
    "shelf_life": 100,
    "warranty_months": None,
    "website": 500,
    "redirect_to_website": None,
    "withdrawn": None,
}
_FLAGS = frozenset({"redirect_to_website", "withdrawn"})
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
        value = (plain_text(given, field).strip() or None) if isinstance(given, str) else given
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise InvalidInput(
                N_("%(field)s is longer than %(limit)s characters."), field=field, limit=limit
            )
        if field in _URL_FIELDS and value is not None and not _is_web_link(str(value)):
            raise InvalidInput(N_("%(field)s must be an http:// or https:// address."), field=field)
        if field == "image_url" and value is not None and not str(value).startswith("https://"):
            # Pages allow pictures from https addresses only (the Content-Security-Policy's
            # img-src): an http one would be stored and never shown.
            raise InvalidInput(N_("A picture's address must start with https://."))
        if field == "warranty_months" and not (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 240
        ):
            raise InvalidInput(N_("The warranty is 0 to 240 months."))
        if field in _FLAGS and not isinstance(value, bool):
            raise InvalidInput(N_("%(field)s is yes or no."), field=field)
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
    actor: Actor,
    *,
    product_id: int,
    lot: str,
    facility: str | None = None,
    facility_gln: str | None = None,
    production_date: date | None = None,
    expiry_date: date | None = None,
) -> Batch:
    """Create the batch, or update the given fields of the one with this lot (None leaves a
    field as it is)."""
    org = require(session, actor, "manage_products")
    product = get_product(session, product_id)
    if product.org_id != org.id:
        raise NotFound(N_("No such product."))
    if facility is not None and len(plain_text(facility, "facility").strip()) > 200:
        raise InvalidInput(
            N_("%(field)s is longer than %(limit)s characters."), field="facility", limit=200
        )
    if facility_gln is not None:
        facility_gln = parse_gln(facility_gln, "facility_gln")
    batch = get_or_create_batch(session, product_id=product_id, lot=lot)
    updates = {
        "facility": facility,
        "facility_gln": facility_gln,
        "production_date": production_date,
        "expiry_date": expiry_date,
    }
    for field, value in updates.items():
        if value is not None:
            setattr(batch, field, value)
    if batch.production_date and batch.expiry_date and batch.expiry_date < batch.production_date:
        raise InvalidInput(N_("The expiry date is before the production date."))
    session.flush()  # the caller prints the id
    record(session, actor, "batch.save", f"batch:{batch.id}", product=product_id, lot=batch.lot)
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


@dataclass(slots=True)
class ProductPage:
    """What a product's printed (static) code shows a shopper: the product page, or the
    manufacturer's own page (`redirect_to`)."""

    product: Product
    manufacturer: Organization
    batch: Batch | None
    redirect_to: str | None


def static_product(
    session: Session,
    *,
    product_id: int | None = None,
    gtin: str | None = None,
    lot: str | None = None,
) -> ProductPage:
    """What a static code shows: the product, its maker, the batch of `lot` if the platform
    knows it, and the manufacturer's own page if the product is set to redirect there.
    Counts nothing: here in the catalog so that both the scan pages (scans) and the GS1
    resolver (trace) can read it; each counts the scan its own way (docs/scanning.md).

    Raises InvalidInput (bad GTIN or lot), NotFound (unknown product), Gone (withdrawn).
    A lot the platform does not know falls back to the product, as a GS1 resolver does.
    """
    lot = validate_lot(lot) if lot else None  # syntax first: a bad URL is 400 before 404
    if gtin is not None:
        product = product_by_gtin(session, gtin)
    elif product_id is not None:
        product = get_product(session, product_id)
    else:
        raise NotFound(N_("No such product."))
    manufacturer = get_organization(session, product.org_id)
    if not manufacturer.approved:
        # Until a regulator or the operator approves the business, its products are not shown
        # to shoppers: registering must not be a way to publish pages under a brand's name.
        raise NotFound(N_("No product with this GTIN is registered here."))
    if product.withdrawn:
        raise Gone(N_("This product has been withdrawn by its manufacturer."))
    batch = find_batch(session, product.id, lot) if lot else None
    redirect = product.website if product.redirect_to_website and product.website else None
    return ProductPage(product, manufacturer, batch, redirect)


def set_product_image(
    session: Session, actor: Actor, product_id: int, data: bytes, media_dir: Path
) -> Product:
    """Raises InvalidInput for a file that is not an accepted image (nothing is changed)."""
    org = require(session, actor, "manage_products")
    product = get_product(session, product_id)
    if product.org_id != org.id:
        raise NotFound(N_("No such product."))
    product.image_file = store_image(data, media_dir, "products")
    record(session, actor, "product.image", f"product:{product.id}")
    return product
