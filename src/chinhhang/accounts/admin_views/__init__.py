"""Portal pages for an organization's people and records: members and invitations, API
tokens, the audit log, and approving organizations."""

from __future__ import annotations

from fastapi import APIRouter

from chinhhang.accounts.admin_views import members, oversight, tokens

router = APIRouter(prefix="/portal", include_in_schema=False)
for part in (members, tokens, oversight):
    router.include_router(part.router)
