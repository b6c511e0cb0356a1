"""The links a manufacturer publishes for its products through the GS1 Digital Link resolver.

A link has a GS1 link type (stored as a compact IRI, `gs1:pip`), a target, a title, maybe a
language and a media type, and a lot ('' for every lot of the product). At most one link per
(product, lot) is the default, the target of a plain scan; making a link the default takes the
flag from the one that had it, in the same transaction. The resolver (trace/) reads these rows;
this module is the only writer.

Every function checks permission itself: reading takes `view` (a regulator may read any
product's links), changing takes `manage_products` and only the actor's own products; another
organization's product or link is NotFound, as elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import record, require
from chinhhang.catalog.link_types import compact_link_type
from chinhhang.catalog.models import Product, ProductLink
from chinhhang.catalog.services import get_product, product_for, validate_lot
from chinhhang.errors import Conflict, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_

MAX_HREF = 500
MAX_TITLE = 200
MAX_MEDIA_TYPE = 100
# BCP 47 as people write it: a 2-3 letter language, then subtags (script, region, variant).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
# RFC 6838: type "/" subtype, each of restricted name characters.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_CLEARABLE = frozenset({"hreflang", "media_type", "lot"})


def list_links(session: Session, actor: Actor, product_id: int) -> Sequence[ProductLink]:
    """The product's links, those for every lot first, then by lot, each in order of adding."""
    product = product_for(session, actor, product_id)
    query = select(ProductLink).where(ProductLink.product_id == product.id)
    return session.scalars(query.order_by(ProductLink.lot, ProductLink.id)).all()


def add_link(
    session: Session,
    actor: Actor,
    product_id: int,
    *,
    link_type: str,
    href: str,
    title: str,
    hreflang: str | None = None,
    lot: str | None = None,
    media_type: str | None = None,
    is_default: bool = False,
) -> ProductLink:
    """Raises InvalidInput for a bad field (nothing is stored), NotFound for a product that is
    not the actor's; with `is_default` the link takes the default from the lot's previous one."""
    product = _own_product(session, actor, product_id)
    given: dict[str, object] = {"link_type": link_type, "href": href, "title": title}
    given |= {"hreflang": hreflang, "lot": lot, "media_type": media_type}
    fields = _checked(given)
    if is_default:
        _clear_default(session, product.id, str(fields["lot"]))
    link = ProductLink(product_id=product.id, is_default=is_default, **fields)
    session.add(link)
    _flush(session)  # the audit entry names the new id
    _audit(session, actor, "link.add", link)
    return link


def update_link(
    session: Session, actor: Actor, product_id: int, link_id: int, /, **changes: object
) -> ProductLink:
    """Change the given fields; those left out stay as they are. `hreflang`, `media_type` and
    `lot` given as None or "" are cleared; `is_default` True takes the default from the lot's
    previous one, False leaves the lot without one."""
    link = _own_link(session, actor, product_id, link_id)
    make_default = changes.pop("is_default", None)
    if make_default is not None and not isinstance(make_default, bool):
        raise InvalidInput(N_("%(field)s is yes or no."), field="is_default")
    fields = _checked(changes)
    becomes_default = link.is_default if make_default is None else make_default
    if becomes_default:
        # Before the link moves: its new lot's default, if another, loses the flag first.
        _clear_default(session, link.product_id, str(fields.get("lot", link.lot)), keep=link.id)
    for field, value in fields.items():
        setattr(link, field, value)
    link.is_default = becomes_default
    _flush(session)
    changed = sorted({*fields, *(["is_default"] if make_default is not None else [])})
    _audit(session, actor, "link.edit", link, fields=changed)
    return link


def set_default_link(session: Session, actor: Actor, product_id: int, link_id: int) -> ProductLink:
    """Make the link the default of its (product, lot); the previous default stops being one."""
    link = _own_link(session, actor, product_id, link_id)
    _clear_default(session, link.product_id, link.lot, keep=link.id)
    link.is_default = True
    _flush(session)
    _audit(session, actor, "link.default", link)
    return link


def delete_link(session: Session, actor: Actor, product_id: int, link_id: int) -> None:
    """Remove the link; if it was the default, the lot has none until one is chosen (a plain
    scan then goes to the platform's product page)."""
    link = _own_link(session, actor, product_id, link_id)
    _audit(session, actor, "link.delete", link)
    session.delete(link)
    session.flush()  # gone before the caller renders the list again


def _own_product(session: Session, actor: Actor, product_id: int) -> Product:
    org = require(session, actor, "manage_products")
    product = get_product(session, product_id)
    if product.org_id != org.id:
        raise NotFound(N_("No such product."))
    return product


def _own_link(session: Session, actor: Actor, product_id: int, link_id: int) -> ProductLink:
    """The link, if it belongs to this product of the actor's; NotFound otherwise (a link id
    under another product is not found either, so addresses cannot be mixed)."""
    product = _own_product(session, actor, product_id)
    link = session.get(ProductLink, link_id)
    if link is None or link.product_id != product.id:
        raise NotFound(N_("No such link."))
    return link


def _clear_default(session: Session, product_id: int, lot: str, keep: int | None = None) -> None:
    """One statement, run before the new default is flushed: the unique index on defaults
    would refuse the new flag while the old one is still set."""
    statement = (
        update(ProductLink)
        .where(
            ProductLink.product_id == product_id,
            ProductLink.lot == lot,
            ProductLink.is_default.is_(True),
        )
        .values(is_default=False)
    )
    if keep is not None:
        statement = statement.where(ProductLink.id != keep)
    session.execute(statement)


def _flush(session: Session) -> None:
    """Two people making defaults of one lot at once: the unique index stops the second."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise Conflict(
            N_("Another change to this product's links came first; reload and try again.")
        ) from error


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    link: ProductLink,
    fields: list[str] | None = None,
) -> None:
    """What the link is after the change (before, for a deletion); `fields` for an edit."""
    record(
        session,
        actor,
        action,
        f"link:{link.id}",
        product=link.product_id,
        link_type=link.link_type,
        lot=link.lot,
        href=link.href,
        fields=fields,
    )


def _checked(given: dict[str, object]) -> dict[str, object]:
    """The given fields, validated and in their stored form; every one is checked before any
    is set, so a refusal changes nothing."""
    unknown = set(given) - set(_CHECKS)
    if unknown:
        raise InvalidInput(
            N_("Unknown link fields: %(fields)s."), fields=", ".join(sorted(unknown))
        )
    checked: dict[str, object] = {}
    for field, value in given.items():
        text = "" if value is None and field in _CLEARABLE else value
        if not isinstance(text, str):
            raise InvalidInput(N_("%(field)s must be text."), field=field)
        checked[field] = _CHECKS[field](plain_text(text, field).strip())
    return checked


def _checked_href(value: str) -> str:
    """An absolute http(s) address: no `javascript:` target ever reaches a shopper's scan."""
    if not value or len(value) > MAX_HREF or not value.isprintable() or " " in value:
        raise InvalidInput(N_("The link's target must be an http:// or https:// address."))
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise InvalidInput(
            N_("The link's target must be an http:// or https:// address.")
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(N_("The link's target must be an http:// or https:// address."))
    return value


def _checked_title(value: str) -> str:
    if not value or len(value) > MAX_TITLE or not value.isprintable():
        raise InvalidInput(N_("A link needs a title of 1 to 200 characters."))
    return value


def _checked_hreflang(value: str) -> str | None:
    if not value:
        return None
    if len(value) > 20 or not _LANGUAGE_TAG.fullmatch(value):
        raise InvalidInput(
            N_("The language must be a language tag such as vi, en or en-US, or empty.")
        )
    return value


def _checked_lot(value: str) -> str:
    """'' for every lot; otherwise a valid lot number, with or without a batch yet."""
    return validate_lot(value) if value else ""


def _checked_media_type(value: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_MEDIA_TYPE or not _MEDIA_TYPE.fullmatch(value):
        raise InvalidInput(N_("The media type must look like text/html or application/pdf."))
    return value.lower()


_CHECKS: dict[str, Callable[[str], object]] = {
    "link_type": compact_link_type,
    "href": _checked_href,
    "title": _checked_title,
    "hreflang": _checked_hreflang,
    "lot": _checked_lot,
    "media_type": _checked_media_type,
}
