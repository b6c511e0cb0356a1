"""The audit log, and the organizations as regulators and the platform operator see them:
approving registrations, reading any organization's log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry
from chinhhang.accounts.services import (
    approve_organization,
    audit_entries,
    get_organization,
    list_organizations,
)
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import Before, BigBefore, IdPath
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(include_in_schema=False)
PAGE = 50
Auditor = Annotated[Actor, Depends(Requires("view_audit"))]
Overseer = Annotated[Actor, Depends(Requires("oversee"))]
Approver = Annotated[Actor, Depends(Requires("approve_organizations"))]


def _audit_page(
    request: Request, entries: Sequence[AuditEntry], base: str, title: str | None
) -> Response:
    next_url = f"{base}?before={entries[-1].id}" if len(entries) == PAGE else None
    context = {"entries": entries, "next_url": next_url, "org_name": title}
    return portal_page(request, "accounts/audit.html", context)


@router.get("/audit")
def audit_page(
    request: Request, session: SessionDep, actor: Auditor, before: BigBefore = None
) -> Response:
    entries = audit_entries(session, actor, before=before, limit=PAGE)
    return _audit_page(request, entries, "/portal/audit", None)


@router.get("/organizations/{org_id}/audit")
def organization_audit_page(
    request: Request, session: SessionDep, actor: Overseer, org_id: IdPath, before: BigBefore = None
) -> Response:
    entries = audit_entries(session, actor, org_id=org_id, before=before, limit=PAGE)
    name = get_organization(session, org_id).name
    return _audit_page(request, entries, f"/portal/organizations/{org_id}/audit", name)


def _organizations_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    after: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    organizations = list_organizations(session, actor, after=after, limit=PAGE)
    next_url = None
    if len(organizations) == PAGE:
        next_url = f"/portal/organizations?after={organizations[-1].id}"
    context = {"organizations": organizations, "next_url": next_url, "error": error}
    return portal_page(request, "accounts/organizations.html", context, status_code=status_code)


@router.get("/organizations")
def organizations_page(
    request: Request, session: SessionDep, actor: Overseer, after: Before = None
) -> Response:
    return _organizations_page(request, session, actor, after=after)


@router.post("/organizations/{org_id}/approve", dependencies=[CsrfDep])
def organization_approve(
    request: Request, session: SessionDep, actor: Approver, org_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            approve_organization(session, actor, org_id)
    except DomainError as error:
        text = error_text(request, error)
        return _organizations_page(
            request, session, actor, error=text, status_code=error.status_code
        )
    return see_other("/portal/organizations?note=approved")
