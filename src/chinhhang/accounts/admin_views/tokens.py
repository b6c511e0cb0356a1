"""API tokens in the portal: list, create (the secret shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_token, list_tokens, revoke_token
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import IdPath, ShortText
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(include_in_schema=False)
Manager = Annotated[Actor, Depends(Requires("manage_tokens"))]


def _tokens_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "tokens": list_tokens(session, actor),
        "error": error,
        "form": form or {},
        "secret": secret,
    }
    return portal_page(request, "accounts/tokens.html", context, status_code=status_code)


@router.get("/tokens")
def tokens_page(request: Request, session: SessionDep, actor: Manager) -> Response:
    return _tokens_page(request, session, actor)


@router.post("/tokens", dependencies=[CsrfDep])
def token_create(
    request: Request,
    session: SessionDep,
    actor: Manager,
    name: ShortText = "",
    role: ShortText = "",
) -> Response:
    try:
        with session.begin_nested():
            new = create_token(session, actor, role=role, name=name)
    except DomainError as error:
        form = {"name": name, "role": role}
        text = error_text(request, error)
        return _tokens_page(
            request, session, actor, error=text, form=form, status_code=error.status_code
        )
    # Shown on this answer only: only the token's hash is kept.
    return _tokens_page(request, session, actor, secret=new.secret)


@router.post("/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def token_revoke(
    request: Request, session: SessionDep, actor: Manager, token_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            revoke_token(session, actor, token_id)
    except DomainError as error:
        text = error_text(request, error)
        return _tokens_page(request, session, actor, error=text, status_code=error.status_code)
    return see_other("/portal/tokens?note=revoked")
