"""The scan token: round trip, expiry, forgery, and the code never readable in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chinhhang.scans import tokens
from chinhhang.stamps.codes import ALPHABET

KEY = b"k" * 32
NOW = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)
HOUR = timedelta(hours=1)
codes = st.text(alphabet=ALPHABET, min_size=16, max_size=26)
outcomes = st.sampled_from(["genuine", "over_limit", "not_activated", "void"])


@given(codes, outcomes)
def test_a_token_gives_back_its_scan_and_hides_the_code(code: str, outcome: str) -> None:
    token = tokens.make(KEY, code, outcome, NOW)
    assert tokens.read(KEY, token, NOW, HOUR) == tokens.ScanToken(code, outcome, NOW)
    assert code not in token
    assert code.lower() not in token.lower()


@given(
    codes,
    st.integers(min_value=0, max_value=200),
    st.characters(min_codepoint=33, max_codepoint=126),
)
def test_a_changed_token_is_refused(code: str, where: int, char: str) -> None:
    token = tokens.make(KEY, code, "over_limit", NOW)
    index = where % len(token)
    changed = token[:index] + char + token[index + 1 :]
    read = tokens.read(KEY, changed, NOW, HOUR)
    # Base64's last character may carry unused bits: then the bytes, and the scan, are the same.
    assert read is None or read == tokens.ScanToken(code, "over_limit", NOW)


def test_old_future_and_other_keys_tokens_are_refused() -> None:
    token = tokens.make(KEY, "ABCDEFGHJKMNPQRSTV", "genuine", NOW)
    assert tokens.read(KEY, token, NOW + HOUR + timedelta(seconds=1), HOUR) is None
    assert tokens.read(KEY, token, NOW - timedelta(seconds=1), HOUR) is None
    assert tokens.read(b"x" * 32, token, NOW, HOUR) is None
    for junk in (None, "", "a.b.c.d", "x" * 500, "ä.g.1.x"):
        assert tokens.read(KEY, junk, NOW, HOUR) is None


@given(st.binary(max_size=32), st.binary(min_size=6, max_size=6))
def test_the_integer_xor_is_the_bytewise_xor_of_the_key_stream(data: bytes, tag: bytes) -> None:
    stream = tokens._mac(KEY).digest(b"scan-token-stream:" + tag)
    assert tokens._xor(data, KEY, tag) == bytes(a ^ b for a, b in zip(data, stream, strict=False))
