"""How EPCIS events name the platform's stamps, products, lots, organizations and places.

A stamp of a product with a GTIN is a GS1 serialised item: `https://id.gs1.org/01/{gtin14}/21/
{serial}` (SGTIN `urn:epc:id:sgtin:…` when the company prefix is known), the serial being the
12-digit printed one. Anything without a GS1 key is named by a URI under the installation's
base URL, in one `/id/` namespace shaped so that no Digital Link parser can take it for one: a
Digital Link's path ends in (AI, value) pairs, and each of these ends in a pair whose first
segment is a word, not an AI (`/id/stamp/8010/serial/…` would otherwise read as a CPID):

| what | with GS1 keys | without (`{base}`: CHINHHANG_BASE_URL) |
| --- | --- | --- |
| a stamp | `https://id.gs1.org/01/{gtin14}/21/{serial}` | `{base}/id/stamp/{org}/serial/{serial}` |
| its product (class) | `https://id.gs1.org/01/{gtin14}` | `{base}/id/product/{id}` |
| a lot (class) | `https://id.gs1.org/01/{gtin14}/10/{lot}` | `{base}/id/product/{id}/lot/{lot}` |
| stamps bound to nothing yet (class) | | `{base}/id/stamp/{issuer}` |
| an organization's place | `https://id.gs1.org/414/{gln}` | `{base}/id/org/{id}` |
| an organization as a party | `https://id.gs1.org/417/{gln}` | `{base}/id/org/{id}` |
| a batch's facility | `https://id.gs1.org/414/{facility gln}` | its organization's place |
| a shipment (business transaction) | | `{base}/id/shipment/{id}` |

A stamp is named by its *current* product: an issued stamp is `/id/stamp/…` until activation
binds it to a product with a GTIN, after which every event about it names the GTIN form.

The stamp's code (the secret of its QR) appears in none of these: only the public serial does.
Reading an identifier back (`stamp_for_identifier`, `class_for_identifier`) accepts Digital
Links at any host (a Digital Link's host is not part of the identity), SGTIN and LGTIN URIs,
and the platform's URIs at any host (so that they survive a change of the base URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.models import Batch, Product
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import SERIAL_DIGITS, InvalidSerial, sequence_of
from chinhhang.trace.digital_link import DigitalLink, InvalidDigitalLink
from chinhhang.trace.digital_link import parse as parse_digital_link
from chinhhang.trace.epcis.identifiers import (
    GS1_RESOLVER,
    InvalidIdentifier,
    digital_link_to_lgtin,
    digital_link_to_sgtin,
    lgtin_to_digital_link,
    parse_epc_uri,
    sgtin_to_digital_link,
)

# Row ids in the platform's URIs: positive, and small enough for any integer column.
MAX_ID = 2**31 - 1
_ANY_BASE = r"https?://[^/?#\s]+(?:/[^?#\s]*)?/id"
_ROW = r"([1-9][0-9]{0,9})"
_PLATFORM_STAMP = re.compile(rf"{_ANY_BASE}/stamp/{_ROW}/serial/([0-9]{{{SERIAL_DIGITS}}})")
_PLATFORM_PRODUCT = re.compile(rf"{_ANY_BASE}/product/{_ROW}(?:/lot/([^/?#\s]+))?")
_PLATFORM_ORG = re.compile(rf"{_ANY_BASE}/org/{_ROW}")


# --- Naming ----------------------------------------------------------------------------------


def stamp_identifier(gtin: str | None, issuer_org_id: int, serial: str, base_url: str) -> str:
    """The instance identifier of a stamp (its serial, never its code)."""
    if gtin:
        return f"{GS1_RESOLVER}/01/{gtin}/21/{serial}"
    return f"{base_url}/id/stamp/{issuer_org_id}/serial/{serial}"


def product_class_identifier(gtin: str | None, product_id: int, base_url: str) -> str:
    if gtin:
        return f"{GS1_RESOLVER}/01/{gtin}"
    return f"{base_url}/id/product/{product_id}"


def lot_class_identifier(gtin: str | None, product_id: int, lot: str, base_url: str) -> str:
    return f"{product_class_identifier(gtin, product_id, base_url)}/" + (
        f"10/{quote(lot, safe='')}" if gtin else f"lot/{quote(lot, safe='')}"
    )


def unbound_class_identifier(issuer_org_id: int, base_url: str) -> str:
    """The class of an issuer's stamps that are bound to no product yet."""
    return f"{base_url}/id/stamp/{issuer_org_id}"


def location_identifier(gln: str | None, org_id: int, base_url: str) -> str:
    """An organization's place (readPoint, bizLocation, a `location` source or destination)."""
    return f"{GS1_RESOLVER}/414/{gln}" if gln else f"{base_url}/id/org/{org_id}"


def party_identifier(gln: str | None, org_id: int, base_url: str) -> str:
    """An organization as a party (an `owning_party` source or destination): a GLN names a
    party with AI (417), a place with AI (414)."""
    return f"{GS1_RESOLVER}/417/{gln}" if gln else f"{base_url}/id/org/{org_id}"


def facility_identifier(
    facility_gln: str | None, org_gln: str | None, org_id: int, base_url: str
) -> str:
    """A batch's production facility by its own GLN; else the organization's place."""
    if facility_gln:
        return f"{GS1_RESOLVER}/414/{facility_gln}"
    return location_identifier(org_gln, org_id, base_url)


def shipment_identifier(shipment_id: int, base_url: str) -> str:
    return f"{base_url}/id/shipment/{shipment_id}"


# --- Reading back (pure) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StampName:
    """What a stamp identifier says: a GTIN and serial, or the issuer and serial."""

    sequence: int
    gtin: str | None = None
    issuer_org_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClassName:
    """What a class identifier says: a GTIN, or the platform's product id; maybe a lot."""

    gtin: str | None = None
    product_id: int | None = None
    lot: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceName:
    """What a location identifier says: a GLN, or the platform's organization id."""

    gln: str | None = None
    org_id: int | None = None


def _sequence(serial: str) -> int | None:
    if len(serial) != SERIAL_DIGITS or not serial.isascii() or not serial.isdigit():
        return None
    try:
        return sequence_of(serial)
    except InvalidSerial:
        return None


def _id(text: str) -> int | None:
    value = int(text)
    return value if value <= MAX_ID else None


def _link(uri: str) -> DigitalLink | None:
    if not uri.lower().startswith(("http://", "https://")):
        return None
    try:
        return parse_digital_link(uri)
    except (InvalidDigitalLink, ValueError, KeyError):  # "never raises" holds even on a bug
        return None


def parse_stamp_identifier(uri: str) -> StampName | None:
    """The stamp an identifier can denote (not checked against the database); None when it
    is no stamp identifier of the platform's form. Never raises."""
    if not isinstance(uri, str) or len(uri) > 500:
        return None
    found = _PLATFORM_STAMP.fullmatch(uri)
    if found:
        issuer, sequence = _id(found.group(1)), _sequence(found.group(2))
        return StampName(sequence, issuer_org_id=issuer) if issuer and sequence else None
    if uri.startswith("urn:epc:id:sgtin:"):
        try:
            uri = sgtin_to_digital_link(uri)
        except InvalidIdentifier:
            return None
    link = _link(uri)
    if link is None or link.gtin is None or link.value("21") is None:
        return None
    sequence = _sequence(link.value("21") or "")
    return StampName(sequence, gtin=link.gtin) if sequence else None


def _pattern_gtin(uri: str) -> str | None:
    """The GTIN of `urn:epc:idpat:sgtin:{prefix}.{reference}.*` (every item of one GTIN)."""
    try:
        epc = parse_epc_uri(uri)
    except InvalidIdentifier:
        return None
    if epc.kind != "idpat" or epc.scheme != "sgtin" or "*" in epc.parts[:2]:
        return None
    prefix, reference, _ = epc.parts
    body = reference[0] + prefix + reference[1:]
    return body + str(check_digit(body))


def parse_class_identifier(uri: str) -> ClassName | None:
    """The product (and lot) a class identifier names; None when not of a known form."""
    if not isinstance(uri, str) or len(uri) > 500:
        return None
    found = _PLATFORM_PRODUCT.fullmatch(uri)
    if found:
        product_id = _id(found.group(1))
        lot = unquote(found.group(2)) if found.group(2) else None
        return ClassName(product_id=product_id, lot=lot) if product_id else None
    if uri.startswith("urn:epc:idpat:"):
        gtin = _pattern_gtin(uri)
        return ClassName(gtin=gtin) if gtin else None
    if uri.startswith("urn:epc:class:lgtin:"):
        try:
            uri = lgtin_to_digital_link(uri)
        except InvalidIdentifier:
            return None
    link = _link(uri)
    if link is None or link.gtin is None or link.value("21") is not None:
        return None
    return ClassName(gtin=link.gtin, lot=link.value("10"))


def parse_place_identifier(uri: str) -> PlaceName | None:
    """The place a location identifier names: a GLN (Digital Link `/414/…` at any host, or an
    SGLN without extension), or the platform's `/id/org/{id}`; None otherwise."""
    if not isinstance(uri, str) or len(uri) > 500:
        return None
    found = _PLATFORM_ORG.fullmatch(uri)
    if found:
        org_id = _id(found.group(1))
        return PlaceName(org_id=org_id) if org_id else None
    if uri.startswith("urn:epc:id:sgln:"):
        try:
            prefix, reference, extension = parse_epc_uri(uri).parts
        except InvalidIdentifier:
            return None
        body = prefix + reference
        return PlaceName(gln=body + str(check_digit(body))) if extension == "0" else None
    link = _link(uri)
    if link is None or link.primary[0] != "414" or link.qualifiers:
        return None
    return PlaceName(gln=link.primary[1])


def company_prefix_length(gtin: str, company_prefix: str | None) -> int | None:
    """The length of `company_prefix` when the GTIN-14 is one of that company's (its digits
    after the indicator start with it), else None: what an SGTIN needs and a GTIN lacks."""
    if not company_prefix or not 6 <= len(company_prefix) <= 12:
        return None
    return len(company_prefix) if gtin[1:].startswith(company_prefix) else None


def equivalent_identifiers(uri: str, company_prefix_length: int | None = None) -> tuple[str, ...]:
    """`uri` and its other spellings: the Digital Link at id.gs1.org of an SGTIN, LGTIN or a
    Digital Link at any host; and, given the company prefix's length (see
    `company_prefix_length`, from the organization's `gs1_company_prefix`), the SGTIN, LGTIN
    or SGTIN pattern of a Digital Link. Just `(uri,)` when nothing else is derivable; never
    raises."""
    found = [uri]
    try:
        if uri.startswith("urn:epc:id:sgtin:"):
            found.append(sgtin_to_digital_link(uri))
        elif uri.startswith("urn:epc:class:lgtin:"):
            found.append(lgtin_to_digital_link(uri))
        elif (link := _link(uri)) is not None and link.gtin is not None:
            found.extend(_gtin_spellings(link, company_prefix_length))
    except InvalidIdentifier:
        pass
    return tuple(dict.fromkeys(found))


def _gtin_spellings(link: DigitalLink, prefix_length: int | None) -> list[str]:
    gtin, lot, serial = link.gtin or "", link.value("10"), link.value("21")
    if prefix_length is not None and not 6 <= prefix_length <= 12:
        prefix_length = None
    if serial is not None:
        canonical = f"{GS1_RESOLVER}/01/{gtin}/21/{quote(serial, safe='')}"
        return (
            [canonical, digital_link_to_sgtin(canonical, prefix_length)]
            if prefix_length
            else [canonical]
        )
    if lot is not None:
        canonical = f"{GS1_RESOLVER}/01/{gtin}/10/{quote(lot, safe='')}"
        return (
            [canonical, digital_link_to_lgtin(canonical, prefix_length)]
            if prefix_length
            else [canonical]
        )
    canonical = f"{GS1_RESOLVER}/01/{gtin}"
    if not prefix_length:
        return [canonical]
    end = 1 + prefix_length
    return [canonical, f"urn:epc:idpat:sgtin:{gtin[1:end]}.{gtin[0]}{gtin[end:13]}.*"]


# --- Reading back against the database -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundStamp:
    code: str
    issuer_org_id: int
    sequence: int


def find_stamp(session: Session, uri: str) -> FoundStamp | None:
    """The platform stamp an identifier denotes, with its serial's place; None if none.

    A GTIN form denotes a stamp only while that stamp is bound to the GTIN's product: the
    GTIN says whose serials they are (the product's organization issued the stamp)."""
    name = parse_stamp_identifier(uri)
    if name is None:
        return None
    query = select(Stamp.code, Stamp.org_id, Stamp.sequence).where(Stamp.sequence == name.sequence)
    if name.gtin is not None:
        query = query.join(Product, Product.id == Stamp.product_id).where(
            Product.gtin == name.gtin, Stamp.org_id == Product.org_id
        )
    else:
        query = query.where(Stamp.org_id == name.issuer_org_id)
    row = session.execute(query).first()
    return FoundStamp(row[0], int(row[1]), int(row[2])) if row else None


def stamp_for_identifier(session: Session, uri: str) -> str | None:
    """The code of the stamp an identifier denotes (Digital Link at any host, SGTIN, or the
    platform's own URI); None when it denotes no platform stamp. Never raises for bad input.
    The code is for joining rows: it must never be written into an event or an answer."""
    found = find_stamp(session, uri)
    return found.code if found else None


def class_for_identifier(session: Session, uri: str) -> tuple[int, int | None] | None:
    """(product id, batch id or None) of a class identifier of the platform's products; None
    when it names no product here (or a lot the product does not have)."""
    name = parse_class_identifier(uri)
    if name is None:
        return None
    query = select(Product.id)
    if name.gtin is not None:
        query = query.where(Product.gtin == name.gtin)
    else:
        query = query.where(Product.id == name.product_id)
    product_id = session.scalar(query)
    if product_id is None or name.lot is None:
        return (product_id, None) if product_id is not None else None
    batch_id = session.scalar(
        select(Batch.id).where(Batch.product_id == product_id, Batch.lot == name.lot)
    )
    return (product_id, batch_id) if batch_id is not None else None
