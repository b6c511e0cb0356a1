"""The alert channels page: managers add webhooks and e-mail, see the secret, send a test,
read the delivery log; nobody else sees it, and no organization sees another's channels."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from chinhhang.accounts.models import AuditEntry
from chinhhang.alerts.models import AlertChannel, AlertDelivery, DeliveryAttempt
from chinhhang.db import utcnow
from tests.functional.alert_receivers import webhook_receiver
from tests.functional.test_alert_delivery import allowing, make_scene, queue
from tests.portal_helpers import Browser, member, portal_client, table_counts

PAGE = "/portal/alerts/channels"


def channels(sessions, org_id: int) -> list[AlertChannel]:
    with sessions() as session:
        rows = list(
            session.scalars(
                select(AlertChannel).where(AlertChannel.org_id == org_id).order_by(AlertChannel.id)
            )
        )
        session.expunge_all()
        return rows


def audit_actions(sessions, org_id: int) -> list[str]:
    with sessions() as session:
        query = select(AuditEntry.action).where(AuditEntry.org_id == org_id)
        return [a for a in session.scalars(query.order_by(AuditEntry.id)) if "channel" in a]


def test_a_manager_adds_a_webhook_sees_its_secret_and_tests_it(settings, sessions) -> None:
    owner = member(sessions)
    with webhook_receiver() as receiver, portal_client(allowing(settings)) as client:
        browser = Browser(client)
        browser.login(owner.email)
        assert "No channels yet" in browser.get(PAGE).text
        added = browser.post(PAGE, {"kind": "webhook", "target": receiver.url})
        assert added.status_code == 303
        assert added.headers["location"] == f"{PAGE}?note=created"
        (channel,) = channels(sessions, owner.org_id)
        assert channel.secret is not None
        assert channel.secret.startswith("whsec_")
        receiver.secret = channel.secret
        page = browser.get(PAGE).text
        assert channel.secret in page
        assert receiver.url in page
        sent = browser.post(f"{PAGE}/{channel.id}/test")
        # Post/Redirect/Get: the answer is shown by a page a reload does not send again.
        assert sent.status_code == 303
        assert sent.headers["location"].startswith(f"{PAGE}?tested=")
        tested = browser.get(sent.headers["location"])
        assert tested.status_code == 200
        assert browser.get(sent.headers["location"]).text.count("Delivered to") == 1
    assert "Delivered to" in tested.text
    assert "HTTP 200" in tested.text
    (request,) = receiver.requests  # one test message, however often the page is reloaded
    assert request.verified
    body = json.loads(request.body)
    assert (body["event"], body["alert"]) == ("test", None)
    assert request.headers["x-chinhhang-event"] == "test"
    with sessions() as session:
        (row,) = session.scalars(select(AlertDelivery))
        assert (row.event, row.status, row.attempts, row.locked_until) == (
            "test",
            "delivered",
            1,
            None,
        )
        assert body["id"] == row.idempotency_key
    log = tested.text[tested.text.index("Delivery log") :]
    assert "Test" in log
    assert "Delivered" in log
    assert audit_actions(sessions, owner.org_id) == ["alert_channel.add", "alert_channel.test"]


def test_a_failed_test_says_why_and_is_not_retried(settings, sessions) -> None:
    owner = member(sessions, kind="regulator", role="admin")  # regulators have channels too
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(owner.email)
        browser.post(PAGE, {"kind": "email", "target": "canhbao@qltt.example.vn"})
        (channel,) = channels(sessions, owner.org_id)
        assert channel.secret is None
        sent = browser.post(f"{PAGE}/{channel.id}/test")
        assert sent.status_code == 303
        tested = browser.get(sent.headers["location"])
    assert tested.status_code == 200
    assert "Not delivered to" in tested.text
    assert "e-mail is not configured: set CHINHHANG_SMTP_URL" in html.unescape(tested.text)
    with sessions() as session:
        (row,) = session.scalars(select(AlertDelivery))
        assert (row.status, row.attempts) == ("failed", 1)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_speaks_both_languages(settings, sessions, lang: str) -> None:
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(member(sessions).email)
        page = browser.get(f"{PAGE}?lang={lang}").text
    assert ("Kênh cảnh báo" if lang == "vi" else "Alert channels") in page


BAD = [
    ("webhook", "ftp://hooks.example.vn/h", "starts with https://"),
    ("webhook", "", "Enter the webhook"),
    ("webhook", "https://user:pw@hooks.example.vn/h", "no user name or password"),
    ("webhook", "https://hooks.example.vn/" + "a" * 600, "too long"),
    ("webhook", "https://127.0.0.1:9/h", "private, loopback or reserved"),
    ("webhook", "https://[::1]/h", "private, loopback or reserved"),
    ("webhook", "http://hooks.example.vn/h", "must start with https://"),
    ("email", "not-an-address", "not a valid e-mail address"),
    ("email", "a@b.vn\r\nBcc: x@y.vn", "not a valid e-mail address"),
    ("sms", "0912345678", "Choose a webhook or an e-mail address"),
]


def test_bad_channels_are_refused_clearly_and_nothing_is_stored(settings, sessions) -> None:
    owner = member(sessions)
    with portal_client(settings) as client:  # private webhooks refused, as in production
        browser = Browser(client)
        browser.login(owner.email)
        before = table_counts(sessions)
        for kind, target, message in BAD:
            refused = browser.post(PAGE, {"kind": kind, "target": target})
            assert refused.status_code == 400, (kind, target)
            assert message in html.unescape(refused.text), (kind, target)
            assert 'class="form-error"' in refused.text
        assert table_counts(sessions) == before


def test_plain_http_is_accepted_only_with_the_development_setting(settings, sessions) -> None:
    owner = member(sessions)
    form = {"kind": "webhook", "target": "http://hooks.example.vn/h"}
    with portal_client(settings) as client:  # production: https only
        browser = Browser(client)
        browser.login(owner.email)
        refused = browser.post(PAGE, form)
    assert refused.status_code == 400
    assert "must start with https://" in html.unescape(refused.text)
    assert channels(sessions, owner.org_id) == []
    with portal_client(allowing(settings)) as client:  # CHINHHANG_ALLOW_PRIVATE_WEBHOOKS=1
        browser = Browser(client)
        browser.login(owner.email)
        assert browser.post(PAGE, form).status_code == 303
    assert [c.target for c in channels(sessions, owner.org_id)] == [form["target"]]


def test_a_channel_twice_is_a_conflict(settings, sessions) -> None:
    owner = member(sessions)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(owner.email)
        browser.post(PAGE, {"kind": "email", "target": "canhbao@example.vn"})
        before = table_counts(sessions)
        again = browser.post(PAGE, {"kind": "email", "target": " CanhBao@Example.vn "})
    assert again.status_code == 409
    assert "exists already" in again.text
    assert table_counts(sessions) == before


@pytest.mark.parametrize(
    ("kind", "role"),
    [("manufacturer", "operator"), ("manufacturer", "viewer"), ("distributor", "owner")],
)
def test_only_managers_of_makers_and_regulators_may_see_the_page(
    settings, sessions, kind: str, role: str
) -> None:
    person = member(sessions, kind=kind, role=role)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(person.email)
        assert browser.get(PAGE).status_code == 403
        before = table_counts(sessions)
        refused = browser.post(PAGE, {"kind": "email", "target": "canhbao@example.vn"})
        assert refused.status_code == 403
        assert table_counts(sessions) == before


def test_a_test_result_page_shows_only_the_organizations_own_tests(settings, sessions) -> None:
    scene = make_scene(sessions)
    owner = member(sessions, org_id=scene.org_id)
    other = member(sessions)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(owner.email)
        browser.post(PAGE, {"kind": "email", "target": "canhbao@example.vn"})
        (channel,) = channels(sessions, scene.org_id)
        test_page = browser.post(f"{PAGE}/{channel.id}/test").headers["location"]
        alert_delivery = queue(sessions, scene.alert_id, channel.id, utcnow())
        before = table_counts(sessions)
        assert "Not delivered to" in browser.get(test_page).text
        not_a_test = browser.get(f"{PAGE}?tested={alert_delivery}")
        assert not_a_test.status_code == 404
        assert "No such test message" in not_a_test.text
        for bad in ("abc", "0", "-1", str(2**63)):
            assert browser.get(f"{PAGE}?tested={bad}").status_code == 400, bad
        browser.login(other.email)
        theirs = browser.get(test_page)
        assert theirs.status_code == 404
        assert "canhbao@example.vn" not in theirs.text
        assert table_counts(sessions) == before


def test_another_organizations_channel_is_invisible(settings, sessions) -> None:
    scene = make_scene(sessions)
    other = member(sessions)
    with sessions.begin() as session:
        theirs = AlertChannel(
            org_id=scene.org_id, kind="email", target="bimat@nuocmam.example.vn", active=True
        )
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    queue(sessions, scene.alert_id, theirs_id, utcnow())
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(other.email)
        page = browser.get(PAGE).text
        assert "bimat@nuocmam.example.vn" not in page
        before = table_counts(sessions)
        for action in ("test", "deactivate", "activate", "delete"):
            assert browser.post(f"{PAGE}/{theirs_id}/{action}").status_code == 404, action
        assert table_counts(sessions) == before


def test_deactivating_stops_pending_deliveries_and_deleting_removes_the_log(
    settings, sessions
) -> None:
    scene = make_scene(sessions)
    owner = member(sessions, org_id=scene.org_id)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(owner.email)
        browser.post(PAGE, {"kind": "email", "target": "canhbao@example.vn"})
        (channel,) = channels(sessions, scene.org_id)
        pending = queue(sessions, scene.alert_id, channel.id, utcnow())
        _failed_once(sessions, pending, "connection refused")  # waiting for its retry
        assert browser.post(f"{PAGE}/{channel.id}/deactivate").status_code == 303
        assert channels(sessions, scene.org_id)[0].active is False
        with sessions() as session:
            row = session.get(AlertDelivery, pending)
            assert row is not None
            assert (row.status, row.last_error) == ("failed", "the channel was deactivated")
        page = browser.get(PAGE).text
        assert "Deactivated" in page
        # The log's last answer is why it failed, not the earlier attempt's error.
        last_answer = page[page.index("Delivery log") :]
        assert "the channel was deactivated" in last_answer
        assert "connection refused" in last_answer  # still listed among the attempts
        assert last_answer.index("the channel was deactivated") < last_answer.index("All attempts")
        assert browser.post(f"{PAGE}/{channel.id}/activate").status_code == 303
        assert channels(sessions, scene.org_id)[0].active is True
        browser.post(f"{PAGE}/{channel.id}/test")
        assert browser.post(f"{PAGE}/{channel.id}/delete").status_code == 303
    assert channels(sessions, scene.org_id) == []
    with sessions() as session:
        assert session.scalars(select(AlertDelivery)).all() == []
        assert session.scalars(select(DeliveryAttempt)).all() == []
    assert audit_actions(sessions, scene.org_id) == [
        "alert_channel.add",
        "alert_channel.deactivate",
        "alert_channel.activate",
        "alert_channel.test",
        "alert_channel.delete",
    ]


def _failed_once(sessions, delivery_id: int, error: str) -> None:
    """The delivery's first attempt failed; it waits for the next."""
    with sessions.begin() as session:
        row = session.get(AlertDelivery, delivery_id)
        row.attempts, row.last_error = 1, error
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id, at=utcnow(), ok=False, error=error, duration_ms=5
            )
        )


def test_the_log_filters_by_status(settings, sessions) -> None:
    scene = make_scene(sessions)
    owner = member(sessions, org_id=scene.org_id)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(owner.email)
        browser.post(PAGE, {"kind": "email", "target": "canhbao@example.vn"})
        (channel,) = channels(sessions, scene.org_id)
        browser.post(f"{PAGE}/{channel.id}/test")  # fails: no SMTP
        queue(sessions, scene.alert_id, channel.id, utcnow())  # pending
        failed = browser.get(f"{PAGE}?status=failed").text
        pending = browser.get(f"{PAGE}?status=pending").text
        everything = browser.get(PAGE).text
        unknown = browser.get(f"{PAGE}?status=lost")
    alert_link = f"/portal/alerts/{scene.alert_id}"
    assert alert_link not in failed
    assert ">Test<" in failed
    assert alert_link in pending
    assert ">Test<" not in pending
    assert alert_link in everything
    assert ">Test<" in everything
    assert unknown.status_code == 400
    assert "Unknown delivery status" in unknown.text
    assert len(re.findall(r"<tr>", everything)) >= 3
