"""Password hashing with argon2id (RFC 9106), the library's recommended parameters."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both answers take the same time. Made on
    first use, not at import: a hash costs 64 MiB and a sixth of a second, which every command
    line tool and export worker would otherwise pay for nothing."""
    return PRODUCTION_HASHER.hash("not a password anyone has")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
