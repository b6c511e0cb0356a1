"""Signed-in browsers: a random id in an HttpOnly cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import LoginSession, Membership, Organization, User
from chinhhang.db import utcnow
from chinhhang.errors import NotFound
from chinhhang.i18n import N_

SESSION_LIFETIME = timedelta(days=7)
IDLE_TIMEOUT = timedelta(hours=12)
# last_seen is written at most this often: a page view should not be a write.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    actor: Actor
    user: User
    login: LoginSession
    # The organization being worked in, and every one the user belongs to (for the switcher).
    org: Organization | None
    organizations: list[tuple[str, Organization]]


def start_session(session: Session, user: User) -> str:
    """A new random id on every login (no session fixation); works in the user's first
    organization until they switch."""
    token = secrets.token_urlsafe(32)
    first = session.scalars(
        select(Membership.org_id).where(Membership.user_id == user.id).order_by(Membership.id)
    ).first()
    now = utcnow()
    session.add(
        LoginSession(
            token_hash=_hash(token),
            user_id=user.id,
            org_id=first,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def signed_in(session: Session, token: str | None, client_net: str | None) -> SignedIn | None:
    """The actor behind a session cookie, or None when it is unknown, expired or idle."""
    if not token or len(token) > 100:
        return None
    login = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == _hash(token))
    ).first()
    now = utcnow()
    if login is None or login.expires_at <= now or login.last_seen_at + IDLE_TIMEOUT <= now:
        return None
    user = session.get(User, login.user_id)
    if user is None:
        return None
    organizations = [
        (role_, org_)
        for role_, org_ in session.execute(
            select(Membership.role, Organization)
            .join(Organization, Organization.id == Membership.org_id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
    ]
    current = next(((r, o) for r, o in organizations if o.id == login.org_id), None)
    role, org = current if current else (None, None)
    if now - login.last_seen_at >= TOUCH_EVERY:
        login.last_seen_at = now
    actor = Actor(
        org_id=login.org_id if role else None,
        role=role,
        user_id=user.id,
        platform_admin=user.platform_admin,
        via="web",
        client_net=client_net,
    )
    return SignedIn(actor, user, login, org, organizations)


def switch_organization(session: Session, login: LoginSession, org_id: int) -> None:
    member = session.scalars(
        select(Membership.id).where(
            Membership.user_id == login.user_id, Membership.org_id == org_id
        )
    ).first()
    if member is None:
        raise NotFound(N_("No such organization."))
    login.org_id = org_id


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))
