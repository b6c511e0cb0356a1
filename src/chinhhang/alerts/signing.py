"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body (pure, no I/O).

The header reads `t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, f"{t}.".encode() + body) and the key is the channel's secret as UTF-8
text, `whsec_` prefix included. Signing the timestamp with the body lets a receiver refuse an
old request replayed by someone who recorded it (`verify`'s tolerance); the idempotency key in
the body lets it drop a genuine repeat (a retry after a lost answer).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not one
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A channel's signing secret: 256 random bits, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC of one request."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, now: datetime) -> str:
    """The X-ChinhHang-Signature header's value for `body` sent at `now`."""
    timestamp = int(now.timestamp())
    return f"t={timestamp},{SCHEME}={signature(secret, timestamp, body)}"


def parse_header(header: str) -> tuple[int, list[str]] | None:
    """The timestamp and every v1 signature of a header (several during a secret's rotation);
    None when the header is malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    secret: str, header: str, body: bytes, now: datetime, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """Whether `header` signs `body` with `secret` and was made within `tolerance` seconds of
    `now` (either side: a clock a little ahead is not a replay). Compares in constant time."""
    parsed = parse_header(header)
    if parsed is None:
        return False
    timestamp, given = parsed
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    # Every candidate is compared (no early exit), so timing tells nothing about which matched.
    matches = [hmac.compare_digest(expected.encode(), value.encode()) for value in given]
    return any(matches)
