"""API shapes for organizations, members, invitations, tokens and the audit log.

Secrets appear once: a new token's `secret` and a new invitation's `url` are only in the
answer to the request that made them; afterwards a token shows its prefix only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from chinhhang.api_support import Input, Output, Page

Role = Literal["owner", "admin", "operator", "viewer"]
Kind = Literal["manufacturer", "distributor", "retailer", "regulator"]


class OrganizationSummary(Output):
    id: int
    name: str
    kind: Kind
    approved: bool


class OrganizationPublic(OrganizationSummary):
    address: str | None
    website: str | None
    gln: str | None = Field(description="The organization's GS1 Global Location Number.")
    gs1_company_prefix: str | None = Field(description="Its GS1 company prefix.")
    created_at: datetime


class OrganizationPage(Page):
    items: list[OrganizationSummary]


class OrganizationUpdate(Input):
    """Fields left out stay as they are; null or "" clears one."""

    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(
        default=None, max_length=500, description="An http:// or https:// address."
    )
    gln: str | None = Field(
        default=None,
        max_length=20,
        description="Its main location's GLN: 13 digits with a GS1 check digit.",
    )
    gs1_company_prefix: str | None = Field(
        default=None,
        max_length=20,
        description="The GS1 company prefix: 6 to 12 digits.",
    )


class MePublic(Output):
    organization: OrganizationPublic
    role: Role
    token_id: int | None


class MemberPublic(Output):
    id: int = Field(description="The membership's id (PATCH/DELETE /members/{id}).")
    user_id: int
    email: str
    name: str | None
    role: Role
    since: datetime


class MemberList(Output):
    items: list[MemberPublic]


class MemberUpdate(Input):
    role: Role


class InvitationCreate(Input):
    email: str = Field(max_length=254)
    role: Role


class InvitationPublic(Output):
    id: int
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class InvitationCreated(InvitationPublic):
    url: str = Field(description="The one-time link to send to the person; shown only now.")


class InvitationList(Output):
    items: list[InvitationPublic]


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=100)
    role: Role = Field(description="At most the role of the token making it.")


class TokenPublic(Output):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="The secret's first characters, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    secret: str = Field(description="The token itself; shown only now, stored only as a hash.")


class TokenList(Output):
    items: list[TokenPublic]


class AuditEntryPublic(Output):
    id: int
    at: datetime
    org_id: int | None
    via: str = Field(description='"web" (portal), "api" (token) or "cli" (the operator).')
    user_id: int | None
    token_id: int | None
    action: str
    target: str | None
    details: dict[str, Any] | None
    client_net: str | None = Field(description="The caller's network (/24 or /48), never more.")

    @field_validator("details", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class AuditPage(Page):
    items: list[AuditEntryPublic]
