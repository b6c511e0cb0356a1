"""Password hashing with argon2id (RFC 9106), the library's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
# Verified against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = PRODUCTION_HASHER.hash("not a password anyone has")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
