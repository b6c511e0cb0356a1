"""The staff scanner's list: stamps read one after another by a phone's camera, then looked up,
received, shipped or activated in one action (the portal's `/portal/scan`).

Staff scanning is not a shopper's scan: nothing here touches a stamp's scan count or writes a
scan event, so a warehouse that scans every box on arrival leaves every stamp with its shopper
scans intact. A line that is not a code this server issued is refused by its tag before any
database read (stamps/codes.py), and a stamp the organization may not see reads exactly like
an unknown one, so the list cannot be used to probe another organization's stamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import can_oversee, require
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.codes import MAX_INPUT_LENGTH, InvalidCode, Keyring, normalise, verify
from chinhhang.stamps.models import IN_TRANSIT, Shipment, Stamp
from chinhhang.stamps.services.listing import StampRow, issued_or_held, rows_by_code
from chinhhang.stamps.services.runs import activate
from chinhhang.stamps.services.selection import Selection
from chinhhang.stamps.services.shipments import receive, ship

# One list is what a person scans in one go: a few cartons, a shelf, a pallet's boxes.
MAX_SCANNED = 500
# A printed stamp's address is https://host[/prefix]/v/CODE, far shorter than this; a longer
# line is not one (and the form's limit is MAX_SCANNED lines of this).
URL_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ScannedList:
    """What a list of scanned lines turned out to be, in the order they were scanned."""

    # (code, row) of the stamps this organization may see.
    found: tuple[tuple[str, StampRow], ...]
    # Lines that are not a stamp known to this organization (forged, mistyped, someone
    # else's, or not a stamp's code at all), as the person gave them.
    unknown: tuple[str, ...]

    @property
    def codes(self) -> list[str]:
        return [code for code, _row in self.found]

    @property
    def rows(self) -> list[StampRow]:
        return [row for _code, row in self.found]


@dataclass(frozen=True, slots=True)
class LineReader:
    """Turns a scanned or typed line into a code: a bare code, or the address printed on this
    server's stamps (`BASE_URL/v/CODE`, any case). An address on any other host is refused
    even when it carries a real code: a look-alike site's label with a copied code is exactly
    what an inspector must not see pass as a stamp."""

    keyring: Keyring
    base_url: str

    def code_of(self, text: str) -> str | None:
        """The canonical code the line carries, None when it carries none this server could
        have issued."""
        candidate = self._candidate(text)
        if candidate is None:
            return None
        try:
            return verify(self.keyring, candidate)
        except InvalidCode:
            return None

    def _candidate(self, text: str) -> str | None:
        text = text.strip()
        if not text or len(text) > URL_LIMIT:
            return None
        if "/" not in text:
            return text if len(text) <= MAX_INPUT_LENGTH else None
        try:
            parts, base = urlsplit(text), urlsplit(self.base_url)
        except ValueError:
            return None
        if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
            return None
        route = base.path.rstrip("/") + "/v/"
        if not parts.path.lower().startswith(route.lower()):
            return None
        last = parts.path[len(route) :].rstrip("/")
        return last if "/" not in last and len(last) <= MAX_INPUT_LENGTH else None

    def shown(self, text: str) -> str:
        """A refused line as the answer names it. Anything shaped like a code is shortened
        the same way whether its tag is wrong or it is someone else's stamp, so the answer
        does not tell the two apart; an address elsewhere is named by its host; anything else
        is shown as given (a product's code, a word)."""
        text = text.strip()
        candidate = self._candidate(text)
        if candidate is not None:
            try:
                return _short(normalise(candidate))
            except InvalidCode:
                pass
        try:
            host = urlsplit(text).netloc if "://" in text[:12] else ""
        except ValueError:
            host = ""
        return f"{host[:60]} …" if host else text[:80]

    def read_lines(self, text: str) -> tuple[list[str], list[str]]:
        """Codes (canonical, each once, in scan order) and the lines that carry none."""
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_SCANNED:  # counted before any work: a pasted file is refused
            raise InvalidInput(N_("At most %(n)s stamps at once."), n=MAX_SCANNED)
        if not lines:
            raise InvalidInput(N_("Scan or type at least one stamp."))
        codes: dict[str, None] = {}
        rejected: list[str] = []
        for line in lines:
            code = self.code_of(line)
            if code is None:
                rejected.append(self.shown(line))
            else:
                codes.setdefault(code)
        return list(codes), rejected


def look_up(session: Session, actor: Actor, reader: LineReader, text: str) -> ScannedList:
    """The scanned stamps as the organization sees them: its own, those it holds and those
    travelling to it; regulators see every stamp (an inspection in a shop reads stamps
    without spending the shoppers' scans)."""
    org = require(session, actor, "view")
    codes, rejected = reader.read_lines(text)
    visible: list[ColumnElement[bool]] = []
    if not can_oversee(session, actor):
        incoming = select(Shipment.id).where(
            Shipment.to_org_id == org.id, Shipment.status == IN_TRANSIT
        )
        visible.append(or_(issued_or_held(org.id), Stamp.shipment_id.in_(incoming)))
    rows = rows_by_code(session, codes, *visible) if codes else {}
    found = tuple((code, rows[code]) for code in codes if code in rows)
    unknown = tuple(rejected) + tuple(_short(code) for code in codes if code not in rows)
    return ScannedList(found, unknown)


def receive_scanned(
    session: Session, actor: Actor, reader: LineReader, text: str
) -> list[Shipment]:
    """Receive the shipments the scanned stamps travel in, each as a whole. Refused, changing
    nothing, when any scanned stamp is not in a shipment to this organization: a stray box is
    a question for a person, not a guess."""
    org = require(session, actor, "receive_stamps")
    scanned = _all_known(look_up(session, actor, reader, text))
    shipment_ids = session.scalars(
        select(Shipment.id)
        .join(Stamp, Stamp.shipment_id == Shipment.id)
        .where(
            Stamp.code.in_(scanned.codes),
            Shipment.to_org_id == org.id,
            Shipment.status == IN_TRANSIT,
        )
    ).all()
    strays = len(scanned.codes) - len(shipment_ids)
    if strays:
        raise InvalidInput(
            N_("%(n)s of these stamps are not in a shipment to your organization."), n=strays
        )
    return [receive(session, actor, sid) for sid in sorted(set(shipment_ids))]


def ship_scanned(
    session: Session,
    actor: Actor,
    reader: LineReader,
    text: str,
    *,
    to_org_id: int,
    reference: str | None = None,
) -> Shipment:
    """Ship exactly the scanned stamps (one manufacturer's at a time: serials are only unique
    per manufacturer), with ship()'s own all-or-nothing checks of custody."""
    require(session, actor, "ship_stamps")
    scanned = _all_known(look_up(session, actor, reader, text))
    selection = _one_issuer(scanned.rows)
    return ship(session, actor, to_org_id=to_org_id, selection=selection, reference=reference)


def activate_scanned(
    session: Session,
    actor: Actor,
    reader: LineReader,
    text: str,
    *,
    product_id: int,
    lot: str | None = None,
) -> int:
    """Activate the scanned stamps for a product (and lot): the labels a packer has just put
    on a batch, read off the line. Only the organization's own stamps; returns how many
    changed (stamps already active keep their product)."""
    org = require(session, actor, "issue_stamps")
    scanned = _all_known(look_up(session, actor, reader, text))
    if any(row.issuer_org_id != org.id for row in scanned.rows):
        raise InvalidInput(N_("Only your organization's own stamps can be activated."))
    selection = _one_issuer(scanned.rows)
    return activate(session, actor, selection=selection, product_id=product_id, lot=lot)


def _all_known(scanned: ScannedList) -> ScannedList:
    if scanned.unknown:
        raise NotFound(
            N_("%(n)s of the scanned codes are not stamps of your organization: %(codes)s"),
            n=len(scanned.unknown),
            codes=", ".join(scanned.unknown[:5]) + (" …" if len(scanned.unknown) > 5 else ""),
        )
    return scanned


def _one_issuer(rows: list[StampRow]) -> Selection:
    issuers = {row.issuer_org_id for row in rows}
    if len(issuers) != 1:
        raise InvalidInput(N_("Scan one manufacturer's stamps at a time."))
    return Selection(
        sequences=tuple(sorted({row.sequence for row in rows})), issuer_org_id=issuers.pop()
    )


def _short(code: str) -> str:
    """A code named in an answer: enough to find the label in a pile, not enough to print it."""
    return f"{code[:4]}…{code[-4:]}"
