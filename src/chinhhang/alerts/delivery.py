"""Sending deliveries: claim with a lease, send outside any transaction, record the outcome.

Three steps, each its own transaction but the middle one, which has none:
1. `claim_due` takes due rows (pending, `next_attempt_at` reached, no live lease) and sets
   `locked_until` = now + CHINHHANG_ALERT_LEASE_SECONDS, then commits. On PostgreSQL the
   SELECT skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); on SQLite the claim's
   BEGIN IMMEDIATE lets one process claim at a time. Either way no two workers hold a row.
2. `send` posts the webhook or hands the e-mail to the SMTP server: no database connection is
   held while a slow receiver makes us wait.
3. `record_outcome` writes the attempt and marks the row delivered, schedules its retry, or
   gives up after CHINHHANG_ALERT_MAX_ATTEMPTS, clearing the lease.
A worker killed between 2 and 3 leaves a leased row behind; when the lease runs out another
worker sends it again with the same idempotency key, and the receiver drops the repeat. The
lease is also a fencing token: a worker that outlived its lease records its attempt but no
longer decides the row's state, which belongs to whoever holds the lease now.
"""

from __future__ import annotations

import logging
import random
import secrets
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.alerts.mail import SmtpUrlError, parse_smtp_url, send_mail
from chinhhang.alerts.models import Alert, AlertChannel, AlertDelivery, DeliveryAttempt
from chinhhang.alerts.payload import TEST_EVENT, Envelope, alert_document, alert_email, webhook_body
from chinhhang.alerts.signing import sign
from chinhhang.alerts.webhook import TIMEOUT, Refused, post
from chinhhang.config import Settings
from chinhhang.db import any_row, session_scope, utcnow
from chinhhang.i18n import translator
from chinhhang.observability.metrics import count_delivery

log = logging.getLogger("chinhhang.alerts")
BASE_DELAY = 30.0
MAX_DELAY = 3600.0
JITTER = 0.1
ERROR_LIMIT = 500
CLAIM_BATCH = 16
PARALLEL_SENDS = 8
NO_SMTP = "e-mail is not configured: set CHINHHANG_SMTP_URL"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery, ready to send: everything step 2 needs, no database rows."""

    envelope: Envelope
    kind: str
    target: str
    secret: str | None
    alert: dict[str, object] | None
    lease: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def backoff(attempts: int, jitter: float | None = None) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s doubling each time, at most an hour,
    plus up to 10 % at random so that deliveries failed together do not retry together."""
    base = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    spread = random.random() if jitter is None else jitter
    return timedelta(seconds=base * (1 + JITTER * spread))


def new_key() -> str:
    return secrets.token_hex(16)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _due(now: datetime, limit: int) -> Select[AlertDelivery]:
    return (
        select(AlertDelivery)
        .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
        .where(
            AlertDelivery.status == "pending",
            AlertDelivery.next_attempt_at <= now,
            or_(AlertDelivery.locked_until.is_(None), AlertDelivery.locked_until < now),
            AlertChannel.active.is_(True),
        )
        .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(limit)
    )


def claim_due(
    sessions: sessionmaker[Session], settings: Settings, now: datetime, limit: int = CLAIM_BATCH
) -> list[Outgoing]:
    """Lease up to `limit` due deliveries to this worker (committed before returning)."""
    if not _anything_due(sessions, now):
        return []
    lease = now + timedelta(seconds=settings.alert_lease_seconds)
    with session_scope(sessions) as session:
        query = _due(now, limit)
        if _is_postgres(session):
            query = query.with_for_update(skip_locked=True, of=AlertDelivery)
        claimed = []
        for row in session.scalars(query).all():
            row.locked_until = lease
            try:
                with session.begin_nested():
                    claimed.append(outgoing_of(session, row, settings.base_url, lease))
            except Exception as error:  # one broken row must not stop the others
                log.exception("delivery %s cannot be prepared", row.id)
                _give_up(row, f"cannot be prepared: {error}"[:ERROR_LIMIT])
        return claimed


def _anything_due(sessions: sessionmaker[Session], now: datetime) -> bool:
    return any_row(sessions, _due(now, 1).with_only_columns(AlertDelivery.id))


def _give_up(row: AlertDelivery, error: str) -> None:
    row.status, row.last_error, row.locked_until = "failed", error, None


def outgoing_of(
    session: Session, row: AlertDelivery, base_url: str, lease: datetime | None
) -> Outgoing:
    channel = session.get(AlertChannel, row.channel_id)
    if channel is None:
        raise LookupError(f"channel {row.channel_id} is gone")
    alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
    envelope = Envelope(row.id, row.idempotency_key, row.event, row.created_at)
    document = alert_document(session, alert, base_url) if alert is not None else None
    return Outgoing(envelope, channel.kind, channel.target, channel.secret, document, lease)


def send(outgoing: Outgoing, settings: Settings, timeout: float = TIMEOUT) -> Outcome:
    """One attempt; never raises: every failure becomes the outcome's error."""
    started = time.monotonic()
    try:
        if outgoing.kind == "webhook":
            return _post(outgoing, settings, timeout)
        _mail(outgoing, settings, timeout)
        return Outcome(True, None, None, _ms(started))
    except Refused as error:  # not sent: an http:// or private address, an unknown host
        message = translator("en")(error.message, **error.values)
        log.warning("delivery %s refused: %s", outgoing.envelope.delivery_id, message)
        return Outcome(False, None, message, _ms(started))
    except SmtpUrlError as error:  # our own sentence, saying what to set
        return Outcome(False, None, str(error)[:ERROR_LIMIT], _ms(started))
    except (httpx.HTTPError, OSError, smtplib.SMTPException) as error:
        return Outcome(False, None, _describe(error), _ms(started))
    except Exception as error:  # a bug must cost one attempt, not the worker
        log.exception("delivery %s failed unexpectedly", outgoing.envelope.delivery_id)
        return Outcome(False, None, _describe(error), _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:ERROR_LIMIT]


def _post(outgoing: Outgoing, settings: Settings, timeout: float) -> Outcome:
    envelope = outgoing.envelope
    body = webhook_body(envelope, outgoing.alert)
    headers = {
        "Idempotency-Key": envelope.idempotency_key,
        "X-ChinhHang-Event": envelope.event,
        "X-ChinhHang-Delivery": str(envelope.delivery_id),
        "X-ChinhHang-Signature": sign(outgoing.secret or "", body, utcnow()),
    }
    answer = post(
        outgoing.target,
        body,
        headers,
        allow_private=settings.allow_private_webhooks,
        timeout=timeout,
    )
    if 200 <= answer.status_code < 300:
        return Outcome(True, answer.status_code, None, answer.duration_ms)
    error = f"HTTP {answer.status_code}" + (f": {answer.snippet}" if answer.snippet else "")
    return Outcome(False, answer.status_code, error[:ERROR_LIMIT], answer.duration_ms)


def _mail(outgoing: Outgoing, settings: Settings, timeout: float) -> None:
    if not settings.smtp_url:
        raise SmtpUrlError(NO_SMTP)
    host = urlsplit(settings.base_url).hostname or "localhost"
    config = parse_smtp_url(settings.smtp_url, default_sender=f"alerts@{host}")
    message = alert_email(outgoing.envelope, outgoing.alert, outgoing.target)
    send_mail(config, message, timeout=max(timeout, 10.0))


def record_outcome(
    session: Session, max_attempts: int, outgoing: Outgoing, outcome: Outcome, now: datetime
) -> AlertDelivery | None:
    """Write the attempt; if this worker still holds the lease, settle the row. Flushes."""
    query = (
        select(AlertDelivery)
        .where(AlertDelivery.id == outgoing.envelope.delivery_id)
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        return None
    session.add(
        DeliveryAttempt(
            delivery_id=row.id,
            at=now,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error[:ERROR_LIMIT] if outcome.error else None,
            duration_ms=outcome.duration_ms,
        )
    )
    if row.status != "pending" or row.locked_until != outgoing.lease:
        log.warning("delivery %s: lease lost before the outcome was recorded", row.id)
        session.flush()
        return row
    _settle(row, max_attempts, outcome, now)
    session.flush()  # the caller's page shows the row as stored
    return row


def _settle(row: AlertDelivery, max_attempts: int, outcome: Outcome, now: datetime) -> None:
    row.attempts += 1
    row.locked_until = None
    if outcome.ok:
        row.status, row.delivered_at, row.last_error = "delivered", now, None
        return
    row.last_error = outcome.error[:ERROR_LIMIT] if outcome.error else "failed"
    # A test is one attempt, its answer shown at once; an alert is retried with backoff.
    if row.event == TEST_EVENT or row.attempts >= max_attempts:
        row.status = "failed"
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def deliver_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    limit: int = CLAIM_BATCH,
) -> int:
    """Claim, send (several at once) and record one batch; how many were attempted.

    `now` fixes the clock for claiming and recording (tests); by default it is read at each step.
    """
    claimed = claim_due(sessions, settings, now or utcnow(), limit)
    if not claimed:
        return 0

    def one(outgoing: Outgoing) -> None:
        outcome = send(outgoing, settings)
        count_delivery(outgoing.kind, outcome.ok)
        try:
            with session_scope(sessions) as session:
                record_outcome(
                    session, settings.alert_max_attempts, outgoing, outcome, now or utcnow()
                )
        except Exception:  # the lease runs out and the delivery is sent again, same key
            log.exception("delivery %s: outcome not recorded", outgoing.envelope.delivery_id)

    with ThreadPoolExecutor(min(PARALLEL_SENDS, len(claimed)), "alert-send") as pool:
        list(pool.map(one, claimed))
    return len(claimed)
