"""The GS1 Digital Link resolver's rules (GS1-Conformant Resolver 1.2, SPEC section 6).

A scan of `/01/{gtin}[/22/…][/10/{lot}][/21/{serial}]` is answered with one of three things: a
307 redirect to one link (the default, or the `linkType` asked for), the RFC 9264 linkset of
every link, or a refusal. The links of a product are the manufacturer's own (its ProductLink
rows of the scanned lot, then of every lot; its website) and the platform's pages; for any
link type the manufacturer's come first. A lot or serial the platform does not know falls back
to the product, as the standard asks ("every level up to the primary key").

The redirect is the answer a printed static code gets, so it is where the scan is counted,
once: HEAD, linksets, refusals and link previews count nothing, and the platform page the
redirect leads to does not count again. Counting belongs to `scans`, which trace may not call
(DESIGN: domains side by side do not import each other), so a resolution only says whether its
answer counts (`Resolution.counts`); the route counts it with the counter web.py hands over.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.catalog.models import ProductLink
from chinhhang.catalog.promotions import has_current_promotion
from chinhhang.catalog.services import ProductPage, static_product
from chinhhang.errors import DomainError, Gone, InvalidInput, NotFound
from chinhhang.i18n import N_, translator
from chinhhang.trace.digital_link import DigitalLink
from chinhhang.trace.links import GS1_VOC, LINK_TYPES, Link, link_type, linkset

# `?linkType=` values that ask for the linkset; `all` is the name resolver 1.0 used.
LINKSET_WORDS = frozenset({"linkset", "all"})
LINKSET = "linkset"
# BCP 47 "undetermined": a link the manufacturer gave for every language, or data (EPCIS).
ANY_LANGUAGE = "und"
# The platform's pages exist in these languages (`?lang=`), each a link of its own.
PAGE_LANGUAGES = ("vi", "en")
EPCIS_MEDIA_TYPE = "application/ld+json"
ID_GS1 = "https://id.gs1.org"


@dataclass(frozen=True, slots=True)
class Ask:
    """One request to the resolver, already parsed (trace/views.py)."""

    link: DigitalLink
    base_url: str
    lang: str
    # The raw `?linkType=` value; None asks for the default link.
    link_type: str | None = None
    # `Accept: application/linkset+json`.
    wants_linkset: bool = False
    method: str = "GET"


@dataclass(slots=True)
class Resolution:
    """A redirect (`target`), a `linkset` document, or an `error` to answer with."""

    linkset_url: str
    target: str | None = None
    linkset: dict[str, object] | None = None
    error: DomainError | None = None
    # The product was found: answers about it, refusals included, carry the linkset's Link.
    known: bool = False
    # The answer is a redirect to a GET: one scan of the printed code, of `page`, to count
    # (the route does, through web.py's counter; previews are the counter's to leave out).
    counts: bool = False
    page: ProductPage | None = None


def root_of(base_url: str) -> str:
    return base_url.rstrip("/")


def linkset_url(base_url: str, link: DigitalLink) -> str:
    """Where the linkset of `link` is: its canonical form (GTIN-14) with `?linkType=linkset`."""
    return f"{root_of(base_url)}{link.canonical_path()}?linkType={LINKSET}"


def resolve(session: Session, ask: Ask) -> Resolution:
    """Resolve a parsed Digital Link. Never raises a DomainError: a refusal (NotFound for an
    unknown GTIN or a link type the product lacks, Gone for a withdrawn product, InvalidInput
    for an unknown link type) is returned as the resolution's `error`.

    The product is looked up before the link type asked for is read, so that every answer
    about a known product, an unknown link type's 400 included, is `known` and carries the
    linkset's Link header (SPEC section 6); the link itself was checked by `parse` before."""
    url = linkset_url(ask.base_url, ask.link)
    try:
        page = static_product(session, gtin=_gtin_of(ask.link), lot=ask.link.value("10"))
    except DomainError as error:
        return Resolution(url, error=error, known=isinstance(error, Gone))
    try:
        return _answer(session, ask, page, url)
    except DomainError as error:
        return Resolution(url, error=error, known=True)


def _gtin_of(link: DigitalLink) -> str:
    if link.gtin is None:  # a valid Digital Link of another key (an SSCC, a GLN, …)
        raise NotFound(N_("This resolver answers for products by their GTIN (/01/…) only."))
    return link.gtin


def _wanted(ask: Ask) -> str | None:
    """None for the default link, LINKSET, or a link type's short name (InvalidInput)."""
    if ask.link_type is None:
        return LINKSET if ask.wants_linkset else None
    if ask.link_type.strip() in LINKSET_WORDS:
        return LINKSET
    return link_type(ask.link_type)


def _answer(session: Session, ask: Ask, page: ProductPage, url: str) -> Resolution:
    wanted = _wanted(ask)
    rows = _rows(session, page, ask.link.value("10"))
    mine = [link for _, link in rows] + _website(page)
    # One query, asked only when the answer may name the promotion link (a plain scan's
    # redirect, the common case, never does).
    promotion = wanted in (LINKSET, "promotion") and has_current_promotion(session, page.product.id)
    platform = platform_links(ask.base_url, page, ask.lang, promotion=promotion)
    default = _default(rows, page, platform, ask.lang)
    if wanted == LINKSET:
        anchor = root_of(ask.base_url) + ask.link.canonical_path()
        document = linkset(anchor, [*mine, *platform], default)
        return Resolution(url, linkset=document, known=True)
    if wanted is None:
        chosen: Link | None = default
    else:  # the manufacturer's link of that type, else the platform's
        chosen = pick(mine, wanted, ask.lang) or pick(platform, wanted, ask.lang)
    if chosen is None:
        raise NotFound(N_("This product has no link of type %(name)s."), name=f"gs1:{wanted}")
    target = with_query(chosen.href, passed_on(ask.link) if chosen.passes_query else [])
    return Resolution(url, target=target, known=True, counts=ask.method == "GET", page=page)


def _rows(session: Session, page: ProductPage, lot: str | None) -> list[tuple[ProductLink, Link]]:
    """The manufacturer's links of the scanned lot, then those of every lot (lot ''); rows
    whose type this platform no longer offers are left out rather than failing the scan."""
    lots = ["", lot] if lot else [""]
    query = (
        select(ProductLink)
        .where(ProductLink.product_id == page.product.id, ProductLink.lot.in_(lots))
        .order_by(ProductLink.lot.desc(), ProductLink.id)
    )
    found: list[tuple[ProductLink, Link]] = []
    for row in session.scalars(query):
        try:
            name = link_type(row.link_type)
        except InvalidInput:
            continue
        found.append((row, _link_of(row, name)))
    return found


def _link_of(row: ProductLink, name: str) -> Link:
    return Link(
        link_type=name,
        href=row.href,
        title=row.title,
        lang=row.hreflang or ANY_LANGUAGE,
        media_type=row.media_type or "text/html",
    )


def _website(page: ProductPage) -> list[Link]:
    """The product's own page on the manufacturer's site, a `gs1:pip` link of the maker's."""
    if not page.product.website:
        return []
    return [Link("pip", page.product.website, page.manufacturer.name, ANY_LANGUAGE)]


def _default(
    rows: list[tuple[ProductLink, Link]], page: ProductPage, platform: list[Link], lang: str
) -> Link:
    """The manufacturer's default link (the lot's before the product's), else its website
    when it chose to send shoppers there, else the platform's product page."""
    for row, link in rows:
        if row.is_default:
            return link
    if page.redirect_to:
        return _website(page)[0]
    chosen = pick(platform, "pip", lang)
    assert chosen is not None  # noqa: S101 - platform_links always offers the product page
    return chosen


def pick(links: list[Link], name: str, lang: str) -> Link | None:
    """The first link of type `name` in the shopper's language, else one for any language,
    else the first of that type."""
    candidates = [link for link in links if link.link_type == name]
    for wanted in (lang, ANY_LANGUAGE):
        for link in candidates:
            if link.lang.split("-")[0].lower() == wanted:
                return link
    return candidates[0] if candidates else None


def platform_links(
    base_url: str, page: ProductPage, lang: str, *, promotion: bool = False
) -> list[Link]:
    """The platform's own links for the product (or the batch, when the lot is known):
    product page, stamp check, journey, in Vietnamese and English; the product page's
    promotions while one is current (`promotion`); how to register the warranty when the
    product has one (SPEC section 6: `gs1:registerProduct`, GS1 having no warranty link
    type); and its EPCIS events."""
    root = root_of(base_url)
    lot = {"lot": page.batch.lot} if page.batch else {}
    product = f"{root}/product/{page.product.id}"
    links: list[Link] = []
    for language in PAGE_LANGUAGES:
        query = urlencode({**lot, "lang": language})
        targets = {
            "pip": f"{product}?{query}",
            "verificationService": f"{root}/?lang={language}#code",
            "traceability": f"{product}?{query}#journey",
        }
        if promotion:
            targets["promotion"] = f"{product}?{query}#promotions"
        if page.product.warranty_months:
            warranty = urlencode({"product": page.product.id, "lang": language})
            targets["registerProduct"] = f"{root}/warranty?{warranty}"
        gettext = translator(language)
        links += [
            Link(name, href, gettext(LINK_TYPES[name]), language) for name, href in targets.items()
        ]
    epc_class = f"{ID_GS1}/01/{page.product.gtin}"
    if page.batch:
        epc_class += "/10/" + quote(page.batch.lot, safe="")
    events = f"{root}/epcis/events?MATCH_epcClass={quote(epc_class, safe='')}"
    title = translator(lang)(LINK_TYPES["epcis"])
    # The EPCIS query answers 400 to any parameter it does not know (the standard's query
    # interface has a closed set), so the scan's data attributes, `context`, `lang` and
    # campaign tags are not passed on to it: the link works as written or not at all.
    epcis = Link("epcis", events, title, ANY_LANGUAGE, EPCIS_MEDIA_TYPE, passes_query=False)
    return [*links, epcis]


def passed_on(link: DigitalLink) -> list[tuple[str, str]]:
    """The query pairs a target gets: the data attributes (`17=…`) and the other pairs
    (a campaign tag, `context`, `lang`), but not `linkType`, which was the resolver's."""
    extra = [(key, value) for key, value in link.extra if key != "linkType"]
    return [*link.attributes, *extra]


def with_query(href: str, pairs: list[tuple[str, str]]) -> str:
    """`href` with `pairs` added to its query; a key the request gives replaces the target's
    own (`lang`). The target's other pairs are kept exactly as the manufacturer wrote them."""
    if not pairs:
        return href
    parts = urlsplit(href)
    asked = {key for key, _ in pairs}
    kept = [
        item
        for item in parts.query.split("&")
        if item and unquote_plus(item.split("=", 1)[0]) not in asked
    ]
    query = "&".join([*kept, urlencode(pairs)])
    return urlunsplit(parts._replace(query=query))


def description(base_url: str) -> dict[str, object]:
    """The resolver description file (`/.well-known/gs1resolver`, GS1-Conformant Resolver
    1.2's description file schema); `linkTypes` lists, beyond the schema, the link types
    offered."""
    return {
        "name": "Chính Hãng",
        "resolverRoot": root_of(base_url),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [
            {
                "namespace": GS1_VOC,
                "prefix": "gs1:",
                "profile": "https://ref.gs1.org/voc/?show=linktypes",
            }
        ],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedContextValuesEnumerated": [],
        "linkTypes": [f"gs1:{name}" for name in LINK_TYPES],
    }
