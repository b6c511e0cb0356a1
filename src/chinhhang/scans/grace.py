"""The same-browser grace period (SPEC section 2), kept in a signed cookie.

A shopper who verified a stamp and reopens it minutes later (a reload, the back button, showing
a friend) must not burn another scan. The browser carries a cookie listing the codes it verified
and when; the server signs it, so nobody can forge "I verified this" for a stamp they never
scanned. Only the newest few entries are kept, so the cookie stays small.
"""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime
from functools import lru_cache

from chinhhang.hmacs import HmacSha256

COOKIE_NAME = "ch_seen"
MAX_ENTRIES = 8
_SIG_BYTES = 16


@lru_cache(maxsize=8)
def _mac(key: bytes) -> HmacSha256:
    return HmacSha256(key)


# A fresh browser's cookie and its verdict's view token sign the same "code:time": the second
# signature of a genuine scan is then a dictionary hit instead of an HMAC.
@lru_cache(maxsize=256)
def _sign(key: bytes, payload: str) -> str:
    mac = _mac(key).digest(payload.encode("ascii"))[:_SIG_BYTES]
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def read(key: bytes, cookie: str | None) -> dict[str, datetime]:
    """Codes this browser verified, with when; empty for a missing, stale or forged cookie."""
    if not cookie or len(cookie) > 1024 or not cookie.isascii():
        return {}
    payload, _, signature = cookie.rpartition(".")
    if not payload or not hmac.compare_digest(_sign(key, payload), signature):
        return {}
    seen: dict[str, datetime] = {}
    for entry in payload.split("~"):
        code, _, stamp = entry.partition(":")
        if not stamp.isdigit():
            return {}
        seen[code] = datetime.fromtimestamp(int(stamp), UTC)
    return seen


# How long a language switch on a genuine page re-shows it without counting (see view_token).
VIEW_TOKEN_MINUTES = 10


def view_token(key: bytes, code: str, when: datetime) -> str:
    """A short-lived, signed "this was verified at `when`" for one code, carried in the URL.

    The verdict page's language link carries it, so that switching language re-shows the
    verdict instead of counting a second scan, even with cookies blocked or a strict run.
    It names the code and the time, expires after VIEW_TOKEN_MINUTES, and cannot be made
    without the server's key.
    """
    stamp = str(int(when.timestamp()))
    return f"{stamp}.{_sign(key, code + ':' + stamp)}"


def read_view_token(key: bytes, code: str, token: str | None, now: datetime) -> datetime | None:
    if not token or len(token) > 64 or not token.isascii():
        return None
    stamp, _, signature = token.partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(_sign(key, code + ":" + stamp), signature):
        return None
    when = datetime.fromtimestamp(int(stamp), UTC)
    age = (now - when).total_seconds()
    return when if 0 <= age <= VIEW_TOKEN_MINUTES * 60 else None


def write(key: bytes, seen: dict[str, datetime], code: str, when: datetime) -> str:
    """The cookie value after this browser verified `code` at `when`."""
    entries = {c: t for c, t in seen.items() if c != code}
    entries[code] = when
    newest = sorted(entries.items(), key=lambda item: item[1])[-MAX_ENTRIES:]
    payload = "~".join(f"{c}:{int(t.timestamp())}" for c, t in newest)
    return f"{payload}.{_sign(key, payload)}"
