"""Promotions an owner publishes on its products' pages (SPEC section 7).

A promotion has a title, a text, maybe an image and a link, a first and a last day, and the
products it is about. It is *current* from its first day to its last, both included, on
Vietnam's calendar (the shoppers' day, whatever the server's zone): only then do the product
pages, the genuine pages and the GS1 resolver (`gs1:promotion`) show it.

Changing takes `manage_promotions` and only the actor's own promotions and products (another
organization's promotion or product is NotFound, as elsewhere); reading the list takes `view`.
Every field is checked before anything is written, so a refusal stores nothing; every change
is in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import can_oversee, record, require
from chinhhang.catalog.images import store_image
from chinhhang.catalog.models import Product, Promotion, PromotionProduct
from chinhhang.catalog.promotion_fields import checked_dates, checked_ids, checked_texts, date_or
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.localtime import vietnam_today

MAX_PRODUCTS = 500
# The portal's list shows every current and upcoming promotion, and this many past ones.
PAST_SHOWN = 50
CURRENT, UPCOMING, PAST = "current", "upcoming", "past"
_FIELDS = frozenset({"title", "text", "link", "starts_on", "ends_on", "product_ids"})


def status_of(promotion: Promotion | PromotionCard, today: date) -> str:
    if promotion.starts_on > today:
        return UPCOMING
    return PAST if promotion.ends_on < today else CURRENT


@dataclass(frozen=True, slots=True)
class PromotionCard:
    """What shoppers see of a current promotion; hashable, so pages can cache by it."""

    id: int
    title: str
    text: str | None
    image_file: str | None
    link: str | None
    starts_on: date
    ends_on: date


@dataclass(slots=True)
class PromotionList:
    """The portal's list: each promotion with the names of its products."""

    current: list[Promotion] = field(default_factory=list)
    upcoming: list[Promotion] = field(default_factory=list)
    past: list[Promotion] = field(default_factory=list)
    products: dict[int, list[str]] = field(default_factory=dict)
    product_ids: dict[int, list[int]] = field(default_factory=dict)

    def all(self) -> list[Promotion]:
        return [*self.current, *self.upcoming, *self.past]


def current_promotions(
    session: Session, product_id: int, today: date | None = None
) -> tuple[PromotionCard, ...]:
    """The product's promotions running today, the one ending soonest first. For shoppers'
    pages: no actor, nothing but what a promotion publishes."""
    today = today or vietnam_today()
    query = (
        select(Promotion)
        .join(PromotionProduct, PromotionProduct.promotion_id == Promotion.id)
        .where(
            PromotionProduct.product_id == product_id,
            Promotion.starts_on <= today,
            Promotion.ends_on >= today,
        )
        .order_by(Promotion.ends_on, Promotion.id)
    )
    return tuple(_card(promotion) for promotion in session.scalars(query))


def has_current_promotion(session: Session, product_id: int, today: date | None = None) -> bool:
    """Whether the resolver offers `gs1:promotion` for the product (one indexed probe)."""
    today = today or vietnam_today()
    running = (
        select(PromotionProduct.promotion_id)
        .join(Promotion, Promotion.id == PromotionProduct.promotion_id)
        .where(
            PromotionProduct.product_id == product_id,
            Promotion.starts_on <= today,
            Promotion.ends_on >= today,
        )
    )
    return bool(session.scalar(select(exists(running))))


def _card(promotion: Promotion) -> PromotionCard:
    return PromotionCard(
        promotion.id,
        promotion.title,
        promotion.body,
        promotion.image_file,
        promotion.link,
        promotion.starts_on,
        promotion.ends_on,
    )


def list_promotions(session: Session, actor: Actor, today: date | None = None) -> PromotionList:
    """The organization's promotions: current (ending soonest first), upcoming (starting
    soonest first), and the latest PAST_SHOWN past ones."""
    org = require(session, actor, "view")
    today = today or vietnam_today()
    mine = select(Promotion).where(Promotion.org_id == org.id)
    result = PromotionList()
    result.current = list(
        session.scalars(
            mine.where(Promotion.starts_on <= today, Promotion.ends_on >= today).order_by(
                Promotion.ends_on, Promotion.id
            )
        )
    )
    result.upcoming = list(
        session.scalars(
            mine.where(Promotion.starts_on > today).order_by(Promotion.starts_on, Promotion.id)
        )
    )
    result.past = list(
        session.scalars(
            mine.where(Promotion.ends_on < today)
            .order_by(Promotion.ends_on.desc(), Promotion.id.desc())
            .limit(PAST_SHOWN)
        )
    )
    _add_products(session, result)
    return result


def _add_products(session: Session, result: PromotionList) -> None:
    """Each listed promotion's products, ids and names, in one query."""
    ids = [promotion.id for promotion in result.all()]
    result.products = {promotion_id: [] for promotion_id in ids}
    result.product_ids = {promotion_id: [] for promotion_id in ids}
    if not ids:
        return
    rows = session.execute(
        select(PromotionProduct.promotion_id, Product.id, Product.name)
        .join(Product, Product.id == PromotionProduct.product_id)
        .where(PromotionProduct.promotion_id.in_(ids))
        .order_by(Product.name, Product.id)
    )
    for promotion_id, product_id, name in rows:
        result.products[promotion_id].append(name)
        result.product_ids[promotion_id].append(product_id)


def product_ids_of(session: Session, promotion_id: int) -> list[int]:
    query = select(PromotionProduct.product_id).where(PromotionProduct.promotion_id == promotion_id)
    return sorted(session.scalars(query))


def promotion_for(session: Session, actor: Actor, promotion_id: int) -> Promotion:
    """A promotion as its owner (or a regulator) sees it; NotFound to anyone else."""
    org = require(session, actor, "view")
    promotion = session.get(Promotion, promotion_id)
    if promotion is None or (promotion.org_id != org.id and not can_oversee(session, actor)):
        raise NotFound(N_("No such promotion."))
    return promotion


def create_promotion(
    session: Session,
    actor: Actor,
    *,
    title: str,
    starts_on: date | None,
    ends_on: date | None,
    product_ids: Sequence[int],
    text: str | None = None,
    link: str | None = None,
    image: bytes | None = None,
    media_dir: Path | None = None,
) -> Promotion:
    """Raises InvalidInput for a bad field (nothing is stored), NotFound when a product is not
    the actor's. `image`, when given (with the media folder), is checked and re-encoded."""
    org = require(session, actor, "manage_promotions")
    given = {"title": title, "text": text, "link": link}
    fields = checked_texts(given)
    first, last = checked_dates(starts_on, ends_on)
    products = _own_products(session, org.id, product_ids)
    image_file = _stored_image(image, media_dir)  # last: a refusal leaves no file behind
    promotion = Promotion(
        org_id=org.id,
        title=fields["title"],
        body=fields["text"],
        link=fields["link"],
        image_file=image_file,
        starts_on=first,
        ends_on=last,
    )
    session.add(promotion)
    session.flush()  # its id, for the product rows and the audit entry
    session.add_all(PromotionProduct(promotion_id=promotion.id, product_id=p) for p in products)
    session.flush()
    _audit(session, actor, "promotion.create", promotion, products)
    return promotion


def update_promotion(
    session: Session, actor: Actor, promotion_id: int, /, **changes: object
) -> Promotion:
    """Change the given fields (title, text, link, starts_on, ends_on, product_ids); those
    left out stay. `text` or `link` given as None or "" are cleared. The dates are checked as
    they will be after the change."""
    promotion = _own_promotion(session, actor, promotion_id)
    unknown = set(changes) - _FIELDS
    if unknown:
        raise InvalidInput(
            N_("Unknown promotion fields: %(fields)s."), fields=", ".join(sorted(unknown))
        )
    texts: dict[str, object] = {
        name: changes[name] for name in ("title", "text", "link") if name in changes
    }
    fields = checked_texts(texts)
    first, last = checked_dates(
        date_or(changes, "starts_on", promotion.starts_on),
        date_or(changes, "ends_on", promotion.ends_on),
    )
    products = None
    if "product_ids" in changes:
        products = _own_products(session, promotion.org_id, checked_ids(changes["product_ids"]))
    for name, value in fields.items():
        setattr(promotion, "body" if name == "text" else name, value)
    promotion.starts_on, promotion.ends_on = first, last
    if products is not None:
        _replace_products(session, promotion.id, products)
    session.flush()
    _audit(session, actor, "promotion.edit", promotion, products, fields=sorted(changes))
    return promotion


def set_promotion_image(
    session: Session, actor: Actor, promotion_id: int, data: bytes, media_dir: Path
) -> Promotion:
    """Raises InvalidInput for a file that is not an accepted image (nothing is changed)."""
    promotion = _own_promotion(session, actor, promotion_id)
    promotion.image_file = store_image(data, media_dir, "promotions")
    session.flush()
    record(session, actor, "promotion.image", f"promotion:{promotion.id}")
    return promotion


def delete_promotion(session: Session, actor: Actor, promotion_id: int) -> None:
    """Remove the promotion at once from every page that showed it."""
    promotion = _own_promotion(session, actor, promotion_id)
    _audit(session, actor, "promotion.delete", promotion, product_ids_of(session, promotion.id))
    session.execute(delete(PromotionProduct).where(PromotionProduct.promotion_id == promotion.id))
    session.delete(promotion)
    session.flush()  # gone before the caller renders the list again


def editable_promotion(session: Session, actor: Actor, promotion_id: int) -> Promotion:
    """The actor's own promotion, for its edit form; NotFound for another's."""
    return _own_promotion(session, actor, promotion_id)


def _own_promotion(session: Session, actor: Actor, promotion_id: int) -> Promotion:
    org = require(session, actor, "manage_promotions")
    promotion = session.get(Promotion, promotion_id)
    if promotion is None or promotion.org_id != org.id:
        raise NotFound(N_("No such promotion."))
    return promotion


def _own_products(session: Session, org_id: int, product_ids: Sequence[int]) -> list[int]:
    """The distinct ids, every one a product of the organization; NotFound otherwise (another
    organization's product is not found, as everywhere)."""
    wanted = sorted(set(product_ids))
    if not wanted:
        raise InvalidInput(N_("Choose at least one product for the promotion."))
    if len(wanted) > MAX_PRODUCTS:
        raise InvalidInput(N_("A promotion can be about at most %(n)s products."), n=MAX_PRODUCTS)
    found = session.scalars(
        select(Product.id).where(Product.id.in_(wanted), Product.org_id == org_id)
    ).all()
    if len(found) != len(wanted):
        raise NotFound(N_("No such product."))
    return wanted


def _replace_products(session: Session, promotion_id: int, product_ids: list[int]) -> None:
    session.execute(delete(PromotionProduct).where(PromotionProduct.promotion_id == promotion_id))
    session.add_all(PromotionProduct(promotion_id=promotion_id, product_id=p) for p in product_ids)


def _stored_image(image: bytes | None, media_dir: Path | None) -> str | None:
    if not image or media_dir is None:
        return None
    return store_image(image, media_dir, "promotions")


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    promotion: Promotion,
    products: Sequence[int] | None,
    fields: list[str] | None = None,
) -> None:
    record(
        session,
        actor,
        action,
        f"promotion:{promotion.id}",
        title=promotion.title,
        starts_on=promotion.starts_on,
        ends_on=promotion.ends_on,
        products=list(products) if products is not None else None,
        fields=fields,
    )
