"""Who sees whose figures.

Overseers (members of a market-control agency, permission `oversee`, and the platform
operator) see every organization's figures and may narrow them to one organization. Anyone
else who may `view` their own organization sees only its figures: the organization filter is
fixed to theirs, whatever the address says, so no figure of another organization can reach
them.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import can_oversee, require
from chinhhang.catalog.models import Product
from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.regulator.filters import Filters
from chinhhang.regulator.sql import Scope


def scope_for(session: Session, actor: Actor, filters: Filters) -> tuple[Scope, Filters]:
    """The scope the actor may see under `filters`, and the filters as applied (a
    non-overseer's organization filter replaced by its own organization).

    Raises Forbidden for a user in no organization who is not the operator, InvalidInput for
    an organization or product filter that names nothing the actor may see.
    """
    if not (actor.org_id is None and actor.platform_admin):
        own = require(session, actor, "view")
        if not can_oversee(session, actor):
            filters = replace(filters, org_id=own.id)
            scope = Scope(overseer=False, org=own)
            _check_product(session, scope, filters.product_id)
            return scope, filters
    scope = Scope(overseer=True)
    if filters.org_id is not None:
        org = session.get(Organization, filters.org_id)
        if org is None:
            raise InvalidInput(N_("No such organization."))
        scope = Scope(overseer=True, org=org)
    _check_product(session, scope, filters.product_id)
    return scope, filters


def _check_product(session: Session, scope: Scope, product_id: int | None) -> None:
    """A product filter names a product the actor may see: any for overseers, their own
    organization's otherwise (its name is shown above the figures)."""
    if product_id is None:
        return
    product = session.get(Product, product_id)
    if product is None or (not scope.overseer and product.org_id != _org_id(scope)):
        raise InvalidInput(N_("No such product."))


def _org_id(scope: Scope) -> int | None:
    return scope.org.id if scope.org is not None else None
