"""Portal pages for accounts: log in and out, register a business, change the password,
switch organization, accept an invitation. Members, tokens, approvals and the audit log are
in accounts/admin_views.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.services import (
    SignedIn,
    accept_invitation,
    authenticate,
    change_password,
    end_session,
    find_invitation,
    find_user,
    register,
    signed_in,
    start_session,
    switch_organization,
)
from chinhhang.deps import CSRF_COOKIE, SESSION_COOKIE, CsrfDep, SessionDep, SignedInDep, client_net
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import MAX_ID
from chinhhang.i18n import N_
from chinhhang.portal import error_text, portal_page, safe_next, see_other, set_cookie

router = APIRouter(prefix="/portal", include_in_schema=False)
# Login, registration and invitations share one budget per network (and login one per e-mail).
TOO_MANY = InvalidInput(N_("Too many login attempts. Wait a minute and try again."))
Text = Annotated[str, Form(max_length=500)]
Password = Annotated[str, Form(max_length=500)]


def _signed_in_response(request: Request, token: str, target: str) -> Response:
    """A fresh session cookie and a fresh CSRF cookie: nothing from before login survives."""
    response = see_other(target)
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return portal_page(request, "accounts/login.html", {"next": safe_next(next)})


@router.post("/login", dependencies=[CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    email: Text,
    password: Password,
    next: Annotated[str, Form(max_length=500)] = "/portal",
) -> Response:
    throttle = request.app.state.login_throttle
    if _too_many(request, "net") or not throttle.allow(f"user:{email.strip().lower()}"):
        context = {"next": safe_next(next), "email": email, "error": error_text(request, TOO_MANY)}
        return portal_page(request, "accounts/login.html", context, status_code=429)
    try:
        user = authenticate(session, email, password, client_net=client_net(request))
    except DomainError as error:  # returned, not raised: the failure count must be committed
        context = {"next": safe_next(next), "email": email, "error": error_text(request, error)}
        # 400 for a wrong password, 429 (with Retry-After) while the address is locked.
        page = portal_page(request, "accounts/login.html", context, error.status_code)
        page.headers.update(error.headers)
        return page
    token = start_session(session, user)
    return _signed_in_response(request, token, safe_next(next))


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep) -> Response:
    end_session(session, request.cookies.get(SESSION_COOKIE))
    response = see_other("/portal/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/register")
def register_form(request: Request) -> Response:
    return portal_page(request, "accounts/register.html", {"form": {}})


@router.post("/register", dependencies=[CsrfDep])
def register_business(
    request: Request,
    session: SessionDep,
    org_name: Text,
    kind: Annotated[str, Form(max_length=20)],
    email: Text,
    password: Password,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {"org_name": org_name, "kind": kind, "email": email, "name": name}
    if _too_many(request, "register"):
        context = {"form": form, "error": error_text(request, TOO_MANY)}
        return portal_page(request, "accounts/register.html", context, status_code=429)
    try:
        with session.begin_nested():  # all or nothing: no orphan user without its organization
            user, _org = register(
                session, org_name=org_name, kind=kind, email=email, password=password, name=name
            )
    except DomainError as error:
        context = {"form": form, "error": error_text(request, error)}
        return portal_page(request, "accounts/register.html", context, error.status_code)
    return _signed_in_response(request, start_session(session, user), "/portal?registered=1")


@router.get("/password")
def password_form(request: Request, _signed: SignedInDep) -> Response:
    return portal_page(request, "accounts/password.html")


@router.post("/password", dependencies=[CsrfDep])
def password_change(
    request: Request, session: SessionDep, signed: SignedInDep, current: Password, new: Password
) -> Response:
    try:
        change_password(session, signed.actor, signed.user, current=current, new=new)
    except DomainError as error:
        context = {"error": error_text(request, error)}
        return portal_page(request, "accounts/password.html", context, status_code=400)
    # Every session of the user ended with the old password; this browser gets a new one.
    return _signed_in_response(request, start_session(session, signed.user), "/portal?password=1")


@router.post("/switch", dependencies=[CsrfDep])
def switch(
    session: SessionDep, signed: SignedInDep, org_id: Annotated[int, Form(ge=1, le=MAX_ID)]
) -> Response:
    switch_organization(session, signed.login, org_id)
    return see_other("/portal")


def _signed_in_or_none(request: Request, session: Session) -> SignedIn | None:
    return signed_in(session, request.cookies.get(SESSION_COOKIE), client_net(request))


def _too_many(request: Request, key: str) -> bool:
    """Forms that check or create credentials share the login throttle (per network)."""
    return not request.app.state.login_throttle.allow(f"{key}:{client_net(request)}")


@router.get("/invitations/{token}")
def invitation_form(request: Request, session: SessionDep, token: str) -> Response:
    invitation = find_invitation(session, token[:100])
    context = {
        "invitation": invitation,
        "has_account": find_user(session, invitation.email) is not None,
        "me": _signed_in_or_none(request, session),
    }
    return portal_page(request, "accounts/invitation.html", context)


@router.post("/invitations/{token}", dependencies=[CsrfDep])
def invitation_accept(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=500)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    invitation = find_invitation(session, token[:100])
    me = _signed_in_or_none(request, session)
    context = {
        "invitation": invitation,
        "has_account": find_user(session, invitation.email) is not None,
        "me": me,
    }
    if _too_many(request, "invitation"):
        context["error"] = error_text(request, TOO_MANY)
        return portal_page(request, "accounts/invitation.html", context, status_code=429)
    try:
        with session.begin_nested():
            user = accept_invitation(
                session,
                token[:100],
                password=password,
                name=name,
                signed_in_user=me.user if me else None,
            )
    except DomainError as error:
        context["error"] = error_text(request, error)
        return portal_page(request, "accounts/invitation.html", context, error.status_code)
    if me is not None and me.user.id == user.id:
        switch_organization(session, me.login, invitation.org_id)
        return see_other("/portal")
    return _signed_in_response(request, start_session(session, user), "/portal")
