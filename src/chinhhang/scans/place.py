"""Where a scan happened, only when the shopper says so (SPEC section 9, Decree 13/2023).

Nothing about place is recorded by the scan itself. After the verdict, the shopper may press
"share my location" (the phone's position, rounded here to 0.01 degree, about 1.1 km) or pick
a province; that request presents the page's scan token, which names the scan event to
update (same stamp code, same instant). A token proves a real scan shown to this browser, so
nobody can place another person's scan; it is accepted for PLACE_TOKEN_MAX_AGE.

Not the hot path: the ORM's Core statements are fine here. The exact position never reaches
the database (only the rounded one), and no address is stored with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from chinhhang.db import utcnow
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.provinces import parse_province, province_name
from chinhhang.scans import tokens
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.rollups import move_to_province
from chinhhang.scans.sql import Place

PLACE_TOKEN_MAX_AGE = timedelta(hours=1)
# 0.01 degree of latitude is 1.11 km; of longitude, 1.11 km × cos(latitude) (≈1.05 km in Hà Nội).
DECIMALS = 2
_MAX_NUMBER_TEXT = 40


@dataclass(frozen=True, slots=True)
class SharedPlace:
    """What was stored with the scan: the outcome it had and the place as kept."""

    outcome: str
    latitude: float | None
    longitude: float | None
    province_code: int | None


def scan_of_token(key: bytes, token: str | None, max_age: timedelta) -> tokens.ScanToken:
    """The scan the token names; InvalidInput when it is missing, forged or too old."""
    scan = tokens.read(key, token, utcnow(), max_age)
    if scan is None:
        raise InvalidInput(
            N_("This link has expired or is not valid. Scan the code again to get a new one.")
        )
    return scan


def coordinate(value: object, low: float, high: float, field: str) -> float:
    """A finite number within [low, high], rounded to DECIMALS; InvalidInput otherwise.

    Only a number (a JSON number: int or float) is one: text such as "21" is refused, as a
    boolean is, so a caller learns its mistake instead of having it guessed (a form's text is
    read by `number_of_text` first)."""
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    if number is None or not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(
            N_("%(field)s must be a number from %(low)s to %(high)s."),
            field=field,
            low=f"{low:g}",
            high=f"{high:g}",
        )
    # round() gives -0.0 for small negatives: store and show 0.0.
    return round(number, DECIMALS) + 0.0


def number_of_text(text: str | None) -> object:
    """A form field's number as a float; the text itself when it is none (so that the
    service refuses it with its clear message), None when the field is missing or empty."""
    if text is None or not text.strip():
        return None
    if len(text) <= _MAX_NUMBER_TEXT:
        try:
            return float(text.strip())
        except ValueError:
            pass
    return text


def share_place(
    session: Session,
    key: bytes,
    token: str | None,
    *,
    latitude: object = None,
    longitude: object = None,
    province: str | int | None = None,
) -> SharedPlace:
    """Store the shopper's rounded position and/or province with the token's scan event.

    Raises InvalidInput (bad token, a number out of range, only one coordinate, nothing to
    store, an unknown province) or NotFound (no such scan event); either way nothing changes.
    """
    scan = scan_of_token(key, token, PLACE_TOKEN_MAX_AGE)
    lat = lon = None
    if latitude is not None or longitude is not None:
        if latitude is None or longitude is None or latitude == "" or longitude == "":
            raise InvalidInput(N_("Send both latitude and longitude."))
        lat = coordinate(latitude, -90.0, 90.0, N_("Latitude"))
        lon = coordinate(longitude, -180.0, 180.0, N_("Longitude"))
    code = parse_province(province)
    if lat is None and code is None:
        raise InvalidInput(N_("Share your location or choose a province."))
    record_place(session, scan, latitude=lat, longitude=lon, province_code=code)
    return SharedPlace(scan.outcome, lat, lon, code)


def record_place(
    session: Session,
    scan: tokens.ScanToken,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    province_code: int | None = None,
) -> None:
    """Write the (already rounded) place on the scan's event; what is None stays as it was.

    Also used by shoppers' reports (alerts) for the province they pick. Raises NotFound when
    no event matches the token (a grace-period view names its first scan, which exists).
    """
    values: dict[str, object] = {}
    if latitude is not None and longitude is not None:
        values |= {"latitude": round(latitude, DECIMALS), "longitude": round(longitude, DECIMALS)}
    if province_code is not None:
        values["province_code"] = province_code
    if not values:
        return
    # A page reopened in the grace period names its scan to the second (the grace cookie keeps
    # whole seconds); a fresh verdict's token, to the microsecond.
    when = (
        ScanEvent.scanned_at == scan.at
        if scan.at.microsecond
        else ScanEvent.scanned_at.between(scan.at, scan.at + timedelta(microseconds=999_999))
    )
    matching = [
        ScanEvent.stamp_code == scan.code,
        when,
        ScanEvent.outcome == scan.outcome,
        ScanEvent.kind == "dynamic",
    ]
    if province_code is not None:
        # The dashboard's counts by province follow the place (scans/rollups.py).
        ids = session.scalars(select(ScanEvent.id).where(*matching)).all()
        move_to_province(session, ids, province_code)
    statement = (
        update(ScanEvent)
        .where(*matching)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[object]", session.execute(statement))
    if result.rowcount == 0:
        raise NotFound(N_("This scan was not found. Scan the code again."))


def describe_place(place: Place | None) -> str | None:
    """How a warning page names the first shopper's place: the province, or None. Never the
    rounded position, which may be that shopper's home: the page is public."""
    if place is None:
        return None
    return province_name(place.province_code)


def places_of(session: Session, codes: Sequence[str]) -> dict[str, Place]:
    """The latest place a shopper shared for each stamp (one query for a page of alerts or
    rows of the market-control pages; never shown to the public)."""
    if not codes:
        return {}
    found = session.execute(
        select(
            ScanEvent.stamp_code,
            ScanEvent.province_code,
            ScanEvent.latitude,
            ScanEvent.longitude,
        )
        .where(
            ScanEvent.stamp_code.in_(codes),
            or_(ScanEvent.province_code.is_not(None), ScanEvent.latitude.is_not(None)),
        )
        .order_by(ScanEvent.id.desc())
    )
    places: dict[str, Place] = {}
    for code, province, latitude, longitude in found:
        if code is not None and code not in places:
            places[code] = Place(province, latitude, longitude)
    return places
