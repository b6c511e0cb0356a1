"""HMAC-SHA256 (RFC 2104) with the key's pads hashed once, for the scan's hot path.

`hmac.digest` re-keys on every call, and with OpenSSL 3 each call also fetches the algorithm:
in the server that cost ~50 µs per scan (docs/benchmarks.md), more than the rest of the
forged-code path together. Hashing the padded key once and copying the two SHA-256 states is
the same function (tests compare it with `hmac.digest`) at a fraction of the cost. Pure module.
"""

from __future__ import annotations

import hashlib

_BLOCK = 64  # SHA-256 block size in bytes


class HmacSha256:
    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
