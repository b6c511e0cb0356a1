"""The gate every service goes through: `require(session, actor, action)`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.roles import PERMISSIONS, allows
from chinhhang.errors import Forbidden, NotFound
from chinhhang.i18n import N_

# What the platform operator may do in any organization without being a member: look, approve.
PLATFORM_ADMIN_ACTIONS = frozenset({"view", "oversee", "approve_organizations", "view_audit"})


def require(session: Session, actor: Actor, action: str) -> Organization:
    """The actor's organization, if its role and kind allow `action` (roles.PERMISSIONS).

    Raises Forbidden with the reason (role, kind of organization, or approval pending).
    """
    if actor.org_id is None:
        if actor.platform_admin and action in PLATFORM_ADMIN_ACTIONS:
            raise Forbidden(N_("Choose an organization first."))
        raise Forbidden(N_("You are not a member of any organization."))
    org = session.get(Organization, actor.org_id)
    if org is None:
        raise NotFound(N_("No such organization."))
    role = actor.role or ""
    if allows(action, role=role, kind=org.kind, approved=org.approved):
        return org
    if actor.platform_admin and action in PLATFORM_ADMIN_ACTIONS:
        return org
    permission = PERMISSIONS.get(action)
    if permission is not None and org.kind not in permission.kinds:
        raise Forbidden(N_("A %(kind)s organization cannot do this."), kind=org.kind)
    if permission is not None and role in permission.roles and not org.approved:
        raise Forbidden(
            N_("Your organization is waiting for approval; it cannot do this until then.")
        )
    raise Forbidden(N_("Your role (%(role)s) does not allow this."), role=role or "-")


def may(session: Session, actor: Actor, action: str) -> bool:
    """For pages deciding which buttons to show; the service still checks on use."""
    try:
        require(session, actor, action)
    except (Forbidden, NotFound):
        return False
    return True


def can_oversee(session: Session, actor: Actor) -> bool:
    """Regulators and the platform operator read every organization's figures."""
    return actor.platform_admin or may(session, actor, "oversee")
