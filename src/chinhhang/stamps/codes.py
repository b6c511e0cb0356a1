"""Dynamic stamp codes: random, self-authenticating, short enough for a small QR symbol.

Layout (24 Crockford base32 characters, 120 bits)::

    K RRRRRRRRRRRRRRRR TTTTTTT
    | |                +-- 7 chars = 35-bit HMAC-SHA256 tag over K + R
    | +------------------- 16 chars = 80 bits from the OS's cryptographic random source
    +--------------------- 1 char = key id (0-31) naming the secret that made the tag

The random part is never derived from the serial or anything else a forger could know, so a
code cannot be predicted from the stamps around it. The tag lets the server turn away a forged
or mistyped code without a database look-up: a random string passes with probability 2^-35.
The key id lets a later key rotation keep old stamps verifying (see docs/codes.md).

This module is pure: no I/O, no clock. Everything here is property-tested.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from chinhhang.hmacs import HmacSha256

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = bytes.maketrans(_RFC4648.encode(), ALPHABET.encode())

RANDOM_BYTES = 10  # 80 bits, the floor SPEC section 3 sets
RANDOM_CHARS = 16
TAG_CHARS = 7  # 35 bits
CODE_LENGTH = 1 + RANDOM_CHARS + TAG_CHARS  # 24
MAX_INPUT_LENGTH = 64  # generous room for hyphens and spaces a person may type

# Crockford's decoding rules: read case-insensitively, I and L are 1, O is 0; U is not a symbol.
_NORMALISE = str.maketrans(
    {"I": "1", "L": "1", "O": "0", "i": "1", "l": "1", "o": "0", "-": None, " ": None}
)
_VALID = frozenset(ALPHABET)


class InvalidCode(ValueError):
    """The text is not a code this server could have issued (malformed or forged)."""


@dataclass(frozen=True, slots=True)
class Keyring:
    """The tag secrets by key id; new codes are tagged with `current`."""

    keys: Mapping[int, bytes] = field(repr=False)  # never in a log line or a traceback
    current: int = 0
    macs: dict[str, HmacSha256] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key id has no key")
        for kid, key in self.keys.items():
            if not 0 <= kid < len(ALPHABET):
                raise ValueError(f"key id {kid} does not fit in one base32 character")
            if len(key) < 16:
                raise ValueError("a tag key must be at least 16 bytes")
        # By key-id character, the form the code carries it in.
        macs = {ALPHABET[kid]: HmacSha256(key) for kid, key in self.keys.items()}
        object.__setattr__(self, "macs", macs)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).translate(_TO_CROCKFORD).decode("ascii")


# Two base32 characters per 10 bits: the tag is computed for every scan, forged ones included,
# and base64.b32encode (padding, translation) was most of the tag's cost after the HMAC.
_PAIRS = tuple(a + b for a in ALPHABET for b in ALPHABET)


def _tag(mac: HmacSha256, body: str) -> str:
    """The first 35 bits of the HMAC in base32: the same characters as `_b32(digest[:5])[:7]`
    (tests/unit/stamps/test_codes.py holds them equal), a third of the time."""
    bits = int.from_bytes(mac.digest(body.encode("ascii"))[:5], "big") >> 5
    return (
        _PAIRS[bits >> 25]
        + _PAIRS[(bits >> 15) & 1023]
        + _PAIRS[(bits >> 5) & 1023]
        + (ALPHABET[bits & 31])
    )


def new_codes(keyring: Keyring, count: int, key_id: int | None = None) -> Iterator[str]:
    """Yield `count` fresh codes tagged with `key_id` (the current key by default); one
    urandom call per batch keeps bulk issuance cheap."""
    kid = ALPHABET[keyring.current if key_id is None else key_id]
    mac = keyring.macs.get(kid)
    if mac is None:
        raise ValueError(f"key {key_id} is not in the keyring")
    step = 4096
    for start in range(0, count, step):
        n = min(step, count - start)
        pool = os.urandom(RANDOM_BYTES * n)
        for i in range(0, RANDOM_BYTES * n, RANDOM_BYTES):
            body = kid + _b32(pool[i : i + RANDOM_BYTES])
            yield body + _tag(mac, body)


def new_code(keyring: Keyring) -> str:
    return next(new_codes(keyring, 1))


def normalise(text: str) -> str:
    """Canonical upper-case form of what a person or scanner gave us.

    Raises InvalidCode for anything that cannot be a code, without saying which check failed.
    """
    if not text or len(text) > MAX_INPUT_LENGTH or not text.isascii():
        raise InvalidCode("not a code")
    code = text.translate(_NORMALISE).upper()
    if len(code) != CODE_LENGTH or not _VALID.issuperset(code):
        raise InvalidCode("not a code")
    return code


def verify(keyring: Keyring, text: str) -> str:
    """Return the canonical code if its tag is right; raise InvalidCode otherwise.

    Constant-time comparison so the tag cannot be learnt one character at a time.
    """
    code = normalise(text)
    mac = keyring.macs.get(code[0])
    if mac is None:
        raise InvalidCode("not a code")
    body, tag = code[: 1 + RANDOM_CHARS], code[1 + RANDOM_CHARS :]
    if not hmac.compare_digest(_tag(mac, body), tag):
        raise InvalidCode("not a code")
    return code


def guess_probability(issued: int) -> float:
    """Chance that one uniformly random well-formed guess is an issued code, tag known or not.

    An attacker who somehow had the tag key still faces 2^80 random parts; one who does not
    must also hit the 35-bit tag. We quote the first, weaker figure.
    """
    return issued / float(2 ** (8 * RANDOM_BYTES))
