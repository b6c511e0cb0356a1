"""API tokens: one organization and one role each, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ApiToken, Organization
from chinhhang.accounts.roles import ROLE_RANK
from chinhhang.accounts.services.access import require
from chinhhang.accounts.services.audit import record
from chinhhang.accounts.services.users import check_role
from chinhhang.db import utcnow
from chinhhang.errors import Forbidden, InvalidInput, NotFound
from chinhhang.i18n import N_

TOKEN_PREFIX = "chh_"  # noqa: S105 - a marker that lets secret scanners recognise our tokens
_TOUCH_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session, org: Organization, *, role: str, name: str, actor: Actor
) -> NewToken:
    check_role(role)
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise InvalidInput(N_("A token needs a name of 1 to 100 characters."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        org_id=org.id,
        role=role,
        name=name,
        prefix=secret[:10],
        token_hash=_hash(secret),
        created_by=actor.user_id,
    )
    session.add(token)
    session.flush()
    record(session, actor, "token.create", f"token:{token.id}", org_id=org.id, role=role, name=name)
    return NewToken(token, secret)


def create_token(session: Session, actor: Actor, *, role: str, name: str) -> NewToken:
    """Nobody makes a token stronger than themselves: a token is a copy of one's own power."""
    org = require(session, actor, "manage_tokens")
    if ROLE_RANK.get(check_role(role), 9) > ROLE_RANK.get(actor.role or "", -1):
        raise Forbidden(N_("You cannot create a token with more rights than your own."))
    return issue_token(session, org, role=role, name=name, actor=actor)


def list_tokens(session: Session, actor: Actor) -> Sequence[ApiToken]:
    org = require(session, actor, "manage_tokens")
    return session.scalars(
        select(ApiToken).where(ApiToken.org_id == org.id).order_by(ApiToken.id.desc())
    ).all()


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    org = require(session, actor, "manage_tokens")
    token = session.get(ApiToken, token_id)
    if token is None or token.org_id != org.id:
        raise NotFound(N_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor, "token.revoke", f"token:{token.id}")
    return token


def token_actor(session: Session, secret: str, client_net: str | None) -> Actor | None:
    """The actor behind a bearer token; None for unknown or revoked ones (checked on every
    request, so revocation takes effect at once)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        token.last_used_at = now
    return Actor(
        org_id=token.org_id, role=token.role, token_id=token.id, via="api", client_net=client_net
    )
