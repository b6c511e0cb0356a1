"""The link types of the GS1 Web Vocabulary this platform offers, and reading them.

They live in the catalog because a manufacturer chooses them for its products' links
(catalog/links.py); the resolver above (trace/) reads the same vocabulary through
trace/links.py, which re-exports these names. Pure module.
"""

from __future__ import annotations

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

GS1_VOC = "https://gs1.org/voc/"
# The compact IRI prefix links are stored under (`gs1:pip`).
GS1_PREFIX = "gs1:"

# The link types this platform offers, with an English title (a msgid) for linksets and pages.
LINK_TYPES: dict[str, str] = {
    "pip": N_("Product information"),
    "verificationService": N_("Check that this product is genuine"),
    "promotion": N_("Promotions"),
    "registerProduct": N_("Register the warranty"),
    "certificationInfo": N_("Certifications"),
    "traceability": N_("Where it was made and how it travelled"),
    "recallStatus": N_("Recall status"),
    "epcis": N_("Traceability events (EPCIS)"),
    "instructions": N_("Instructions"),
    "support": N_("Customer support"),
    "sustainabilityInfo": N_("Sustainability"),
    "safetyInfo": N_("Safety information"),
    "relatedVideo": N_("Video"),
    "hasRetailers": N_("Where to buy"),
    "masterData": N_("Master data"),
}


def link_type(value: str) -> str:
    """The short name of a link type written as `gs1:pip`, `https://gs1.org/voc/pip` or `pip`;
    InvalidInput for one this platform does not offer (the resolver answers 404 for those
    only when the type is valid but the product lacks it)."""
    text = value.strip()
    for prefix in (GS1_PREFIX, GS1_VOC, GS1_VOC.replace("https:", "http:")):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if text not in LINK_TYPES:
        raise InvalidInput(
            N_("Unknown link type %(name)s; this resolver offers %(choices)s."),
            name=value[:60],
            choices=", ".join(f"{GS1_PREFIX}{name}" for name in LINK_TYPES),
        )
    return text


def compact_link_type(value: str) -> str:
    """The stored form of any accepted spelling: `gs1:pip`."""
    return GS1_PREFIX + link_type(value)
