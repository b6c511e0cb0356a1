"""Rendering for the business portal: every page gets the user, the organization, the
navigation it may use, and the CSRF token its forms must carry.

Pages are `no-store` (business data must not sit in shared caches) and the CSRF cookie is set
on the first page a browser sees, so even the login form is protected.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from chinhhang.accounts.roles import allows
from chinhhang.accounts.services import SignedIn
from chinhhang.deps import CSRF_COOKIE, csrf_token
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.templating import LANGUAGE_COOKIE, language_of, pages_of

# Framing, sniffing and the referrer are every answer's (security_headers.py).
PORTAL_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


def is_https(request: Request) -> bool:
    return bool(request.app.state.settings.base_url.startswith("https://"))


# The short success notes a page shows after a form's Post/Redirect/Get (`?note=saved`): a key
# in the address, never the text itself, so a link cannot make the portal say anything else.
NOTES = {
    "saved": N_("Saved."),
    "created": N_("Created."),
    "image": N_("The image was uploaded."),
    "batch": N_("The batch was saved."),
    "issuing": N_("The run is being issued; this page shows its progress."),
    "activated": N_("Stamps activated: %(n)s."),
    "voided": N_("Stamps voided: %(n)s."),
    "shipped": N_("The stamps were shipped."),
    "received": N_("The shipment was received; its stamps are now in your custody."),
    "role": N_("The member's role was changed."),
    "removed": N_("The member was removed."),
    "uninvited": N_("The invitation was revoked."),
    "profile": N_("The organization's profile was saved."),
    "revoked": N_("The token was revoked."),
    "approved": N_("The organization was approved."),
    "deleted": N_("Deleted."),
    "undone": N_("The scan was undone: the stamp has it back."),
}


def note_text(request: Request) -> str | None:
    """The success note named by `?note=` (with `?n=` for a count), translated."""
    message = NOTES.get(request.query_params.get("note", ""))
    if message is None:
        return None
    count = request.query_params.get("n", "")
    values = {"n": int(count) if count.isdigit() and len(count) < 12 else 0}
    return translator(language_of(request))(message, **values)


def error_text(request: Request, error: DomainError) -> str:
    """A service's refusal in the reader's language, for the form that caused it."""
    return translator(language_of(request))(error.message, **error.values)


def can(signed: SignedIn | None, action: str) -> bool:
    """For templates choosing which links and buttons to show; services check on use."""
    if signed is None or signed.org is None or signed.actor.role is None:
        return False
    return allows(
        action, role=signed.actor.role, kind=signed.org.kind, approved=signed.org.approved
    )


def portal_page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    signed: SignedIn | None = getattr(request.state, "signed_in", None)
    values = {
        "signed": signed,
        "csrf": csrf_token(request),
        "can": lambda action: can(signed, action),
        "path": request.url.path,
        "note": note_text(request),
        **(context or {}),
    }
    response = pages_of(request).render(request, name, values, status_code, PORTAL_HEADERS)
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        set_cookie(request, response, CSRF_COOKIE, new_cookie, samesite="strict")
    if request.query_params.get("lang"):
        set_cookie(request, response, LANGUAGE_COOKIE, language_of(request), max_age=31536000)
    return response


def set_cookie(
    request: Request,
    response: HTMLResponse | RedirectResponse,
    name: str,
    value: str,
    *,
    samesite: str = "lax",
    max_age: int | None = None,
) -> None:
    """HttpOnly always; Secure when the site is served over https (CHINHHANG_BASE_URL)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite=samesite,  # type: ignore[arg-type]
    )


def see_other(url: str) -> RedirectResponse:
    """After a successful form post: the browser loads the result with GET (no re-post on
    reload)."""
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return see_other(f"/portal/login?next={quote(target)}")


def safe_next(target: str | None) -> str:
    """Only our own portal and market-control pages: a login link must not bounce the user to
    another site."""
    pages = ("/portal", "/regulator")
    if target and target.startswith(pages) and "//" not in target and "\\" not in target:
        return target
    return "/portal"
