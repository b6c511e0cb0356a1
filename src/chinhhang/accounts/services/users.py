"""Users, passwords, memberships and invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import (
    ROLES,
    ApiToken,
    Invitation,
    LoginSession,
    Membership,
    Organization,
    User,
)
from chinhhang.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from chinhhang.accounts.roles import ROLE_RANK
from chinhhang.accounts.services.access import require
from chinhhang.accounts.services.audit import record
from chinhhang.accounts.services.organizations import (
    SELF_REGISTERING_KINDS,
    create_organization,
    get_organization,
)
from chinhhang.db import utcnow
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}$")
INVITATION_DAYS = 14


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or not email.isprintable():
        raise InvalidInput(N_("This is not a valid e-mail address."))
    return email


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("A password has %(low)s to %(high)s characters."),
            low=MIN_PASSWORD_LENGTH,
            high=MAX_PASSWORD_LENGTH,
        )
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(N_("Unknown role; choose one of: %(roles)s."), roles=", ".join(ROLES))
    return role


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    name: str | None = None,
    platform_admin: bool = False,
) -> User:
    email = normalise_email(email)
    check_password(password)
    if find_user(session, email) is not None:
        raise Conflict(N_("An account with this e-mail already exists."))
    name = plain_text(name or "", "name").strip()[:200] or None
    user = User(
        email=email, name=name, password_hash=hash_password(password), platform_admin=platform_admin
    )
    session.add(user)
    try:
        with session.begin_nested():  # the check above can lose a race: say so clearly
            session.flush()  # memberships point at its id
    except IntegrityError as error:
        raise Conflict(N_("An account with this e-mail already exists.")) from error
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def add_membership(session: Session, *, user_id: int, org_id: int, role: str) -> Membership:
    """For the operator (CLI) and registration; members invite others through invitations."""
    check_role(role)
    get_organization(session, org_id)
    existing = session.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    ).first()
    if existing is not None:
        existing.role = role
        return existing
    membership = Membership(user_id=user_id, org_id=org_id, role=role)
    session.add(membership)
    session.flush()
    return membership


def change_password(session: Session, actor: Actor, user: User, *, current: str, new: str) -> None:
    """Ends every other session of the user: a stolen session dies with the old password."""
    if not verify_password(user.password_hash, current[:MAX_PASSWORD_LENGTH]):
        raise InvalidInput(N_("The current password is wrong."))
    user.password_hash = hash_password(check_password(new))
    session.query(LoginSession).filter(LoginSession.user_id == user.id).delete()
    record(session, actor, "user.password", f"user:{user.id}")


def memberships_of(session: Session, user_id: int) -> Sequence[tuple[Membership, Organization]]:
    rows = session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.name)
    )
    return [(m, o) for m, o in rows]


def register(
    session: Session, *, org_name: str, kind: str, email: str, password: str, name: str | None
) -> tuple[User, Organization]:
    """A business signs itself up: a new, unapproved organization with the user as its owner."""
    if kind not in SELF_REGISTERING_KINDS:
        raise InvalidInput(N_("Register as a manufacturer, a distributor or a retailer."))
    user = create_user(session, email=email, password=password, name=name)
    org = create_organization(session, name=org_name, kind=kind, approved=False)
    add_membership(session, user_id=user.id, org_id=org.id, role="owner")
    actor = Actor(org_id=org.id, role="owner", user_id=user.id)
    record(session, actor, "organization.register", f"organization:{org.id}", kind=kind)
    return user, org


def members(session: Session, actor: Actor) -> Sequence[tuple[Membership, User]]:
    org = require(session, actor, "view")
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id)
        .order_by(User.email)
    )
    return [(m, u) for m, u in rows]


def _check_may_grant(actor: Actor, role: str) -> None:
    """Admins manage members below owner; only an owner makes or removes an owner."""
    if role == "owner" and actor.role != "owner":
        raise Forbidden(N_("Only an owner can make or remove an owner."))


def change_member_role(session: Session, actor: Actor, membership_id: int, role: str) -> None:
    org = require(session, actor, "manage_members")
    membership = _membership(session, org.id, membership_id)
    check_role(role)
    _check_may_grant(actor, role)
    _check_may_grant(actor, membership.role)
    if membership.role == "owner" and role != "owner":
        _keep_an_owner(session, org.id)
    membership.role = role
    _revoke_tokens_above(session, org_id=org.id, user_id=membership.user_id, role=role)
    record(session, actor, "member.role", f"membership:{membership.id}", role=role)


def remove_member(session: Session, actor: Actor, membership_id: int) -> None:
    org = require(session, actor, "manage_members")
    membership = _membership(session, org.id, membership_id)
    _check_may_grant(actor, membership.role)
    if membership.role == "owner":
        _keep_an_owner(session, org.id)
    session.delete(membership)
    _revoke_tokens_above(session, org_id=org.id, user_id=membership.user_id, role=None)
    session.query(LoginSession).filter(
        LoginSession.user_id == membership.user_id, LoginSession.org_id == org.id
    ).update({LoginSession.org_id: None})
    record(session, actor, "member.remove", f"user:{membership.user_id}")


def _revoke_tokens_above(session: Session, *, org_id: int, user_id: int, role: str | None) -> None:
    """A member's tokens never outlive their rights: on removal (role None) every token they
    made for the organization is revoked, on demotion those stronger than the new role."""
    ranks = [r for r, rank in ROLE_RANK.items() if role is None or rank > ROLE_RANK[role]]
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.org_id == org_id,
            ApiToken.created_by == user_id,
            ApiToken.role.in_(ranks),
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def _membership(session: Session, org_id: int, membership_id: int) -> Membership:
    membership = session.get(Membership, membership_id)
    if membership is None or membership.org_id != org_id:
        raise NotFound(N_("No such member."))
    return membership


def _keep_an_owner(session: Session, org_id: int) -> None:
    owners = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == "owner")
    )
    if (owners or 0) <= 1:
        raise Conflict(N_("An organization keeps at least one owner."))


def invite(session: Session, actor: Actor, *, email: str, role: str) -> tuple[Invitation, str]:
    """Returns the invitation and its one-time token (the link is shown to the inviter once;
    e-mail delivery arrives with the alerts issue's SMTP settings)."""
    org = require(session, actor, "manage_members")
    email = normalise_email(email)
    _check_may_grant(actor, check_role(role))
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        org_id=org.id,
        email=email,
        role=role,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        invited_by=actor.user_id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    record(session, actor, "member.invite", f"invitation:{invitation.id}", email=email, role=role)
    return invitation, token


def pending_invitations(session: Session, actor: Actor) -> Sequence[Invitation]:
    org = require(session, actor, "view")
    return session.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.id.desc())
    ).all()


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> None:
    org = require(session, actor, "manage_members")
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != org.id or invitation.accepted_at:
        raise NotFound(N_("No such invitation."))
    invitation.revoked_at = utcnow()
    record(session, actor, "member.uninvite", f"invitation:{invitation.id}")


def find_invitation(session: Session, token: str) -> Invitation:
    invitation = session.scalars(
        select(Invitation).where(
            Invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        )
    ).first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise NotFound(N_("This invitation is not valid any more."))
    return invitation


def accept_invitation(
    session: Session,
    token: str,
    *,
    password: str | None = None,
    name: str | None = None,
    signed_in_user: User | None = None,
) -> User:
    """Joins the invited organization, creating the account if the address has none.

    An address that already has an account joins only while signed in as that account: the
    invitation link is shown to whoever sent it, so accepting must never be a way to test, or
    get past, an existing account's password.
    """
    invitation = find_invitation(session, token)
    user = find_user(session, invitation.email)
    if user is None:
        user = create_user(session, email=invitation.email, password=password or "", name=name)
    elif signed_in_user is None or signed_in_user.id != user.id:
        raise Forbidden(
            N_("%(email)s already has an account: log in as %(email)s, then open this link."),
            email=invitation.email,
        )
    add_membership(session, user_id=user.id, org_id=invitation.org_id, role=invitation.role)
    invitation.accepted_at = utcnow()
    actor = Actor(org_id=invitation.org_id, role=invitation.role, user_id=user.id)
    record(session, actor, "member.join", f"user:{user.id}", role=invitation.role)
    return user
