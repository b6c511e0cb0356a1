"""Warranty registrations (SPEC section 7): after a genuine scan the shopper registers the
warranty; anyone holding the serial and the phone number looks it up; the owner lists and
exports the registrations.

Registering needs a scan token (scans/tokens.py) of a *genuine* scan no older than a day: the
genuine page's link carries it, so nobody registers an item they never scanned genuine, and an
over-limit scan (a probable copy) never can. One registration per stamp: the unique stamp code
decides, a race included. The end date is the purchase date plus the product's warranty
months, on the calendar (consumer/rules.py).

Lookups answer the same "no registration matches" whether the serial is unknown or the phone
is wrong, so they reveal nothing about which serials were registered; the routes throttle them
per client (LOOKUP_RATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import require
from chinhhang.catalog.models import Product
from chinhhang.consumer.models import WarrantyRegistration
from chinhhang.consumer.rules import add_months, parse_serial, years_before
from chinhhang.errors import Conflict, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_
from chinhhang.localtime import DISPLAY_ZONE, vietnam_today
from chinhhang.phones import normalise_phone
from chinhhang.scans.tokens import ScanToken
from chinhhang.stamps.models import ACTIVE, Stamp
from chinhhang.stamps.serials import grouped, serial_for

# How old a genuine scan's token may be when it registers the warranty.
TOKEN_MAX_AGE = timedelta(days=1)
# Lookups per client (`limits` notation): plenty for a person, too few to probe phones.
LOOKUP_RATE = "20/hour"
MAX_NAME = 200
MAX_SHOP = 200
MAX_YEARS_BACK = 10
VALID, EXPIRED = "valid", "expired"
_BAD_TOKEN = N_(
    "This registration link is not valid or is more than a day old. Scan the stamp's QR code "
    "again and use the link on the page that says the product is genuine."
)


@dataclass(frozen=True, slots=True)
class WarrantyForm:
    """What the shopper typed (the purchase date already read as a date, or None)."""

    name: str
    phone: str
    purchase_date: date | None
    shop: str | None = None


@dataclass(frozen=True, slots=True)
class Registrable:
    """The item a genuine scan's token names, for the registration form."""

    code: str
    serial: str  # grouped, as printed
    product: str
    months: int
    # Set when the item's warranty is registered already.
    ends_on: date | None


@dataclass(frozen=True, slots=True)
class WarrantyView:
    """A registration as the lookup shows it: no name, no phone."""

    serial: str  # grouped
    product: str
    manufacturer: str
    purchase_date: date
    ends_on: date
    shop: str | None
    status: str


def registrable(session: Session, scan: ScanToken | None) -> Registrable:
    """The item of a genuine scan's token (read with TOKEN_MAX_AGE), or InvalidInput for a
    missing, forged, expired or non-genuine token, a stamp void since, or a product without a
    warranty."""
    stamp, product = _scanned(session, scan)
    existing = registration_of(session, stamp.code)
    return Registrable(
        stamp.code,
        grouped(serial_for(stamp.sequence)),
        product.name,
        product.warranty_months,
        existing.ends_on if existing else None,
    )


def register(
    session: Session, scan: ScanToken | None, form: WarrantyForm, today: date | None = None
) -> WarrantyView:
    """Register the warranty of the scanned item; what the shopper is shown of it. InvalidInput
    for a bad token or field, Conflict when the item is registered already (a race included);
    nothing is stored then."""
    stamp, product = _scanned(session, scan)
    if registration_of(session, stamp.code) is not None:
        raise Conflict(N_("The warranty of this item is already registered."))
    today = today or vietnam_today()
    name = _checked_text(form.name, N_("Your name"), MAX_NAME, required=True)
    phone = normalise_phone(form.phone)
    purchased = _checked_purchase(form.purchase_date, stamp, product.warranty_months, today)
    registration = WarrantyRegistration(
        stamp_code=stamp.code,
        org_id=stamp.org_id,
        product_id=product.id,
        serial=serial_for(stamp.sequence),
        name=name,
        phone=phone,
        purchase_date=purchased,
        shop=_checked_text(form.shop or "", N_("Shop"), MAX_SHOP),
        ends_on=add_months(purchased, product.warranty_months),
    )
    session.add(registration)
    try:
        with session.begin_nested():  # two registrations of one item at once: one wins
            session.flush()
    except IntegrityError:
        raise Conflict(N_("The warranty of this item is already registered.")) from None
    maker = session.get(Organization, stamp.org_id)
    return view_of(registration, product.name, maker.name if maker else "", today)


def registration_shown(
    session: Session, scan: ScanToken | None, today: date | None = None
) -> WarrantyView:
    """The registration of the item a genuine scan's token names: the page a registration
    redirects to (Post/Redirect/Get, so a reload shows it again instead of registering
    twice). InvalidInput for a bad token, as `register`; NotFound when it is not registered."""
    stamp, product = _scanned(session, scan)
    registration = registration_of(session, stamp.code)
    if registration is None:
        raise NotFound(N_("The warranty of this item is not registered yet."))
    maker = session.get(Organization, stamp.org_id)
    today = today or vietnam_today()
    return view_of(registration, product.name, maker.name if maker else "", today)


def _scanned(session: Session, scan: ScanToken | None) -> tuple[Stamp, Product]:
    if scan is None or scan.outcome != "genuine":
        raise InvalidInput(_BAD_TOKEN)
    stamp = session.get(Stamp, scan.code)
    if stamp is None or stamp.status != ACTIVE or stamp.product_id is None:
        raise InvalidInput(N_("This stamp is no longer valid: its warranty cannot be registered."))
    product = session.get(Product, stamp.product_id)
    if product is None or not product.warranty_months:
        raise InvalidInput(N_("This product has no warranty to register."))
    return stamp, product


def registration_of(session: Session, code: str) -> WarrantyRegistration | None:
    """The item's registration (one indexed read by the unique stamp code)."""
    query = select(WarrantyRegistration).where(WarrantyRegistration.stamp_code == code)
    return session.scalars(query).first()


def registered_until(session: Session, code: str) -> date | None:
    """When the item's registered warranty ends, or None: what the genuine page shows."""
    query = select(WarrantyRegistration.ends_on).where(WarrantyRegistration.stamp_code == code)
    return session.scalar(query)


def _checked_text(value: str, field: str, limit: int, *, required: bool = False) -> str | None:
    """`field` is the form's label (N_), which refusals name."""
    text = plain_text(value, field).strip()
    if required and not text:
        raise InvalidInput(N_("Give your name."))
    if not text.isprintable():
        raise InvalidInput(N_("%(field)s contains characters that are not allowed."), field=field)
    if len(text) > limit:
        raise InvalidInput(
            N_("%(field)s is longer than %(limit)s characters."), field=field, limit=limit
        )
    return text or None


def _checked_purchase(purchased: date | None, stamp: Stamp, months: int, today: date) -> date:
    """Not in the future, not before the stamp was applied, not so long ago that the
    warranty has ended already (and never more than MAX_YEARS_BACK years)."""
    if purchased is None:
        raise InvalidInput(N_("Give the purchase date."))
    if purchased > today:
        raise InvalidInput(N_("The purchase date cannot be in the future."))
    if purchased < years_before(today, MAX_YEARS_BACK):
        raise InvalidInput(N_("The purchase date must be within the last 10 years."))
    applied = stamp.activated_at.astimezone(DISPLAY_ZONE).date() if stamp.activated_at else None
    if applied is not None and purchased < applied:
        raise InvalidInput(
            N_("The purchase date is before the stamp was applied (%(date)s)."),
            date=applied.strftime("%d/%m/%Y"),
        )
    if add_months(purchased, months) < today:
        raise InvalidInput(
            N_("A warranty of %(months)s months from this purchase date has already ended."),
            months=months,
        )
    return purchased


def lookup(
    session: Session, serial: str, phone: str, today: date | None = None
) -> list[WarrantyView]:
    """The registrations of this serial made with this phone (serials are unique within an
    organization, so more than one maker's item may match). NotFound, the same for an unknown
    serial and a wrong phone; InvalidInput for a malformed serial or phone."""
    digits, number = parse_serial(serial), normalise_phone(phone)
    rows = session.execute(
        select(WarrantyRegistration, Product.name, Organization.name)
        .join(Product, Product.id == WarrantyRegistration.product_id)
        .join(Organization, Organization.id == WarrantyRegistration.org_id)
        .where(WarrantyRegistration.serial == digits, WarrantyRegistration.phone == number)
        .order_by(WarrantyRegistration.id)
    ).all()
    if not rows:
        raise NotFound(N_("No warranty registration matches this serial number and phone number."))
    today = today or vietnam_today()
    return [view_of(row, product, maker, today) for row, product, maker in rows]


def view_of(
    registration: WarrantyRegistration, product: str, maker: str, today: date
) -> WarrantyView:
    return WarrantyView(
        grouped(registration.serial),
        product,
        maker,
        registration.purchase_date,
        registration.ends_on,
        registration.shop,
        status_of(registration.ends_on, today),
    )


def status_of(ends_on: date, today: date) -> str:
    return VALID if today <= ends_on else EXPIRED


@dataclass(frozen=True, slots=True)
class OwnedRegistration:
    """A registration as its owner lists it (with the product's name and GTIN)."""

    registration: WarrantyRegistration
    product: str
    gtin: str | None

    @property
    def registered_at(self) -> datetime:
        return self.registration.created_at


def list_registrations(
    session: Session,
    actor: Actor,
    *,
    search: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Sequence[OwnedRegistration]:
    """The organization's registrations, newest first, keyset-paged by id; `search` is a
    serial (grouped or not) or a phone number, InvalidInput when it is neither."""
    org = require(session, actor, "view")
    query = (
        select(WarrantyRegistration, Product.name, Product.gtin)
        .join(Product, Product.id == WarrantyRegistration.product_id)
        .where(WarrantyRegistration.org_id == org.id)
    )
    if search and search.strip():
        query = query.where(_search_filter(search))
    if before is not None:
        query = query.where(WarrantyRegistration.id < before)
    rows = session.execute(query.order_by(WarrantyRegistration.id.desc()).limit(limit))
    return [OwnedRegistration(row, name, gtin) for row, name, gtin in rows]


def _search_filter(search: str) -> ColumnElement[bool]:
    try:
        return WarrantyRegistration.serial == parse_serial(search)
    except InvalidInput:
        pass
    try:
        return WarrantyRegistration.phone == normalise_phone(search)
    except InvalidInput:
        raise InvalidInput(N_("Search by a serial number (12 digits) or a phone number.")) from None
