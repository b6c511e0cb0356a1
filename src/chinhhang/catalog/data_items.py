"""The ten data items Circular 02/2024/TT-BKHCN asks of a traced product (SPEC section 6).

Article 4 of the circular lists what a traceability system must hold for a product: (a) name,
(b) images, (c) producer, (d) producer's address, (e) the stages with the item code, the
location code and the time of each event, (f) production time, (g) the product's tracing code,
(h) brand and serial, (i) shelf life, (k) the standards applied (TCVN, QCVN or other). The
shopper's pages show the ones that exist; the portal shows a product's completeness against
the list, so the business sees what it still has to fill in.

Pure: it reads the rows it is given and does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch, Product
from chinhhang.i18n import N_


@dataclass(frozen=True, slots=True)
class DataItem:
    key: str
    # A msgid: templates translate it.
    label: str
    present: bool
    # What a person needs to fill in when it is missing (a msgid), where to do it.
    hint: str


def _has(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def product_data_items(
    product: Product, manufacturer: Organization, batches: Sequence[Batch] = ()
) -> list[DataItem]:
    """The ten items for a product and its batches, in the circular's order.

    The items that live on a batch (stages, production time) count as present when at least
    one batch has them: a product is complete when what a shopper's lot page will show exists.
    Serials come from the stamps, so item (h) asks only for the brand here.
    """
    staged = any(_has(b.facility) and _has(b.facility_gln or manufacturer.gln) for b in batches)
    return [
        DataItem("name", N_("Product name"), _has(product.name), N_("Name the product.")),
        DataItem(
            "images",
            N_("Product images"),
            _has(product.image_file) or _has(product.image_url),
            N_("Upload a photo of the product."),
        ),
        DataItem("producer", N_("Producer"), _has(manufacturer.name), N_("Name the organization.")),
        DataItem(
            "producer_address",
            N_("Producer's address"),
            _has(manufacturer.address),
            N_("Give the organization's address."),
        ),
        DataItem(
            "stages",
            N_("Stages with item code, location code and time"),
            staged,
            N_("Give a batch its facility and the facility's GLN (location code)."),
        ),
        DataItem(
            "production_time",
            N_("Production time"),
            any(b.production_date is not None for b in batches),
            N_("Give a batch its production date."),
        ),
        DataItem(
            "tracing_code",
            N_("Product tracing code"),
            # The platform's own product code always exists; a GTIN is what other systems
            # read, so it is what the item asks for.
            _has(product.gtin),
            N_("Give the product its GTIN."),
        ),
        DataItem("brand", N_("Brand and serial"), _has(product.brand), N_("Give the brand.")),
        DataItem(
            "shelf_life",
            N_("Shelf life"),
            _has(product.shelf_life) or any(b.expiry_date is not None for b in batches),
            N_("Give the shelf life, or a batch's expiry date."),
        ),
        DataItem(
            "standards",
            N_("Applied standards (TCVN, QCVN or other)"),
            _has(product.standards),
            N_("List the standards the product is declared to meet."),
        ),
    ]


def completeness(items: Sequence[DataItem]) -> tuple[int, int]:
    """(items present, items asked for)."""
    return sum(item.present for item in items), len(items)
