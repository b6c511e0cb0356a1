"""The scan token: a signed "this browser was shown OUTCOME for CODE at TIME".

Every counted verdict page carries one. The things a shopper does after a verdict (share the
phone's place, report a suspected fake, register the warranty) present it, so they are tied to
a scan that really happened and its scan event (same code, same instant), and nobody can
register a warranty for a stamp they never scanned genuine. It cannot be made without the
server's key; each use says how old a token it accepts. Pure module.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from chinhhang.hmacs import HmacSha256

_SIG_BYTES = 16
_MAX_LENGTH = 120
_OUTCOMES = {
    "g": "genuine",
    "o": "over_limit",
    "n": "not_activated",
    "v": "void",
}
_LETTERS = {outcome: letter for letter, outcome in _OUTCOMES.items()}


@dataclass(frozen=True, slots=True)
class ScanToken:
    code: str
    outcome: str
    # To the microsecond: equal to the scan event's `scanned_at`.
    at: datetime


@lru_cache(maxsize=8)
def _mac(key: bytes) -> HmacSha256:
    return HmacSha256(key)


def _sign(key: bytes, payload: str) -> str:
    mac = _mac(key).digest(b"scan-token:" + payload.encode("ascii"))[:_SIG_BYTES]
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def make(key: bytes, code: str, outcome: str, at: datetime) -> str:
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    payload = f"{code}.{_LETTERS[outcome]}.{micros}"
    return f"{payload}.{_sign(key, payload)}"


def read(key: bytes, token: str | None, now: datetime, max_age: timedelta) -> ScanToken | None:
    """The token's scan, or None when it is missing, malformed, forged, or older than max_age."""
    if not token or len(token) > _MAX_LENGTH or not token.isascii():
        return None
    payload, _, signature = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 3 or not hmac.compare_digest(_sign(key, payload), signature):
        return None
    code, letter, micros = parts
    if letter not in _OUTCOMES or not micros.isdigit() or len(micros) > 17:
        return None
    seconds, micro = divmod(int(micros), 1_000_000)
    at = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
    if not timedelta(0) <= now - at <= max_age:
        return None
    return ScanToken(code, _OUTCOMES[letter], at)
