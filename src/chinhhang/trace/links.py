"""Links a GS1 resolver serves: the link types of the GS1 Web Vocabulary, and the RFC 9264
linkset that lists them.

A resolver answers `/01/{gtin}` with a redirect to one link (the default, or the `linkType`
asked for) and describes all of them in a linkset (`?linkType=linkset` or `Accept:
application/linkset+json`), announced by a `Link` header on every answer. This module holds the
vocabulary and the document shapes; which links a product has is the resolver's business.
Pure module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

GS1_VOC = "https://gs1.org/voc/"
LINKSET_MEDIA_TYPE = "application/linkset+json"
DEFAULT_LINK = "defaultLink"
DEFAULT_LINK_MULTI = "defaultLinkMulti"

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
    for prefix in ("gs1:", GS1_VOC, GS1_VOC.replace("https:", "http:")):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if text not in LINK_TYPES:
        raise InvalidInput(
            N_("Unknown link type %(name)s; this resolver offers %(choices)s."),
            name=value[:60],
            choices=", ".join(f"gs1:{name}" for name in LINK_TYPES),
        )
    return text


@dataclass(frozen=True, slots=True)
class Link:
    """One target: what it is (`link_type`, a short name), where, in which language."""

    link_type: str
    href: str
    title: str
    lang: str = "vi"
    media_type: str = "text/html"

    def target(self) -> dict[str, object]:
        """RFC 9264 target object; `hreflang` is an array there, unlike in a Link header."""
        return {
            "href": self.href,
            "title": self.title,
            "hreflang": [self.lang],
            "type": self.media_type,
        }


def linkset(anchor: str, links: Sequence[Link], default: Link) -> dict[str, object]:
    """The RFC 9264 JSON linkset of `anchor` (the Digital Link URI of the item asked about):
    every link under its GS1 link type URI, the default one also under `defaultLink`, and
    every link in every language under `defaultLinkMulti` when there are several languages."""
    context: dict[str, object] = {"anchor": anchor}
    for link in links:
        key = GS1_VOC + link.link_type
        targets = context.setdefault(key, [])
        assert isinstance(targets, list)  # noqa: S101 - built here, always a list
        targets.append(link.target())
    context[GS1_VOC + DEFAULT_LINK] = [default.target()]
    defaults = [link for link in links if link.link_type == default.link_type]
    if len({link.lang for link in defaults}) > 1:
        context[GS1_VOC + DEFAULT_LINK_MULTI] = [link.target() for link in defaults]
    return {"linkset": [context]}


def linkset_header(linkset_url: str) -> str:
    """The `Link` header every resolver answer carries, redirects included."""
    return f'<{linkset_url}>; rel="linkset"; type="{LINKSET_MEDIA_TYPE}"'
