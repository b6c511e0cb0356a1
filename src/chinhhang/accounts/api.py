"""JSON API for accounts under /api/v1: who am I, organizations, members, tokens, audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.schemas import (
    AuditEntryPublic,
    AuditPage,
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationPublic,
    MemberList,
    MemberPublic,
    MemberUpdate,
    MePublic,
    OrganizationPage,
    OrganizationPublic,
    OrganizationSummary,
    OrganizationUpdate,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenPublic,
)
from chinhhang.accounts.services import (
    approve_organization,
    audit_entries,
    change_member_role,
    create_token,
    invite,
    list_organizations,
    list_tokens,
    members,
    pending_invitations,
    remove_member,
    require,
    revoke_invitation,
    revoke_token,
    update_organization,
)
from chinhhang.api_support import (
    CONFLICT,
    DEFAULT_LIMIT,
    BigBefore,
    Limit,
    api_router,
    paged,
)
from chinhhang.deps import Requires, SessionDep, SettingsDep
from chinhhang.forms import MAX_ID, IdPath

router = api_router("accounts")


@router.get("/me", summary="The token's organization and role")
def me(session: SessionDep, actor: Annotated[Actor, Depends(Requires("view"))]) -> MePublic:
    org = require(session, actor, "view")
    return MePublic(
        organization=OrganizationPublic.model_validate(org),
        role=actor.role,
        token_id=actor.token_id,
    )


@router.get(
    "/organizations",
    summary="Organizations: those one can ship to, or all of them for a regulator",
)
def organizations(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    pending: Annotated[bool, Query(description="Only those awaiting approval.")] = False,
    after: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="The `next` of the previous page.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OrganizationPage:
    rows = list_organizations(session, actor, pending_only=pending, after=after, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda org: org.id)
    return OrganizationPage(
        items=[OrganizationSummary.model_validate(o) for o in items], next=next_
    )


@router.post(
    "/organizations/{org_id}/approve",
    summary="Approve a self-registered organization",
    responses=CONFLICT,
)
def approve(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("approve_organizations"))],
    org_id: IdPath,
) -> OrganizationPublic:
    return OrganizationPublic.model_validate(approve_organization(session, actor, org_id))


@router.patch("/organization", summary="Edit the token's organization's profile")
def edit_organization(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("edit_organization"))],
    body: OrganizationUpdate,
) -> OrganizationPublic:
    # null clears a field, like "": the service takes None as "leave it".
    changes = {k: v or "" for k, v in body.model_dump(exclude_unset=True).items()}
    return OrganizationPublic.model_validate(update_organization(session, actor, **changes))


@router.get("/members", summary="The organization's members")
def list_members(
    session: SessionDep, actor: Annotated[Actor, Depends(Requires("view"))]
) -> MemberList:
    return MemberList(
        items=[
            MemberPublic(
                id=m.id,
                user_id=u.id,
                email=u.email,
                name=u.name,
                role=m.role,
                since=m.created_at,
            )
            for m, u in members(session, actor)
        ]
    )


@router.patch(
    "/members/{membership_id}",
    summary="Change a member's role",
    status_code=204,
    responses=CONFLICT,
)
def change_role(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_members"))],
    membership_id: IdPath,
    body: MemberUpdate,
) -> Response:
    change_member_role(session, actor, membership_id, body.role)
    return Response(status_code=204)


@router.delete(
    "/members/{membership_id}",
    summary="Remove a member from the organization",
    status_code=204,
    responses=CONFLICT,
)
def delete_member(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_members"))],
    membership_id: IdPath,
) -> Response:
    remove_member(session, actor, membership_id)
    return Response(status_code=204)


@router.get("/invitations", summary="Invitations not yet accepted")
def invitations(
    session: SessionDep, actor: Annotated[Actor, Depends(Requires("view"))]
) -> InvitationList:
    return InvitationList(
        items=[InvitationPublic.model_validate(i) for i in pending_invitations(session, actor)]
    )


@router.post(
    "/invitations",
    summary="Invite someone by e-mail; the answer holds the one-time link",
    status_code=201,
)
def create_invitation(
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(Requires("manage_members"))],
    body: InvitationCreate,
) -> InvitationCreated:
    invitation, token = invite(session, actor, email=body.email, role=body.role)
    return InvitationCreated(
        **InvitationPublic.model_validate(invitation).model_dump(),
        url=f"{settings.base_url}/portal/invitations/{token}",
    )


@router.delete("/invitations/{invitation_id}", summary="Withdraw an invitation", status_code=204)
def delete_invitation(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_members"))],
    invitation_id: IdPath,
) -> Response:
    revoke_invitation(session, actor, invitation_id)
    return Response(status_code=204)


@router.get("/tokens", summary="The organization's API tokens (prefixes only)")
def tokens(
    session: SessionDep, actor: Annotated[Actor, Depends(Requires("manage_tokens"))]
) -> TokenList:
    return TokenList(items=[TokenPublic.model_validate(t) for t in list_tokens(session, actor)])


@router.post(
    "/tokens", summary="Create an API token; the answer holds its secret, once", status_code=201
)
def new_token(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_tokens"))],
    body: TokenCreate,
) -> TokenCreated:
    made = create_token(session, actor, role=body.role, name=body.name)
    return TokenCreated(**TokenPublic.model_validate(made.token).model_dump(), secret=made.secret)


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke a token (refused from the next request on)",
    status_code=204,
)
def delete_token(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_tokens"))],
    token_id: IdPath,
) -> Response:
    revoke_token(session, actor, token_id)
    return Response(status_code=204)


@router.get("/audit", summary="The organization's audit log, newest first")
def audit(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view_audit"))],
    before: BigBefore = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AuditPage:
    rows = audit_entries(session, actor, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda entry: entry.id)
    return AuditPage(items=[AuditEntryPublic.model_validate(e) for e in items], next=next_)


@router.get("/organizations/{org_id}/audit", summary="Any organization's audit log (regulators)")
def audit_of(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("oversee"))],
    org_id: IdPath,
    before: BigBefore = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AuditPage:
    rows = audit_entries(session, actor, org_id=org_id, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda entry: entry.id)
    return AuditPage(items=[AuditEntryPublic.model_validate(e) for e in items], next=next_)
