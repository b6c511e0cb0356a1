"""An organization's alert channels (webhooks, e-mail), their test messages and delivery log.

Everything here needs `manage_alert_channels` (managers of manufacturers and regulators): the
page shows webhook secrets. Another organization's channel is NotFound, as elsewhere. Every
change is written to the audit log in its own transaction; secrets never are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import record, require
from chinhhang.accounts.services.users import normalise_email
from chinhhang.alerts.delivery import Outcome, Outgoing, new_key, outgoing_of, record_outcome
from chinhhang.alerts.models import (
    CHANNEL_KINDS,
    DELIVERY_STATUSES,
    AlertChannel,
    AlertDelivery,
    DeliveryAttempt,
)
from chinhhang.alerts.payload import TEST_EVENT
from chinhhang.alerts.signing import new_secret
from chinhhang.alerts.webhook import check_url, destination
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_

MAX_CHANNELS = 20
LOG_LIMIT = 100
# Longer than the slowest send (SMTP allows 10 s a step): a worker must not take the test
# delivery over while the request is still sending it.
TEST_LEASE_SECONDS = 120
# Stored as the failed deliveries' last error (English, like the receivers' own errors); the
# delivery log shows it translated.
DEACTIVATED = N_("the channel was deactivated")


@dataclass(slots=True)
class LogEntry:
    """A delivery with its channel and every attempt, oldest attempt first."""

    delivery: AlertDelivery
    channel: AlertChannel
    attempts: list[DeliveryAttempt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SentTest:
    """A test message as the page shows it after the test (Post/Redirect/Get): where it went
    and its attempt (None while it is still on its way)."""

    target: str
    attempt: DeliveryAttempt | None


def list_channels(session: Session, actor: Actor) -> Sequence[AlertChannel]:
    org = require(session, actor, "manage_alert_channels")
    query = select(AlertChannel).where(AlertChannel.org_id == org.id)
    return session.scalars(query.order_by(AlertChannel.id)).all()


def add_channel(
    session: Session, actor: Actor, *, kind: str, target: str, allow_private: bool = False
) -> AlertChannel:
    """A new active channel; a webhook gets its signing secret. Raises InvalidInput for a bad
    kind or address (a webhook that is not https://, or whose host is private or cannot be
    found, included: see alerts/webhook.py; `allow_private` lifts those rules), Conflict
    for a channel the organization has already or when it has MAX_CHANNELS."""
    org = require(session, actor, "manage_alert_channels")
    target = _checked_target(kind, target, allow_private)
    _refuse_duplicate(session, org, kind, target)
    channel = AlertChannel(
        org_id=org.id,
        kind=kind,
        target=target,
        secret=new_secret() if kind == "webhook" else None,
        active=True,
    )
    session.add(channel)
    session.flush()  # the audit entry names the new id
    record(session, actor, "alert_channel.add", f"alert_channel:{channel.id}", kind=kind)
    return channel


def _checked_target(kind: str, target: str, allow_private: bool) -> str:
    if kind not in CHANNEL_KINDS:
        raise InvalidInput(N_("Choose a webhook or an e-mail address."))
    if kind == "email":
        return normalise_email(target)
    url = check_url(target)
    if not allow_private:
        destination(url, allow_private=False)  # refuses http://, a private or unknown host
    return url


def _refuse_duplicate(session: Session, org: Organization, kind: str, target: str) -> None:
    mine = select(func.count()).where(AlertChannel.org_id == org.id)
    if (session.scalar(mine) or 0) >= MAX_CHANNELS:
        raise Conflict(N_("An organization has at most %(n)s alert channels."), n=MAX_CHANNELS)
    same = mine.where(AlertChannel.kind == kind, AlertChannel.target == target)
    if session.scalar(same):
        raise Conflict(N_("This channel exists already."))


def set_channel_active(session: Session, actor: Actor, channel_id: int, active: bool) -> None:
    """Turn a channel off (its pending deliveries fail, said so in the log) or on again."""
    channel = _own_channel(session, actor, channel_id)
    if channel.active == active:
        return
    channel.active = active
    if not active:
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.channel_id == channel.id, AlertDelivery.status == "pending")
            .values(status="failed", last_error=DEACTIVATED, locked_until=None)
        )
    action = "alert_channel.activate" if active else "alert_channel.deactivate"
    record(session, actor, action, f"alert_channel:{channel.id}", kind=channel.kind)
    session.flush()


def delete_channel(session: Session, actor: Actor, channel_id: int) -> None:
    """Remove the channel and its delivery log (alerts themselves stay)."""
    channel = _own_channel(session, actor, channel_id)
    deliveries = select(AlertDelivery.id).where(AlertDelivery.channel_id == channel.id)
    removed = session.scalar(select(func.count()).select_from(deliveries.subquery())) or 0
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(AlertDelivery).where(AlertDelivery.channel_id == channel.id))
    record(
        session,
        actor,
        "alert_channel.delete",
        f"alert_channel:{channel.id}",
        kind=channel.kind,
        deliveries=removed,
    )
    session.delete(channel)
    session.flush()  # gone before the page lists the channels again


def start_test(
    session: Session, actor: Actor, channel_id: int, *, base_url: str, now: datetime
) -> Outgoing:
    """A test delivery on record, leased for the request that sends it (the caller commits,
    sends with `delivery.send`, then calls `finish_test`)."""
    channel = _own_channel(session, actor, channel_id)
    lease = now + timedelta(seconds=TEST_LEASE_SECONDS)
    delivery = AlertDelivery(
        alert_id=None,
        channel_id=channel.id,
        idempotency_key=new_key(),
        event=TEST_EVENT,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        locked_until=lease,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    record(session, actor, "alert_channel.test", f"alert_channel:{channel.id}", kind=channel.kind)
    return outgoing_of(session, delivery, base_url, lease)


def finish_test(
    session: Session, actor: Actor, outgoing: Outgoing, outcome: Outcome, now: datetime
) -> AlertDelivery:
    """The test's attempt recorded and its delivery settled (a test is never retried)."""
    require(session, actor, "manage_alert_channels")
    row = record_outcome(session, 1, outgoing, outcome, now)
    if row is None:  # the channel was deleted while the test was on its way
        raise NotFound(N_("No such alert channel."))
    return row


def sent_test(session: Session, actor: Actor, delivery_id: int) -> SentTest:
    """The organization's test message `delivery_id` with its latest attempt; NotFound for
    any other delivery (another organization's, or an alert's)."""
    org = require(session, actor, "manage_alert_channels")
    found = session.execute(
        select(AlertDelivery, AlertChannel.target)
        .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
        .where(
            AlertDelivery.id == delivery_id,
            AlertDelivery.event == TEST_EVENT,
            AlertChannel.org_id == org.id,
        )
    ).first()
    if found is None:
        raise NotFound(N_("No such test message."))
    delivery, target = found
    attempt = session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery.id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
    ).first()
    return SentTest(target, attempt)


def delivery_log(
    session: Session, actor: Actor, *, status: str | None = None, limit: int = LOG_LIMIT
) -> list[LogEntry]:
    """The organization's latest deliveries (newest first), with their attempts."""
    org = require(session, actor, "manage_alert_channels")
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(N_("Unknown delivery status."))
    query = (
        select(AlertDelivery, AlertChannel)
        .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
        .where(AlertChannel.org_id == org.id)
    )
    if status is not None:
        query = query.where(AlertDelivery.status == status)
    found = session.execute(query.order_by(AlertDelivery.id.desc()).limit(limit))
    entries = {delivery.id: LogEntry(delivery, channel) for delivery, channel in found}
    if entries:
        attempts = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(entries))
        for attempt in session.scalars(attempts.order_by(DeliveryAttempt.id)):
            entries[attempt.delivery_id].attempts.append(attempt)
    return list(entries.values())


def _own_channel(session: Session, actor: Actor, channel_id: int) -> AlertChannel:
    org = require(session, actor, "manage_alert_channels")
    channel = session.get(AlertChannel, channel_id)
    if channel is None or channel.org_id != org.id:
        raise NotFound(N_("No such alert channel."))
    return channel
