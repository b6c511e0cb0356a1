"""Alert delivery end to end with real receivers: signed webhooks to a local HTTP server,
e-mail to a local SMTP server, retries with backoff, leases, and the SSRF guard."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.alerts.channels import add_channel
from chinhhang.alerts.delivery import (
    Outcome,
    backoff,
    claim_due,
    deliver_due,
    new_key,
    record_outcome,
)
from chinhhang.alerts.models import Alert, AlertChannel, AlertDelivery, DeliveryAttempt
from chinhhang.alerts.signing import sign, verify
from chinhhang.alerts.worker import AlertWorker
from chinhhang.catalog.services import create_product, save_batch
from chinhhang.config import Settings
from chinhhang.db import session_scope, utcnow
from chinhhang.errors import InvalidInput
from chinhhang.stamps.serials import grouped, serial_for
from tests.conftest import make_settings
from tests.factories import gtin, make_run
from tests.functional.alert_receivers import smtp_server, webhook_receiver
from tests.portal_helpers import table_counts


def allowing(settings: Settings, **extra: object) -> Settings:
    """The test's database, with webhooks to this machine allowed (the receivers are local)."""
    return make_settings(
        settings.data_dir, settings.database_url, allow_private_webhooks=True, **extra
    )


@dataclass
class Scene:
    org_id: int
    product_id: int
    alert_id: int


def make_scene(sessions: sessionmaker[Session], reason: str = "over_limit") -> Scene:
    """A manufacturer with a product, a batch and one alert on stamp 1, as the worker makes it."""
    with session_scope(sessions) as session:
        org = create_organization(session, name="Công ty Nước Mắm Phú Quốc", kind="manufacturer")
        actor = Actor.command_line(org.id)
        product = create_product(session, actor, name="Nước mắm 40 độ đạm", gtin=gtin())
        batch = save_batch(session, actor, product_id=product.id, lot="L2026")
        now = utcnow()
        alert = Alert(
            org_id=org.id,
            reason=reason,
            category="likely_copy",
            status="open",
            serial=serial_for(1),
            product_id=product.id,
            batch_id=batch.id,
            client_net="203.0.113.0/24",
            scan_count=2,
            first_at=now,
            last_at=now,
        )
        session.add(alert)
        session.flush()
        return Scene(org.id, product.id, alert.id)


def add(sessions, org_id: int, kind: str, target: str) -> AlertChannel:
    with session_scope(sessions) as session:
        channel = add_channel(
            session, Actor.command_line(org_id), kind=kind, target=target, allow_private=True
        )
        session.flush()
        session.expunge(channel)
        return channel


def queue(sessions, alert_id: int | None, channel_id: int, now: datetime) -> int:
    with session_scope(sessions) as session:
        row = AlertDelivery(
            alert_id=alert_id,
            channel_id=channel_id,
            idempotency_key=new_key(),
            event="alert.created",
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def delivery(sessions, delivery_id: int) -> AlertDelivery:
    with sessions() as session:
        row = session.get(AlertDelivery, delivery_id)
        assert row is not None
        session.expunge(row)
        return row


def attempts(sessions, delivery_id: int) -> list[DeliveryAttempt]:
    with sessions() as session:
        rows = list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.id)
            )
        )
        session.expunge_all()
        return rows


def test_an_alert_reaches_the_webhook_once_signed(settings, sessions) -> None:
    scene = make_scene(sessions)
    settings = allowing(settings)
    with webhook_receiver() as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        key_id = queue(sessions, scene.alert_id, channel.id, utcnow())
        assert deliver_due(sessions, settings) == 1
        assert deliver_due(sessions, settings) == 0  # delivered: never sent again
    (request,) = receiver.requests
    assert request.verified
    row = delivery(sessions, key_id)
    assert (row.status, row.attempts, row.locked_until) == ("delivered", 1, None)
    assert row.delivered_at is not None
    assert receiver.accepted == {row.idempotency_key: 1}
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "ChinhHang-Webhook/1"
    assert headers["idempotency-key"] == row.idempotency_key
    assert headers["x-chinhhang-event"] == "alert.created"
    assert headers["x-chinhhang-delivery"] == str(key_id)
    body = json.loads(request.body)
    assert (body["id"], body["event"]) == (row.idempotency_key, "alert.created")
    alert = body["alert"]
    assert alert["id"] == scene.alert_id
    assert (alert["reason"], alert["serial"], alert["scan_count"]) == (
        "over_limit",
        serial_for(1),
        2,
    )
    assert alert["product"]["name"] == "Nước mắm 40 độ đạm"
    assert alert["batch"] == {"lot": "L2026"}
    assert alert["organization"] == {"id": scene.org_id, "name": "Công ty Nước Mắm Phú Quốc"}
    assert alert["custodian"] is None
    assert alert["client_net"] is None  # a network prefix only describes guessing
    assert alert["url"] == f"http://testserver/portal/alerts/{scene.alert_id}"
    assert "Nước mắm".encode() in request.body  # UTF-8, not \u escapes
    assert b": " not in request.body  # compact
    (attempt,) = attempts(sessions, key_id)
    assert (attempt.ok, attempt.status_code, attempt.error) == (True, 200, None)


def test_a_tampered_or_replayed_request_fails_verification(settings, sessions) -> None:
    scene = make_scene(sessions)
    with webhook_receiver() as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        queue(sessions, scene.alert_id, channel.id, utcnow())
        deliver_due(sessions, allowing(settings))
    (request,) = receiver.requests
    header = request.headers["x-chinhhang-signature"]
    now = utcnow()
    assert verify(receiver.secret, header, request.body, now)
    tampered = request.body.replace(b'"scan_count":2', b'"scan_count":1')
    assert tampered != request.body
    assert not verify(receiver.secret, header, tampered, now)
    assert not verify(receiver.secret, header, request.body, now + timedelta(minutes=6))
    old = sign(receiver.secret, request.body, now - timedelta(minutes=10))
    assert not verify(receiver.secret, old, request.body, now)


def test_a_failed_attempt_is_retried_with_backoff_then_delivered(settings, sessions) -> None:
    scene = make_scene(sessions)
    start = utcnow()
    with webhook_receiver(answers=[500]) as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        delivery_id = queue(sessions, scene.alert_id, channel.id, start)
        settings = allowing(settings)
        assert deliver_due(sessions, settings, now=start) == 1
        first = delivery(sessions, delivery_id)
        assert (first.status, first.attempts, first.locked_until) == ("pending", 1, None)
        assert first.last_error == "HTTP 500: ok"
        wait = first.next_attempt_at - start
        assert timedelta(seconds=30) <= wait <= timedelta(seconds=33)  # 30 s plus ≤ 10 %
        assert deliver_due(sessions, settings, now=start + timedelta(seconds=20)) == 0
        assert deliver_due(sessions, settings, now=start + timedelta(seconds=34)) == 1
    done = delivery(sessions, delivery_id)
    assert (done.status, done.attempts, done.last_error) == ("delivered", 2, None)
    log = attempts(sessions, delivery_id)
    assert [(a.ok, a.status_code) for a in log] == [(False, 500), (True, 200)]
    assert [r.status for r in receiver.requests] == [500, 200]
    keys = {r.headers["idempotency-key"] for r in receiver.requests}
    assert keys == {done.idempotency_key}  # the retry carries the same key
    assert receiver.accepted == {done.idempotency_key: 1}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failed_attempt_and_never_followed(settings, sessions, status) -> None:
    """A receiver that answers with a redirect (to an address the guard would refuse, say)
    does not get the request sent on: the attempt fails and the target sees nothing."""
    scene = make_scene(sessions)
    with webhook_receiver() as target, webhook_receiver(answers=[status]) as bouncer:
        bouncer.location = target.url
        channel = add(sessions, scene.org_id, "webhook", bouncer.url)
        bouncer.secret = channel.secret or ""
        delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
        assert deliver_due(sessions, allowing(settings)) == 1
    assert [r.status for r in bouncer.requests] == [status]
    assert target.requests == []
    row = delivery(sessions, delivery_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert row.last_error.startswith(f"HTTP {status}")


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [backoff(n, jitter=0).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert backoff(20, jitter=0) == timedelta(hours=1)
    assert backoff(1, jitter=1).total_seconds() == pytest.approx(33)
    assert timedelta(seconds=30) <= backoff(1) <= timedelta(seconds=33)


def test_after_the_last_attempt_a_delivery_fails_for_good(settings, sessions) -> None:
    scene = make_scene(sessions)
    now = utcnow()
    with webhook_receiver(answers=[503, 503, 503]) as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        delivery_id = queue(sessions, scene.alert_id, channel.id, now)
        settings = allowing(settings, alert_max_attempts=2)
        deliver_due(sessions, settings, now=now)
        deliver_due(sessions, settings, now=now + timedelta(hours=2))
        assert deliver_due(sessions, settings, now=now + timedelta(hours=4)) == 0
    row = delivery(sessions, delivery_id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.last_error is not None
    assert row.last_error.startswith("HTTP 503")
    assert len(receiver.requests) == 2


def test_an_unreachable_webhook_is_a_failed_attempt(settings, sessions) -> None:
    scene = make_scene(sessions)
    with webhook_receiver() as receiver:
        url = receiver.url
    channel = add(sessions, scene.org_id, "webhook", url)  # the server is gone now
    delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
    deliver_due(sessions, allowing(settings))
    row = delivery(sessions, delivery_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert "ConnectError" in row.last_error
    (attempt,) = attempts(sessions, delivery_id)
    assert (attempt.ok, attempt.status_code) == (False, None)


def test_an_alert_e_mail_in_both_languages(settings, sessions) -> None:
    scene = make_scene(sessions)
    channel = add(sessions, scene.org_id, "email", "Canh.Bao@NuocMam.example.vn")
    delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
    with smtp_server() as mailbox:
        url = f"smtp://127.0.0.1:{mailbox.port}?from=alerts@chinhhang.example.vn"
        assert deliver_due(sessions, allowing(settings, smtp_url=url)) == 1
    row = delivery(sessions, delivery_id)
    assert (row.status, row.attempts) == ("delivered", 1)
    (message,) = mailbox.messages
    assert mailbox.recipients == [["canh.bao@nuocmam.example.vn"]]
    serial = grouped(serial_for(1))
    assert message["Subject"] == (
        f"[Chính Hãng] Cảnh báo: Tem bị quét vượt số lần cho phép — {serial} / "
        f"Alert: Stamp scanned beyond its limit — {serial}"
    )
    assert message["From"] == "alerts@chinhhang.example.vn"
    assert message["Message-ID"] == f"<{row.idempotency_key}@chinhhang>"
    assert message["X-ChinhHang-Idempotency-Key"] == row.idempotency_key
    text = message.get_content()
    assert text.index("Lý do") < text.index("Reason")  # Vietnamese first
    for fact in (serial, "Nước mắm 40 độ đạm", "L2026", "Công ty Nước Mắm Phú Quốc"):
        assert text.count(fact) == 2  # once in each language
    assert f"http://testserver/portal/alerts/{scene.alert_id}" in text


def test_without_smtp_an_e_mail_fails_clearly_and_waits(settings, sessions) -> None:
    scene = make_scene(sessions)
    channel = add(sessions, scene.org_id, "email", "canhbao@example.vn")
    delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
    deliver_due(sessions, allowing(settings))
    row = delivery(sessions, delivery_id)
    assert row.status == "pending"  # retried later, like any failure
    assert row.last_error is not None
    assert "e-mail is not configured: set CHINHHANG_SMTP_URL" in row.last_error


def test_a_leased_delivery_is_not_taken_twice_until_the_lease_runs_out(settings, sessions) -> None:
    scene = make_scene(sessions)
    channel = add(sessions, scene.org_id, "email", "canhbao@example.vn")
    now = utcnow()
    delivery_id = queue(sessions, scene.alert_id, channel.id, now)
    settings = allowing(settings, alert_lease_seconds=60)
    (first,) = claim_due(sessions, settings, now)
    assert claim_due(sessions, settings, now + timedelta(seconds=59)) == []
    (again,) = claim_due(sessions, settings, now + timedelta(seconds=61))  # the first one died
    assert again.envelope == first.envelope  # same delivery, same idempotency key
    # The first worker, back from a slow send, records its attempt but decides nothing.
    outcome = Outcome(True, 200, None, 5)
    with session_scope(sessions) as session:
        record_outcome(session, 8, first, outcome, now + timedelta(seconds=70))
    assert delivery(sessions, delivery_id).status == "pending"
    with session_scope(sessions) as session:
        record_outcome(session, 8, again, outcome, now + timedelta(seconds=71))
    row = delivery(sessions, delivery_id)
    assert (row.status, row.attempts, row.locked_until) == ("delivered", 1, None)
    assert len(attempts(sessions, delivery_id)) == 2


def test_a_loopback_webhook_is_refused_and_nothing_stored(sessions) -> None:
    scene = make_scene(sessions)
    before = table_counts(sessions)
    for url in ("https://127.0.0.1:8080/h", "https://localhost/h", "https://169.254.169.254/x"):
        with session_scope(sessions) as session, pytest.raises(InvalidInput) as refused:
            add_channel(session, Actor.command_line(scene.org_id), kind="webhook", target=url)
        assert "private, loopback or reserved" in str(refused.value)
    assert table_counts(sessions) == before


def test_the_guard_runs_again_at_send_time(settings, sessions) -> None:
    """A channel added while allowed (or whose name later resolves privately) is not called."""
    scene = make_scene(sessions)
    with webhook_receiver() as receiver:
        https = receiver.url.replace("http://", "https://", 1)  # refused for the address alone
        channel = add(sessions, scene.org_id, "webhook", https)
        delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
        deliver_due(sessions, settings)  # the fixture's settings: private addresses refused
    assert receiver.requests == []
    row = delivery(sessions, delivery_id)
    assert row.last_error is not None
    assert "private, loopback or reserved" in row.last_error


def test_a_channel_stored_as_http_is_refused_at_send_time_not_sent(
    settings, sessions, caplog
) -> None:
    """Stored while plain http was allowed (or before https was required): every attempt fails
    with the reason in the delivery log and the server's log, and nothing reaches it."""
    scene = make_scene(sessions)
    with webhook_receiver() as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        delivery_id = queue(sessions, scene.alert_id, channel.id, utcnow())
        with caplog.at_level("WARNING", logger="chinhhang.alerts"):
            assert deliver_due(sessions, settings) == 1  # production settings: https only
    assert receiver.requests == []
    row = delivery(sessions, delivery_id)
    assert row.status == "pending"  # retried later, like any refused attempt
    assert row.last_error is not None
    assert "must start with https://" in row.last_error
    (attempt,) = attempts(sessions, delivery_id)
    assert (attempt.ok, attempt.status_code) == (False, None)
    assert f"delivery {delivery_id} refused: A webhook's address must start with https://" in (
        caplog.text
    )


def test_a_suspicious_scan_reaches_webhook_and_e_mail(client, settings, engine, sessions) -> None:
    """Scan → outbox → alert → one delivery per channel, sent by the worker's pass."""
    run = make_run(settings, engine, sessions, scan_limit=1)
    with webhook_receiver() as receiver, smtp_server() as mailbox:
        hook = add(sessions, run.org_id, "webhook", receiver.url)
        receiver.secret = hook.secret or ""
        add(sessions, run.org_id, "email", "canhbao@example.vn")
        for _ in range(3):
            client.cookies.clear()
            client.get(f"/v/{run.codes[0]}", headers={"Accept": "application/json"})
        smtp = f"smtp://127.0.0.1:{mailbox.port}"
        worker = AlertWorker(sessions, allowing(settings, smtp_url=smtp))
        assert worker.run_once() == (2, 2)  # two suspicious scans, one alert, two channels
        assert worker.run_once() == (0, 0)
    (request,) = receiver.requests
    assert request.verified
    alert = json.loads(request.body)["alert"]
    assert (alert["reason"], alert["serial"], alert["scan_count"]) == (
        "over_limit",
        serial_for(1),
        2,
    )
    assert len(mailbox.messages) == 1
    with sessions() as session:
        statuses = session.scalars(select(AlertDelivery.status)).all()
        assert statuses == ["delivered", "delivered"]
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 2


def test_workers_side_by_side_never_send_a_delivery_twice(settings, sessions) -> None:
    scene = make_scene(sessions)
    settings = allowing(settings)
    with webhook_receiver() as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        ids = [queue(sessions, scene.alert_id, channel.id, utcnow()) for _ in range(12)]

        def work() -> int:
            sent = 0
            while batch := deliver_due(sessions, settings, limit=3):
                sent += batch
            return sent

        with ThreadPoolExecutor(3) as pool:
            totals = list(pool.map(lambda _: work(), range(3)))
    assert sum(totals) == 12
    assert len(receiver.requests) == 12
    assert set(receiver.seen.values()) == {1}
    assert all(delivery(sessions, i).status == "delivered" for i in ids)
