from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from chinhhang.hmacs import HmacSha256


@given(st.binary(max_size=200), st.binary(max_size=300))
def test_it_is_exactly_hmac_sha256(key: bytes, message: bytes) -> None:
    assert HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


def test_one_instance_serves_many_messages() -> None:
    mac = HmacSha256(b"k" * 32)
    for message in (b"a", b"b", b"a"):
        assert mac.digest(message) == hmac.digest(b"k" * 32, message, "sha256")
