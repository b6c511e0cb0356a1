"""Shoppers' reports of suspected fakes (SPEC section 7): how a shopper sends and follows one.

A shopper sends one from a warning page (its scan token ties the report to the stamp, its
owner and product, the stamp's open alert and the scan event, which gets the province picked),
or without a token from the unknown-code or home page (no organization: regulators work
those). Each report gets a reference to follow it: its public page shows the status and the
notes marked public, nothing else (no contact data, no internal notes). How organizations
work reports is alerts/report_work.py.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.alerts.models import Alert, ReportNote, ShopperReport
from chinhhang.alerts.photos import clean_photo, remove_photo, save_photo
from chinhhang.alerts.report_fields import CheckedReport, ReportFields, check_report
from chinhhang.catalog.models import Product
from chinhhang.errors import Conflict, NotFound
from chinhhang.i18n import N_
from chinhhang.scans.place import record_place, scan_of_token
from chinhhang.scans.tokens import ScanToken
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for

# A shopper may report up to a week after the scan (at home, with the receipt at hand).
REPORT_TOKEN_MAX_AGE = timedelta(days=7)
REFERENCE_PREFIX = "PA-"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERENCE_CHARS = 8


@dataclass(frozen=True, slots=True)
class PublicNote:
    at: datetime
    status: str
    text: str


@dataclass(frozen=True, slots=True)
class PublicReport:
    """What the shopper following a reference sees: no contact data, no internal notes."""

    reference: str
    status: str
    created_at: datetime
    updated_at: datetime
    notes: list[PublicNote]


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """What the report form says it is about, from the scan token."""

    token: str
    outcome: str
    product: str | None
    serial: str | None


# -- the shopper ------------------------------------------------------------------------------


def new_reference() -> str:
    """PA- and 8 Crockford base32 characters (40 random bits), e.g. PA-7KQ2M9XD."""
    return REFERENCE_PREFIX + "".join(secrets.choice(_CROCKFORD) for _ in range(_REFERENCE_CHARS))


def submit_report(
    session: Session,
    *,
    token_key: bytes,
    token: str | None,
    fields: ReportFields,
    photo: bytes | None,
    data_dir: Path,
) -> ShopperReport:
    """Store a shopper's report; returns it with its reference.

    Raises InvalidInput for a bad field, a forged or expired token, or a photo that is too
    large, of another type or unreadable: all checked before anything is written (no row, no
    file). The photo is written last, re-encoded (alerts/photos.py).
    """
    checked = check_report(fields)
    scan = scan_of_token(token_key, token, REPORT_TOKEN_MAX_AGE) if token else None
    jpeg = clean_photo(photo) if photo else None
    report = _insert(session, checked, scan)
    if scan is not None and checked.province_code is not None:
        # Without the scan's event (its details pruned) the report still keeps the province.
        with contextlib.suppress(NotFound):
            record_place(session, scan, province_code=checked.province_code)
    if jpeg is not None:
        report.photo_file = save_photo(jpeg, data_dir)
        try:
            session.flush()
        except Exception:
            remove_photo(data_dir, report.photo_file)
            raise
    return report


def _insert(session: Session, checked: CheckedReport, scan: ScanToken | None) -> ShopperReport:
    """The report row, with a fresh reference (a second try in the unlikely clash)."""
    link = _stamp_link(session, scan)
    for _attempt in range(5):
        report = ShopperReport(
            reference=new_reference(),
            outcome=scan.outcome if scan else None,
            shop_name=checked.shop_name,
            shop_address=checked.shop_address,
            online_link=checked.online_link,
            province_code=checked.province_code,
            description=checked.description,
            contact_name=checked.contact_name,
            contact_phone=checked.contact_phone,
            contact_email=checked.contact_email,
            status="new",
            **link,
        )
        try:
            with session.begin_nested():
                session.add(report)
                session.flush()
        except IntegrityError:
            continue
        return report
    raise Conflict(N_("The report could not be saved; please send it again."))


def _stamp_link(session: Session, scan: ScanToken | None) -> dict[str, object]:
    """The stamp, its owner and product, and its open alert, for a report with a token."""
    if scan is None:
        return {}
    stamp = session.get(Stamp, scan.code)
    if stamp is None:
        return {}
    alert_id = session.scalar(
        select(Alert.id)
        .where(Alert.stamp_code == stamp.code, Alert.status != "closed")
        .order_by(Alert.id.desc())
        .limit(1)
    )
    return {
        "stamp_code": stamp.code,
        "org_id": stamp.org_id,
        "product_id": stamp.product_id,
        "alert_id": alert_id,
    }


def report_subject(session: Session, token_key: bytes, token: str | None) -> ReportSubject | None:
    """The scan a report form is about: None without a token; InvalidInput for a forged or
    expired one (the form then offers to report without it)."""
    if not token:
        return None
    scan = scan_of_token(token_key, token, REPORT_TOKEN_MAX_AGE)
    found = session.execute(
        select(Stamp.sequence, Product.name)
        .outerjoin(Product, Product.id == Stamp.product_id)
        .where(Stamp.code == scan.code)
    ).first()
    if found is None:
        return ReportSubject(token, scan.outcome, None, None)
    sequence, product = found
    return ReportSubject(token, scan.outcome, product, grouped(serial_for(int(sequence))))


def normalise_reference(text: str) -> str | None:
    """A reference as typed ("pa-7kq2 m9xd") in its stored form, or None if it cannot be one."""
    compact = "".join(text.split()).upper()
    body = compact.removeprefix(REFERENCE_PREFIX).replace("-", "")
    if len(body) != _REFERENCE_CHARS or any(char not in _CROCKFORD for char in body):
        return None
    return REFERENCE_PREFIX + body


def public_report(session: Session, reference: str) -> PublicReport:
    """The report's status and public notes by its reference; NotFound for any other text."""
    stored = normalise_reference(reference)
    report = (
        session.scalar(select(ShopperReport).where(ShopperReport.reference == stored))
        if stored
        else None
    )
    if report is None:
        raise NotFound(N_("No report has this reference number. Check it and try again."))
    notes = session.scalars(
        select(ReportNote)
        .where(ReportNote.report_id == report.id, ReportNote.public.is_(True))
        .order_by(ReportNote.id)
    ).all()
    return PublicReport(
        reference=report.reference,
        status=report.status,
        created_at=report.created_at,
        updated_at=report.updated_at,
        notes=[PublicNote(n.at, n.status_to, n.text or "") for n in notes],
    )
