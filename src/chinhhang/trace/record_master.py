"""The master data of a product's traceability record: what the identifiers in its events name.

EPCIS 2.0 carries master data in `epcisHeader.epcisMasterData.vocabularyList`: per vocabulary
type, elements by identifier, each with attributes named by URI. The attributes are those of
the CBV master data (`urn:epcglobal:cbv:mda#…`) where the CBV has one for the thing, and the
platform's own (`https://chinhhang.vn/voc/…`, the `chinhhang:` prefix) otherwise:

- `urn:epcglobal:epcis:vtype:EPCClass`: the product (descriptionShort = its name,
  manufacturerOfTradeItemPartyName; brand, GTIN, origin, standards, certifications, shelf
  life, warranty, website, product page, image, producer are the platform's) and each of its
  lots (lotNumber, itemExpirationDate; production date and facility are the platform's);
- `urn:epcglobal:epcis:vtype:Location`: the places the events name (name, streetAddressOne);
- `urn:epcglobal:epcis:vtype:Party`: the organizations the events name (name,
  streetAddressOne; the kind of organization is the platform's).

Origin is free text here, not the ISO 3166 code CBV's countryOfOrigin wants, so it is ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch, Product
from chinhhang.stamps.models import Shipment, StampEvent
from chinhhang.trace.epcis.platform import VOCABULARY
from chinhhang.trace.epcis.platform_query import of_classes
from chinhhang.trace.epcis.stamp_ids import (
    facility_identifier,
    location_identifier,
    lot_class_identifier,
    party_identifier,
    product_class_identifier,
)

CBV_MDA = "urn:epcglobal:cbv:mda#"
EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
LOCATION = "urn:epcglobal:epcis:vtype:Location"
PARTY = "urn:epcglobal:epcis:vtype:Party"


def _attributes(pairs: Iterable[tuple[str, object]]) -> list[dict[str, Any]]:
    """`{id, attribute}` for each pair with a value (empty text and None are left out)."""
    return [
        {"id": name, "attribute": value}
        for name, value in pairs
        if value is not None and (not isinstance(value, str) or value.strip())
    ]


def _element(identifier: str, pairs: Iterable[tuple[str, object]]) -> dict[str, Any]:
    return {"id": identifier, "attributes": _attributes(pairs)}


def product_page(product: Product, base_url: str) -> str:
    """The product's static code (SPEC section 2): what a shopper's phone opens."""
    return f"{base_url}/01/{product.gtin}" if product.gtin else f"{base_url}/p/{product.id}"


def _product(product: Product, maker: Organization, base_url: str) -> dict[str, Any]:
    ours = VOCABULARY
    image = product.image_url or (
        f"{base_url}/media/{product.image_file}" if product.image_file else None
    )
    return _element(
        product_class_identifier(product.gtin, product.id, base_url),
        [
            (f"{CBV_MDA}descriptionShort", product.name),
            (f"{CBV_MDA}manufacturerOfTradeItemPartyName", maker.name),
            (f"{ours}producer", party_identifier(maker.gln, maker.id, base_url)),
            (f"{ours}gtin", product.gtin),
            (f"{ours}brand", product.brand),
            (f"{ours}description", product.description),
            (f"{ours}origin", product.origin),
            (f"{ours}standards", product.standards),
            (f"{ours}certifications", product.certifications),
            (f"{ours}shelfLife", product.shelf_life),
            (f"{ours}warrantyMonths", product.warranty_months or None),
            (f"{ours}website", product.website),
            (f"{ours}productPage", product_page(product, base_url)),
            (f"{ours}image", image),
            (f"{ours}withdrawn", "true" if product.withdrawn else None),
        ],
    )


def _lot(product: Product, batch: Batch, maker: Organization, base_url: str) -> dict[str, Any]:
    facility = facility_identifier(batch.facility_gln, maker.gln, maker.id, base_url)
    return _element(
        lot_class_identifier(product.gtin, product.id, batch.lot, base_url),
        [
            (f"{CBV_MDA}lotNumber", batch.lot),
            (f"{CBV_MDA}itemExpirationDate", batch.expiry_date and batch.expiry_date.isoformat()),
            (
                f"{VOCABULARY}productionDate",
                batch.production_date and batch.production_date.isoformat(),
            ),
            (f"{VOCABULARY}facility", batch.facility),
            (f"{VOCABULARY}facilityLocation", facility),
        ],
    )


def participants(session: Session, product_id: int, maker_id: int) -> list[Organization]:
    """The maker and every organization that did a step over the product's stamps or sent or
    received them: one query on the steps, by the activation ranges of the product."""
    about, _ = of_classes([(product_id, None)])
    rows = session.execute(
        select(StampEvent.org_id, Shipment.from_org_id, Shipment.to_org_id)
        .outerjoin(Shipment, Shipment.id == StampEvent.shipment_id)
        .where(about)
        .distinct()
    )
    ids = {maker_id} | {org_id for row in rows for org_id in row if org_id is not None}
    return list(
        session.scalars(
            select(Organization).where(Organization.id.in_(ids)).order_by(Organization.id)
        )
    )


def _places(
    orgs: Sequence[Organization], maker: Organization, batches: Sequence[Batch], base_url: str
) -> list[dict[str, Any]]:
    elements: dict[str, dict[str, Any]] = {}
    for org in orgs:
        place = location_identifier(org.gln, org.id, base_url)
        elements[place] = _element(
            place, [(f"{CBV_MDA}name", org.name), (f"{CBV_MDA}streetAddressOne", org.address)]
        )
    for batch in batches:  # a facility without a GLN is its organization's place
        if batch.facility_gln:
            place = facility_identifier(batch.facility_gln, maker.gln, maker.id, base_url)
            owner = party_identifier(maker.gln, maker.id, base_url)
            elements.setdefault(
                place,
                _element(
                    place, [(f"{CBV_MDA}name", batch.facility), (f"{VOCABULARY}owner", owner)]
                ),
            )
    return list(elements.values())


def _parties(orgs: Sequence[Organization], base_url: str) -> list[dict[str, Any]]:
    return [
        _element(
            party_identifier(org.gln, org.id, base_url),
            [
                (f"{CBV_MDA}name", org.name),
                (f"{CBV_MDA}streetAddressOne", org.address),
                (f"{VOCABULARY}organizationKind", org.kind),
                (f"{VOCABULARY}website", org.website),
            ],
        )
        for org in orgs
    ]


def master_data(
    session: Session, product: Product, maker: Organization, batches: Sequence[Batch], base_url: str
) -> dict[str, Any]:
    """`epcisMasterData` of a product's record."""
    orgs = participants(session, product.id, maker.id)
    classes = [_product(product, maker, base_url)]
    classes += [_lot(product, batch, maker, base_url) for batch in batches]
    return {
        "vocabularyList": [
            {"type": EPC_CLASS, "vocabularyElementList": classes},
            {"type": LOCATION, "vocabularyElementList": _places(orgs, maker, batches, base_url)},
            {"type": PARTY, "vocabularyElementList": _parties(orgs, base_url)},
        ]
    }
