"""Portal pages for accounts: log in and out, register a business, change the password,
switch organization, accept an invitation. Members, tokens, approvals and the audit log are
in accounts/admin_views.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from chinhhang.accounts.services import (
    accept_invitation,
    authenticate,
    change_password,
    end_session,
    find_invitation,
    register,
    start_session,
    switch_organization,
)
from chinhhang.deps import CSRF_COOKIE, SESSION_COOKIE, CsrfDep, SessionDep, SignedInDep, client_net
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.portal import portal_page, safe_next, see_other, set_cookie
from chinhhang.templating import language_of

router = APIRouter(prefix="/portal", include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]
Password = Annotated[str, Form(max_length=500)]


def _signed_in_response(request: Request, token: str, target: str) -> Response:
    """A fresh session cookie and a fresh CSRF cookie: nothing from before login survives."""
    response = see_other(target)
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _error_text(request: Request, error: DomainError) -> str:
    return translator(language_of(request))(error.message, **error.values)


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
    net = client_net(request)
    if not (throttle.allow(f"net:{net}") and throttle.allow(f"user:{email.strip().lower()}")):
        message = N_("Too many login attempts. Wait a minute and try again.")
        return portal_page(
            request,
            "accounts/login.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": translator(language_of(request))(message),
            },
            status_code=429,
        )
    try:
        user = authenticate(session, email, password)
    except DomainError as error:
        context = {"next": safe_next(next), "email": email, "error": _error_text(request, error)}
        return portal_page(request, "accounts/login.html", context, status_code=400)
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
    try:
        with session.begin_nested():  # all or nothing: no orphan user without its organization
            user, _org = register(
                session, org_name=org_name, kind=kind, email=email, password=password, name=name
            )
    except DomainError as error:
        context = {"form": form, "error": _error_text(request, error)}
        return portal_page(request, "accounts/register.html", context, status_code=400)
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
        context = {"error": _error_text(request, error)}
        return portal_page(request, "accounts/password.html", context, status_code=400)
    # Every session of the user ended with the old password; this browser gets a new one.
    return _signed_in_response(request, start_session(session, signed.user), "/portal?password=1")


@router.post("/switch", dependencies=[CsrfDep])
def switch(session: SessionDep, signed: SignedInDep, org_id: Annotated[int, Form()]) -> Response:
    switch_organization(session, signed.login, org_id)
    return see_other("/portal")


@router.get("/invitations/{token}")
def invitation_form(request: Request, session: SessionDep, token: str) -> Response:
    invitation = find_invitation(session, token[:100])
    return portal_page(request, "accounts/invitation.html", {"invitation": invitation})


@router.post("/invitations/{token}", dependencies=[CsrfDep])
def invitation_accept(
    request: Request,
    session: SessionDep,
    token: str,
    password: Password,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    invitation = find_invitation(session, token[:100])
    try:
        with session.begin_nested():
            user = accept_invitation(session, token[:100], password=password, name=name)
    except DomainError as error:
        context = {"invitation": invitation, "error": _error_text(request, error)}
        return portal_page(request, "accounts/invitation.html", context, status_code=400)
    return _signed_in_response(request, start_session(session, user), "/portal")
