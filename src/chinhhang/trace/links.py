"""Links a GS1 resolver serves: the link types of the GS1 Web Vocabulary, and the RFC 9264
linkset that lists them.

A resolver answers `/01/{gtin}` with a redirect to one link (the default, or the `linkType`
asked for) and describes all of them in a linkset (`?linkType=linkset` or `Accept:
application/linkset+json`), announced by a `Link` header on every answer. This module holds the
document shapes (the vocabulary itself is catalog/link_types.py); which links a product has
is the resolver's business. Pure module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The vocabulary belongs to the catalog (products choose their links' types there); it is
# re-exported here for the resolver, which sits above the catalog.
from chinhhang.catalog.link_types import GS1_VOC, LINK_TYPES, link_type

__all__ = [
    "DEFAULT_LINK",
    "DEFAULT_LINK_MULTI",
    "GS1_VOC",
    "LINKSET_MEDIA_TYPE",
    "LINK_TYPES",
    "Link",
    "link_type",
    "linkset",
    "linkset_header",
]

LINKSET_MEDIA_TYPE = "application/linkset+json"
DEFAULT_LINK = "defaultLink"
DEFAULT_LINK_MULTI = "defaultLinkMulti"


@dataclass(frozen=True, slots=True)
class Link:
    """One target: what it is (`link_type`, a short name), where, in which language."""

    link_type: str
    href: str
    title: str
    lang: str = "vi"
    media_type: str = "text/html"
    # Whether a resolver adds the request's query pairs (data attributes, `context`, campaign
    # tags) to `href` when it redirects here; not part of the linkset.
    passes_query: bool = True

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
