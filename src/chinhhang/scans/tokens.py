"""The scan token: a signed "this browser was shown OUTCOME for CODE at TIME".

Every counted verdict page carries one. The things a shopper does after a verdict (share the
phone's place, report a suspected fake, register the warranty) present it, so they are tied to
a scan that really happened and its scan event (same code, same instant), and nobody can
register a warranty for a stamp they never scanned genuine. It cannot be made without the
server's key; each use says how old a token it accepts. Pure module.

The page must not show the stamp's code (it is the secret under the scratch-off layer, and
pages get screenshotted and shared), so the token carries it encrypted: a synthetic-IV
construction from HMAC-SHA256 alone. The tag is the MAC of the plain (code, outcome, time); the
code is XORed with a key stream derived from that tag. A token reveals nothing of the code, and
changing any bit of it breaks the tag.
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


def _tag(key: bytes, payload: str) -> bytes:
    # latin-1: a tampered token decrypts to any bytes, which must fail the compare, not raise.
    return _mac(key).digest(b"scan-token:" + payload.encode("latin-1"))[:_SIG_BYTES]


def _xor(data: bytes, key: bytes, tag: bytes) -> bytes:
    stream = _mac(key).digest(b"scan-token-stream:" + tag)  # 32 bytes; codes are <= 26
    # As integers: one XOR instead of a generator step per byte (each genuine scan makes one).
    size = len(data)
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream[:size], "big")
    return mixed.to_bytes(size, "big")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None


def make(key: bytes, code: str, outcome: str, at: datetime) -> str:
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    letter = _LETTERS[outcome]
    tag = _tag(key, f"{code}.{letter}.{micros}")
    return f"{_b64(_xor(code.encode('ascii'), key, tag))}.{letter}.{micros}.{_b64(tag)}"


def read(key: bytes, token: str | None, now: datetime, max_age: timedelta) -> ScanToken | None:
    """The token's scan, or None when it is missing, malformed, forged, or older than max_age."""
    opened = _open(key, token)
    if opened is None:
        return None
    code, letter, micros = opened
    if letter not in _OUTCOMES or not micros.isdigit() or len(micros) > 17:
        return None
    seconds, micro = divmod(int(micros), 1_000_000)
    at = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
    if not timedelta(0) <= now - at <= max_age:
        return None
    return ScanToken(code, _OUTCOMES[letter], at)


def _open(key: bytes, token: str | None) -> tuple[str, str, str] | None:
    """(code, outcome letter, microseconds) of a token made with `key`, else None."""
    if not token or len(token) > _MAX_LENGTH or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 4:
        return None
    sealed, letter, micros, tag_text = parts
    tag, cipher = _unb64(tag_text), _unb64(sealed)
    if tag is None or cipher is None or len(tag) != _SIG_BYTES or len(cipher) > 32:
        return None
    code = _xor(cipher, key, tag).decode("latin-1")
    if not hmac.compare_digest(_tag(key, f"{code}.{letter}.{micros}"), tag):
        return None
    return code, letter, micros
