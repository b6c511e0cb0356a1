"""What a delivery says: the webhook's JSON body and the alert e-mail (Vietnamese, then English).

A delivery's body is built from the alert as it is when the delivery is taken, so a retry may
show a larger `scan_count`; the `id` (the idempotency key) and `created_at` never change, and
are what a receiver deduplicates on. The e-mail carries both languages in one message because
an organization's inbox has no language setting; its Message-ID comes from the same key, so a
mail server or client that sees a repeat can drop it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime
from typing import Any

from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert
from chinhhang.catalog.models import Batch, Product
from chinhhang.localtime import DISPLAY_ZONE
from chinhhang.provinces import province_name
from chinhhang.scans.place import places_of
from chinhhang.stamps.serials import grouped

TEST_EVENT = "test"
ALERT_EVENT = "alert.created"
# Each reason in Vietnamese and in English (the e-mail shows both).
REASONS = {
    "over_limit": ("Tem bị quét vượt số lần cho phép", "Stamp scanned beyond its limit"),
    "not_activated": ("Quét tem chưa được kích hoạt", "Scan of a stamp not yet activated"),
    "void": ("Quét tem đã bị hủy", "Scan of a void stamp"),
    "guessing": (
        "Dò mã: nhiều mã không tồn tại từ cùng một nguồn",
        "Code guessing: many unknown codes from one client",
    ),
}


@dataclass(frozen=True, slots=True)
class Envelope:
    """One delivery's identity: what stays the same across all its attempts."""

    delivery_id: int
    idempotency_key: str
    event: str
    created_at: datetime


def _org(session: Session, org_id: int | None) -> dict[str, Any] | None:
    org = session.get(Organization, org_id) if org_id is not None else None
    return {"id": org.id, "name": org.name} if org is not None else None


def _place(session: Session, alert: Alert) -> dict[str, Any] | None:
    if alert.stamp_code is None:
        return None
    place = places_of(session, [alert.stamp_code]).get(alert.stamp_code)
    if place is None:
        return None
    return {
        "province_code": place.province_code,
        "province": province_name(place.province_code),
        "latitude": place.latitude,
        "longitude": place.longitude,
    }


def alert_document(session: Session, alert: Alert, base_url: str) -> dict[str, Any]:
    """The alert as receivers see it (the webhook's `alert`, the e-mail's facts)."""
    product = session.get(Product, alert.product_id) if alert.product_id else None
    batch = session.get(Batch, alert.batch_id) if alert.batch_id else None
    return {
        "id": alert.id,
        "reason": alert.reason,
        "category": alert.category,
        "status": alert.status,
        "serial": alert.serial,
        "product": (
            {"id": product.id, "name": product.name, "gtin": product.gtin} if product else None
        ),
        "batch": {"lot": batch.lot} if batch else None,
        "organization": _org(session, alert.org_id),
        "custodian": _org(session, alert.custodian_org_id),
        "scan_count": alert.scan_count,
        "first_at": alert.first_at.isoformat(),
        "last_at": alert.last_at.isoformat(),
        # A network prefix, already coarse; only guessing is about a client rather than a stamp.
        "client_net": alert.client_net if alert.reason == "guessing" else None,
        "place": _place(session, alert),
        "url": f"{base_url.rstrip('/')}/portal/alerts/{alert.id}",
    }


def webhook_body(envelope: Envelope, alert: dict[str, Any] | None) -> bytes:
    """Compact UTF-8 JSON; signed byte for byte, so it is built once per attempt."""
    document = {
        "id": envelope.idempotency_key,
        "event": envelope.event,
        "created_at": envelope.created_at.isoformat(),
        "alert": alert,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def alert_email(envelope: Envelope, alert: dict[str, Any] | None, to: str) -> MIMEText:
    """The message to one address (From is set by the sender, mail.send_mail)."""
    # The legacy API on purpose: EmailMessage (policy.default) drops a space where it folds a
    # long non-ASCII Subject between two encoded words; Header encodes it whole and right.
    message = MIMEText(_text(envelope, alert), "plain", "utf-8")
    message["To"] = to
    message["Subject"] = Header(_subject(alert), "utf-8")  # type: ignore[assignment]
    message["Date"] = format_datetime(envelope.created_at)
    message["Message-ID"] = f"<{envelope.idempotency_key}@chinhhang>"
    message["X-ChinhHang-Idempotency-Key"] = envelope.idempotency_key
    message["X-ChinhHang-Event"] = envelope.event
    return message


def _subject(alert: dict[str, Any] | None) -> str:
    if alert is None:
        return "[Chính Hãng] Thư thử kênh cảnh báo / Test of an alert channel"
    vi, en = REASONS.get(alert["reason"], (alert["reason"], alert["reason"]))
    serial = grouped(alert["serial"]) if alert["serial"] else alert["client_net"] or "?"
    return f"[Chính Hãng] Cảnh báo: {vi} — {serial} / Alert: {en} — {serial}"


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(DISPLAY_ZONE).strftime("%d/%m/%Y %H:%M")


def _place_text(place: dict[str, Any] | None, unknown: str) -> str:
    if place is None:
        return unknown
    if place["province"]:
        return str(place["province"])
    if place["latitude"] is not None and place["longitude"] is not None:
        return f"{place['latitude']:.2f}, {place['longitude']:.2f}"
    return unknown


def _text(envelope: Envelope, alert: dict[str, Any] | None) -> str:
    if alert is None:
        return (
            "Đây là thư thử do nền tảng Chính Hãng gửi: kênh cảnh báo này hoạt động.\n\n"
            "This is a test message from Chính Hãng: this alert channel works.\n\n"
            f"Mã gửi / Delivery key: {envelope.idempotency_key}\n"
        )
    return "\n".join(
        [
            *_facts(alert, "vi"),
            "",
            "— English —",
            "",
            *_facts(alert, "en"),
            "",
            f"Mã gửi / Delivery key: {envelope.idempotency_key}",
            "",
        ]
    )


def _facts(alert: dict[str, Any], language: str) -> list[str]:
    """One language's lines: what happened, to which stamp, where and when, and the link."""
    vi = language == "vi"
    reason = REASONS.get(alert["reason"], (alert["reason"], alert["reason"]))[0 if vi else 1]
    product, batch = alert["product"], alert["batch"]
    custodian = alert["custodian"]
    none = "—"
    labels = _VI_LABELS if vi else _EN_LABELS
    values = [
        reason,
        grouped(alert["serial"]) if alert["serial"] else none,
        f"{product['name']} ({product['gtin'] or none})" if product else none,
        batch["lot"] if batch else none,
        alert["organization"]["name"] if alert["organization"] else none,
        custodian["name"] if custodian else none,
        str(alert["scan_count"]),
        f"{_when(alert['first_at'])} – {_when(alert['last_at'])}",
        _place_text(alert["place"], "không rõ" if vi else "unknown"),
        alert["client_net"] or none,
        alert["url"],
    ]
    intro = "Cảnh báo từ Chính Hãng." if vi else "An alert from Chính Hãng."
    return [intro, *(f"{label}: {value}" for label, value in zip(labels, values, strict=True))]


_VI_LABELS = (
    "Lý do",
    "Số sê-ri",
    "Sản phẩm",
    "Lô",
    "Chủ tem",
    "Đơn vị giữ tem",
    "Số lần quét",
    "Thời gian (giờ Việt Nam)",
    "Nơi quét",
    "Mạng của máy quét",
    "Xem trên cổng doanh nghiệp",
)
_EN_LABELS = (
    "Reason",
    "Serial",
    "Product",
    "Lot",
    "Stamp owner",
    "Custodian",
    "Scans",
    "Time (Vietnam)",
    "Place",
    "Client network",
    "See it in the portal",
)
