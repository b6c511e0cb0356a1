"""FastAPI dependency aliases: the request's unit of work, who is asking, and the shared parts.

Two ways in: the portal's session cookie (with a CSRF token on every form) and the API's
bearer token. `Requires(action)` names the permission a route needs; it checks it before the
request body is validated (a forbidden caller gets 403 whatever fields it sent; only a body
that is not JSON at all is refused first, with 400), and the authorization
matrix test reads it from the route table. The service called by the route checks again:
the service is the authority, the route's declaration is the early answer.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import SignedIn, require, signed_in, token_actor
from chinhhang.accounts.services.access import PLATFORM_ADMIN_ACTIONS
from chinhhang.config import Settings, derive_key
from chinhhang.db import session_scope
from chinhhang.errors import DomainError, Forbidden
from chinhhang.i18n import N_
from chinhhang.scans.privacy import truncate_address
from chinhhang.templating import Pages

SESSION_COOKIE = "ch_session"
CSRF_COOKIE = "ch_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(DomainError):
    """No valid session or token: the portal sends the browser to the login page, the API
    answers 401."""

    status_code = 401


def get_session(request: Request) -> Iterator[Session]:
    """Commit when the route returns, roll back when it raises (DESIGN: unit of work at edge)."""
    with session_scope(request.app.state.sessions) as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for pages that only read: on SQLite it takes no write lock (deferred BEGIN),
    so shoppers' page views never queue behind, or hold up, the scan writer."""
    with read_session(request) as session:
        yield session


@contextmanager
def read_session(request: Request) -> Iterator[Session]:
    """`get_read_session` for an async route that needs a session only sometimes (a page
    built on a cache miss, in the thread pool)."""
    session: Session = request.app.state.read_sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


# scope="function": the session commits (or rolls back) when the route returns, before the
# answer is sent. FastAPI's default ends it after sending: a browser following a form's 303
# could read before the commit, and a failed commit would follow an answer saying "saved".
# Downloads that stream past the route read in sessions of their own (printing, trace).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
PagesDep = Annotated[Pages, Depends(get_pages)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_net(request: Request) -> str | None:
    return truncate_address(request.client.host if request.client else None)


def signed_in_user(request: Request, session: SessionDep) -> SignedIn:
    """The portal's user; LoginRequired (→ login page) without a live session."""
    found = signed_in(session, request.cookies.get(SESSION_COOKIE), client_net(request))
    if found is None:
        raise LoginRequired(N_("Please log in."))
    request.state.signed_in = found
    return found


def api_actor(request: Request, session: SessionDep) -> Actor:
    """The API's caller from `Authorization: Bearer …`; revoked tokens fail at once."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    actor = (
        token_actor(session, secret.strip(), client_net(request))
        if scheme.lower() == "bearer"
        else None
    )
    if actor is None and scheme.lower() == "bearer" and secret.strip():
        # A token was sent: saying "a token is needed" would send its owner looking elsewhere.
        raise LoginRequired(N_("This API token is not valid: it was revoked or mistyped."))
    if actor is None:
        raise LoginRequired(N_("An API token is needed: Authorization: Bearer <token>."))
    return actor


SignedInDep = Annotated[SignedIn, Depends(signed_in_user)]


def _actor_for(request: Request, session: Session) -> Actor:
    if request.url.path.startswith("/api/"):
        return api_actor(request, session)
    return signed_in_user(request, session).actor


class Requires:
    """A route's permission: `actor: Annotated[Actor, Depends(Requires("manage_products"))]`."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __call__(self, request: Request, session: SessionDep) -> Actor:
        actor = _actor_for(request, session)
        # The operator works outside any organization: looking and approving need none (the
        # service called next decides, e.g. approve_organization accepts the operator).
        if self.action in PLATFORM_ADMIN_ACTIONS and actor.platform_admin and actor.org_id is None:
            return actor
        require(session, actor, self.action)
        return actor


# --- CSRF: a signed double-submit token -------------------------------------------------
# The browser holds a random HttpOnly cookie; every form carries an HMAC of it under the
# server's key. Another site can make the browser send the cookie, but it can neither read it
# nor compute the HMAC, so it cannot forge the field. Works before login too (login, register).


def csrf_cookie_value(request: Request) -> str:
    """The browser's CSRF cookie, or a new one that the page sets (see portal rendering)."""
    value = request.cookies.get(CSRF_COOKIE)
    if not value or len(value) > 64:
        value = getattr(request.state, "new_csrf_cookie", None) or secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = value
    return value


def csrf_token(request: Request) -> str:
    key = derive_key(request.app.state.settings.secret, "csrf")
    return hmac.new(key, csrf_cookie_value(request).encode(), "sha256").hexdigest()


async def csrf_checked(request: Request) -> None:
    """Refuses (403) a form whose token is missing or does not match the browser's cookie."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if (
        not cookie
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, csrf_token(request))
    ):
        raise Forbidden(
            N_("This form has expired or came from another site. Reload the page, try again.")
        )


CsrfDep = Depends(csrf_checked)
