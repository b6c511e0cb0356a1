"""The audit log: every change, by whom, for which organization, when, from where."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, Organization
from chinhhang.accounts.services.access import can_oversee, require
from chinhhang.errors import NotFound
from chinhhang.i18n import N_


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str | None = None,
    *,
    org_id: int | None = None,
    **details: object,
) -> None:
    """Written in the same transaction as the change, so there is no change without its entry."""
    session.add(
        AuditEntry(
            org_id=org_id if org_id is not None else actor.org_id,
            user_id=actor.user_id,
            token_id=actor.token_id,
            via=actor.via,
            action=action,
            target=target,
            details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
            client_net=actor.client_net,
        )
    )


def audit_entries(
    session: Session,
    actor: Actor,
    *,
    org_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Sequence[AuditEntry]:
    """Owners read their organization's log; regulators and the operator read any (newest
    first, keyset-paged by id). Another organization's log is NotFound to everyone else."""
    if org_id is None or not can_oversee(session, actor):
        own = require(session, actor, "view_audit").id
        if org_id is not None and org_id != own:
            raise NotFound(N_("No such organization."))
        org_id = own
    elif session.get(Organization, org_id) is None:
        raise NotFound(N_("No such organization."))
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
