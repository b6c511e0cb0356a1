"""Passwords are stored as argon2id hashes with RFC 9106's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher

from chinhhang.accounts import passwords


def test_production_parameters_are_argon2id_64_mib_3_passes() -> None:
    # conftest swaps in a cheap hasher for speed; the production one stays PRODUCTION_HASHER.
    stored = passwords.PRODUCTION_HASHER.hash("a password of ten")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(stored, "a password of ten")


def test_verify_accepts_the_password_only() -> None:
    stored = passwords.hash_password("đúng mật khẩu rồi")
    assert passwords.verify_password(stored, "đúng mật khẩu rồi")
    assert not passwords.verify_password(stored, "sai mật khẩu rồi")
    assert not passwords.verify_password(None, "đúng mật khẩu rồi")
    assert not passwords.verify_password("not a hash", "đúng mật khẩu rồi")
