"""People and records in the portal: invitations, roles, API tokens, the profile, the audit
log, a self-registered organization waiting for a regulator's approval, and logging in (session
fixation, the throttle, the lockout)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chinhhang.accounts.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    User,
)
from chinhhang.accounts.services import logins, token_actor
from chinhhang.accounts.services.logins import LOCK_AFTER, LOCK_FOR
from chinhhang.db import utcnow
from tests.portal_helpers import (
    PASSWORD,
    Browser,
    csrf_of,
    member,
    operator,
    portal_client,
    table_counts,
)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def _role_of(sessions, email: str, org_id: int) -> str | None:
    with sessions() as session:
        return session.scalar(
            select(Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.org_id == org_id)
        )


def _membership_id(sessions, email: str, org_id: int) -> int:
    with sessions() as session:
        found = session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.org_id == org_id)
        )
        assert found is not None
        return int(found)


def test_invite_accept_and_the_new_member_appears(browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    created = browser.post(
        "/portal/members/invite", data={"email": "new@portal.test", "role": "operator"}
    )
    assert created.status_code == 200
    link = re.search(r"http://testserver(/portal/invitations/[\w-]+)", created.text)
    assert link, "the invitation link is shown once"
    assert link.group(0) not in browser.get("/portal/members").text
    assert "new@portal.test" in browser.get("/portal/members").text  # pending

    browser.client.cookies.clear()
    form = browser.get(link.group(1))
    accepted = browser.client.post(
        link.group(1),
        data={"csrf_token": csrf_of(form.text), "password": "a-new-password", "name": "Lan"},
    )
    assert accepted.status_code == 303
    assert _role_of(sessions, "new@portal.test", owner.org_id) == "operator"
    browser.login(owner.email)
    members = browser.get("/portal/members").text
    assert "new@portal.test" in members
    assert "Lan" in members
    assert browser.get(link.group(1)).status_code == 404  # used once


def test_revoke_an_invitation(browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    browser.post("/portal/members/invite", data={"email": "later@portal.test", "role": "viewer"})
    with sessions() as session:
        invitation_id = session.scalar(
            select(Invitation.id).where(Invitation.org_id == owner.org_id)
        )
    revoked = browser.post(f"/portal/members/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 303
    assert "later@portal.test" not in browser.get("/portal/members").text


def test_change_a_members_role_and_remove_them(browser, sessions) -> None:
    owner = member(sessions)
    colleague = member(sessions, org_id=owner.org_id, role="viewer")
    browser.login(owner.email)
    membership = _membership_id(sessions, colleague.email, owner.org_id)
    changed = browser.post(f"/portal/members/{membership}/role", data={"role": "admin"})
    assert changed.status_code == 303
    assert _role_of(sessions, colleague.email, owner.org_id) == "admin"
    assert browser.post(f"/portal/members/{membership}/remove").status_code == 303
    assert _role_of(sessions, colleague.email, owner.org_id) is None


@pytest.mark.parametrize(
    ("url", "form", "message", "status"),
    [
        (
            "/portal/members/invite",
            {"email": "not-an-address", "role": "viewer"},
            "This is not a valid e-mail address.",
            400,
        ),
        ("/portal/members/invite", {"email": "x@portal.test", "role": "boss"}, "Unknown role", 400),
        (
            "/portal/members/{own}/role",
            {"role": "viewer"},
            "An organization keeps at least one owner.",
            409,
        ),
        ("/portal/members/{own}/role", {"role": "king"}, "Unknown role", 400),
        ("/portal/members/999999/remove", {}, "No such member.", 404),
        ("/portal/members/invitations/999999/revoke", {}, "No such invitation.", 404),
        (
            "/portal/members/profile",
            {"website": "ftp://x"},
            "must be an http:// or https:// address.",
            400,
        ),
        (
            "/portal/members/profile",
            {"address": "x" * 301},
            "The address is longer than 300 characters.",
            400,
        ),
        (
            "/portal/tokens",
            {"name": "", "role": "viewer"},
            "A token needs a name of 1 to 100 characters.",
            400,
        ),
        ("/portal/tokens", {"name": "ci", "role": "root"}, "Unknown role", 400),
        ("/portal/tokens/999999/revoke", {}, "No such token.", 404),
        ("/portal/organizations/999999/approve", {}, "No such organization.", 404),
    ],
)
def test_bad_account_forms_are_refused_and_nothing_changes(
    browser, sessions, url, form, message, status
) -> None:
    owner = member(sessions, kind="regulator" if "organizations" in url else "manufacturer")
    browser.login(owner.email)
    before = table_counts(sessions)
    own = _membership_id(sessions, owner.email, owner.org_id)
    response = browser.post(url.format(own=own), data=form)
    assert response.status_code == status
    assert message in response.text
    assert 'class="form-error"' in response.text
    assert table_counts(sessions) == before


def test_an_admin_cannot_make_a_token_stronger_than_themselves(browser, sessions) -> None:
    admin = member(sessions, role="admin")
    browser.login(admin.email)
    response = browser.post("/portal/tokens", data={"name": "too strong", "role": "owner"})
    assert response.status_code == 403
    assert "more rights than your own" in response.text


def test_a_token_is_shown_once_and_revoking_it_works(browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    created = browser.post("/portal/tokens", data={"name": "warehouse sync", "role": "operator"})
    assert created.status_code == 200
    secret = re.search(r"chh_[\w-]+", created.text)
    assert secret
    listing = browser.get("/portal/tokens").text
    assert "warehouse sync" in listing
    assert secret.group(0) not in listing
    with sessions() as session:
        assert token_actor(session, secret.group(0), None) is not None
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.org_id == owner.org_id))
    assert browser.post(f"/portal/tokens/{token_id}/revoke").status_code == 303
    assert "Revoked" in browser.get("/portal/tokens").text
    with sessions() as session:
        assert token_actor(session, secret.group(0), None) is None


def test_edit_the_organization_profile(browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    data = {"address": "12 Lê Lợi, Huế", "website": "https://example.vn"}
    assert browser.post("/portal/members/profile", data=data).status_code == 303
    with sessions() as session:
        org = session.get(Organization, owner.org_id)
        assert org is not None
        assert (org.address, org.website) == ("12 Lê Lợi, Huế", "https://example.vn")


def test_the_audit_log_records_portal_changes(browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    browser.post("/portal/products/new", data={"name": "Cà phê"})
    page = browser.get("/portal/audit").text
    assert "product.create" in page
    regulator = member(sessions, kind="regulator")
    browser.login(regulator.email)
    assert "product.create" in browser.get(f"/portal/organizations/{owner.org_id}/audit").text


def _register(browser: Browser, kind: str = "manufacturer") -> None:
    form = browser.get("/portal/register").text
    response = browser.client.post(
        "/portal/register",
        data={
            "csrf_token": csrf_of(form),
            "org_name": "Hợp tác xã Mới",
            "kind": kind,
            "email": "founder@portal.test",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    browser._token = None  # a new session: the page's token comes from the next page


@pytest.mark.parametrize("approver", ["regulator", "operator"])
def test_a_registered_organization_issues_only_after_approval(browser, sessions, approver) -> None:
    browser.client.cookies.clear()
    _register(browser)
    waiting = "Your organization is waiting for approval; it cannot do this until then."
    assert "waiting for approval" in browser.get("/portal").text
    refused = browser.post("/portal/runs/new", data={"quantity": "5"})
    assert refused.status_code == 403
    assert waiting in refused.text
    assert browser.post("/portal/products/new", data={"name": "Gạo ST25"}).status_code == 303

    with sessions() as session:
        org_id = session.scalar(
            select(Organization.id).where(Organization.name == "Hợp tác xã Mới")
        )
    email = (
        member(sessions, kind="regulator").email if approver == "regulator" else operator(sessions)
    )
    browser.login(email)
    listing = browser.get("/portal/organizations").text
    assert f'action="/portal/organizations/{org_id}/approve"' in listing
    approved = browser.post(f"/portal/organizations/{org_id}/approve")
    assert approved.status_code == 303
    assert "The organization was approved." in browser.get(approved.headers["location"]).text

    browser.login("founder@portal.test")
    assert browser.post("/portal/runs/new", data={"quantity": "5"}).status_code == 303


def test_a_regulator_viewer_cannot_approve(browser, sessions) -> None:
    regulator = member(sessions, kind="regulator", role="viewer")
    pending = member(sessions, kind="retailer", approved=False)
    browser.login(regulator.email)
    response = browser.post(f"/portal/organizations/{pending.org_id}/approve")
    assert response.status_code == 403
    with sessions() as session:
        org = session.get(Organization, pending.org_id)
        assert org is not None
        assert org.approved is False


# Logging in: session fixation, the throttle, the lockout (accounts/services/logins.py).
LOCKED = "This account is temporarily locked after too many failed login attempts."
WRONG = "The e-mail address or the password is wrong."
_FORM_ERROR = re.compile(r'<p class="form-error" role="alert">([^<]*)</p>')


def _form_error(response) -> str:
    found = _FORM_ERROR.search(response.text)
    assert found, "the page shows no form error"
    return html.unescape(found.group(1))


def _set_cookie(response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def test_login_replaces_the_session_and_csrf_cookies_from_before(client, sessions) -> None:
    """Session fixation: a session id planted before login is not the one after it, and
    nothing the browser held before login opens a session."""
    owner = member(sessions)
    planted = "planted-by-someone-else-0123456789"
    client.cookies.set("ch_session", planted)
    form = client.get("/portal/login")
    old_csrf = client.cookies.get("ch_csrf")
    assert old_csrf
    data = {"csrf_token": csrf_of(form.text), "email": owner.email, "password": PASSWORD}
    response = client.post("/portal/login", data=data)
    assert response.status_code == 303
    fresh = _set_cookie(response, "ch_session")
    assert fresh
    assert fresh != planted
    assert _set_cookie(response, "ch_csrf") in ("", '""')  # the old CSRF cookie is dropped
    assert client.get("/portal").status_code == 200
    client.cookies.clear()
    client.cookies.set("ch_session", planted)
    client.cookies.set("ch_csrf", old_csrf)
    refused = client.get("/portal")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/portal/login")


def test_the_login_throttle_answers_429_after_ten_tries_from_one_network(
    client, browser, monkeypatch
) -> None:
    """Ten tries a minute per network, whatever the addresses (each is tried once, so no
    address gets near its lockout). The throttle's clock is held still: the eleven tries take
    seconds, and a fixed window that ended among them would start the count again."""
    monkeypatch.setattr(client.app.state.login_throttle, "clock", lambda: 30.0)
    for n in range(10):
        assert browser.login(f"guess{n}@portal.test", "wrong password").status_code == 400
    refused = browser.login("guess10@portal.test", "wrong password")
    assert refused.status_code == 429
    assert _form_error(refused) == "Too many login attempts. Wait a minute and try again."


def test_five_wrong_passwords_lock_the_account_until_the_lock_ends(
    browser, sessions, monkeypatch
) -> None:
    owner = member(sessions)
    for _ in range(LOCK_AFTER - 1):
        assert browser.login(owner.email, "wrong password").status_code == 400
    locking = browser.login(owner.email, "wrong password")
    assert locking.status_code == 429
    assert _form_error(locking) == f"{LOCKED} Try again in 15 minutes."
    assert int(locking.headers["retry-after"]) in (899, 900)
    # Even the right password is refused while the lock lasts, with the same message.
    refused = browser.login(owner.email)
    assert refused.status_code == 429
    assert LOCKED in _form_error(refused)
    assert _set_cookie(refused, "ch_session") is None
    assert browser.get("/portal").status_code == 303
    # The lock ends by itself: the login clock moved past it, the right password works.
    later = utcnow() + LOCK_FOR + timedelta(seconds=1)
    monkeypatch.setattr(logins, "utcnow", lambda: later)
    assert browser.login(owner.email).status_code == 303
    assert browser.get("/portal").status_code == 200
    assert _lockout_of(sessions, owner.user_id) == (0, None)


def test_a_successful_login_resets_the_count(browser, sessions) -> None:
    owner = member(sessions)
    for _ in range(LOCK_AFTER - 2):
        assert browser.login(owner.email, "wrong password").status_code == 400
    assert browser.login(owner.email).status_code == 303
    assert _lockout_of(sessions, owner.user_id) == (0, None)
    for _ in range(LOCK_AFTER - 2):  # with the earlier ones, more than enough to lock
        assert browser.login(owner.email, "wrong password").status_code == 400
    assert browser.login(owner.email).status_code == 303


def test_the_lock_is_audited_and_shown_to_owners_and_admins(browser, sessions) -> None:
    owner = member(sessions)
    admin = member(sessions, org_id=owner.org_id, role="admin")
    victim = member(sessions, org_id=owner.org_id, role="operator")
    for _ in range(LOCK_AFTER):
        browser.login(victim.email, "wrong password")
    with sessions() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.lock"))
        assert (entry.org_id, entry.target, entry.user_id) == (
            owner.org_id,
            f"user:{victim.user_id}",
            None,  # nobody signed in did it; the entry keeps the network it came from
        )
        assert json.loads(entry.details or "{}")["email"] == victim.email
    browser.login(owner.email)
    audit = browser.get("/portal/audit").text
    assert "user.lock" in audit
    assert victim.email in audit
    assert "Locked until" in browser.get("/portal/members").text
    browser.login(admin.email)
    members_page = browser.get("/portal/members").text
    assert members_page.count("Locked until") == 1
    assert victim.email in members_page


def test_the_lock_message_does_not_tell_whether_an_address_has_an_account(
    settings, sessions
) -> None:
    """An address without an account is answered exactly as an account is, try after try,
    the lock included (each from its own app, so that neither spends the other's throttle)."""
    owner = member(sessions)
    answers = {}
    for email in (owner.email, "nobody@portal.test"):
        with portal_client(settings) as client:
            browser = Browser(client)
            tries = [browser.login(email, "wrong password") for _ in range(LOCK_AFTER)]
            tries.append(browser.login(email))
            answers[email] = [(r.status_code, _form_error(r)) for r in tries]
    assert answers[owner.email] == answers["nobody@portal.test"]
    assert answers[owner.email][0] == (400, WRONG)
    assert answers[owner.email][-1] == (429, f"{LOCKED} Try again in 15 minutes.")


def _lockout_of(sessions, user_id: int) -> tuple[int, object]:
    with sessions() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.failed_logins, user.locked_until
