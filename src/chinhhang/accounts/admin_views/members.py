"""Members in the portal: roles, removal, invitations (the link shown once), the profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import (
    change_member_role,
    invite,
    lock_ends,
    members,
    pending_invitations,
    remove_member,
    revoke_invitation,
    update_organization,
)
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import IdPath, ShortText
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Actor, Depends(Requires("view"))]
Manager = Annotated[Actor, Depends(Requires("manage_members"))]
Editor = Annotated[Actor, Depends(Requires("edit_organization"))]


def _members_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    invitation_link: str | None = None,
    status_code: int = 200,
) -> Response:
    """`errors` names the form that failed: "invite", "member", "invitation" or "profile"."""
    rows = members(session, actor)
    context = {
        "members": rows,
        "locks": lock_ends(session, actor, (user for _membership, user in rows)),
        "invitations": pending_invitations(session, actor),
        "errors": errors or {},
        "form": form or {},
        "invitation_link": invitation_link,
    }
    return portal_page(request, "accounts/members.html", context, status_code=status_code)


@router.get("/members")
def members_page(request: Request, session: SessionDep, actor: Viewer) -> Response:
    return _members_page(request, session, actor)


@router.post("/members/invite", dependencies=[CsrfDep])
def member_invite(
    request: Request,
    session: SessionDep,
    actor: Manager,
    email: ShortText = "",
    role: ShortText = "",
) -> Response:
    try:
        with session.begin_nested():
            _invitation, token = invite(session, actor, email=email, role=role)
    except DomainError as error:
        errors = {"invite": error_text(request, error)}
        form = {"email": email, "role": role}
        return _members_page(
            request, session, actor, errors=errors, form=form, status_code=error.status_code
        )
    # Shown on this answer only, never redirected to: the link is a secret and is not stored.
    base = str(request.app.state.settings.base_url).rstrip("/")
    link = f"{base}/portal/invitations/{token}"
    return _members_page(request, session, actor, invitation_link=link)


@router.post("/members/{membership_id}/role", dependencies=[CsrfDep])
def member_role(
    request: Request,
    session: SessionDep,
    actor: Manager,
    membership_id: IdPath,
    role: ShortText = "",
) -> Response:
    try:
        with session.begin_nested():
            change_member_role(session, actor, membership_id, role)
    except DomainError as error:
        errors = {"member": error_text(request, error)}
        return _members_page(request, session, actor, errors=errors, status_code=error.status_code)
    return see_other("/portal/members?note=role")


@router.post("/members/{membership_id}/remove", dependencies=[CsrfDep])
def member_remove(
    request: Request, session: SessionDep, actor: Manager, membership_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            remove_member(session, actor, membership_id)
    except DomainError as error:
        errors = {"member": error_text(request, error)}
        return _members_page(request, session, actor, errors=errors, status_code=error.status_code)
    return see_other("/portal/members?note=removed")


@router.post("/members/invitations/{invitation_id}/revoke", dependencies=[CsrfDep])
def invitation_revoke(
    request: Request, session: SessionDep, actor: Manager, invitation_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            revoke_invitation(session, actor, invitation_id)
    except DomainError as error:
        errors = {"invitation": error_text(request, error)}
        return _members_page(request, session, actor, errors=errors, status_code=error.status_code)
    return see_other("/portal/members?note=uninvited")


@router.post("/members/profile", dependencies=[CsrfDep])
def organization_profile(
    request: Request,
    session: SessionDep,
    actor: Editor,
    address: ShortText = "",
    website: ShortText = "",
    gln: ShortText = "",
    gs1_company_prefix: ShortText = "",
) -> Response:
    form = {
        "address": address,
        "website": website,
        "gln": gln,
        "gs1_company_prefix": gs1_company_prefix,
    }
    try:
        with session.begin_nested():
            update_organization(session, actor, **form)
    except DomainError as error:
        errors = {"profile": error_text(request, error)}
        return _members_page(
            request, session, actor, errors=errors, form=form, status_code=error.status_code
        )
    return see_other("/portal/members?note=profile")
