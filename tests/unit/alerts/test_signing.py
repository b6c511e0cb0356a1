"""Webhook signatures: what we send verifies, anything altered or old does not."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chinhhang.alerts.signing import new_secret, parse_header, sign, verify

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SECRET = "whsec_" + "x" * 43


def test_a_new_secret_is_prefixed_random_and_long() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(first) >= 6 + 43
    assert first != second


def test_the_header_is_the_documented_hmac() -> None:
    body = b'{"id":"k","event":"test"}'
    header = sign(SECRET, body, NOW)
    t = int(NOW.timestamp())
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={t},v1={expected}"


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=300))
def test_what_we_sign_verifies_within_the_tolerance(body: bytes, late: int) -> None:
    header = sign(SECRET, body, NOW)
    assert verify(SECRET, header, body, NOW + timedelta(seconds=late))
    assert verify(SECRET, header, body, NOW - timedelta(seconds=late))  # a clock a little behind


@given(st.binary(min_size=1, max_size=500), st.integers(min_value=0, max_value=499))
def test_a_tampered_body_fails(body: bytes, where: int) -> None:
    header = sign(SECRET, body, NOW)
    index = where % len(body)
    changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    assert not verify(SECRET, header, changed, NOW)


def test_an_old_or_future_timestamp_fails() -> None:
    body = b"{}"
    header = sign(SECRET, body, NOW)
    assert not verify(SECRET, header, body, NOW + timedelta(seconds=301))
    assert not verify(SECRET, header, body, NOW - timedelta(seconds=301))
    assert verify(SECRET, header, body, NOW + timedelta(seconds=900), tolerance=1000)


def test_another_secret_or_a_forged_timestamp_fails() -> None:
    body = b"{}"
    header = sign(SECRET, body, NOW)
    assert not verify(SECRET + "y", header, body, NOW)
    later = int(NOW.timestamp()) + 60
    forged = f"t={later}," + header.split(",", 1)[1]
    assert not verify(SECRET, forged, body, NOW)


def test_any_of_several_signatures_may_match_during_a_rotation() -> None:
    body = b"{}"
    header = sign(SECRET, body, NOW)
    t, signature = header.split(",")
    assert verify(SECRET, f"{t},v1={'0' * 64},{signature}", body, NOW)


@given(st.text(max_size=200))
def test_malformed_headers_never_verify_or_raise(header: str) -> None:
    assert not verify(SECRET, header, b"{}", NOW)


def test_parse_header_needs_a_timestamp_and_a_signature() -> None:
    assert parse_header("t=12,v1=ab") == (12, ["ab"])
    assert parse_header("v1=ab") is None
    assert parse_header("t=12") is None
    assert parse_header("t=-3,v1=ab") is None
    assert parse_header("t=1e9,v1=ab") is None


def test_the_receivers_snippet_in_the_docs_verifies_our_signatures() -> None:
    """docs/alert-delivery.md shows receivers how to verify: that code must agree with ours."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "alert-delivery.md"
    snippet = docs.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(docs), "exec"), namespace)  # noqa: S102 - our own document
    receiver_verify = namespace["verify"]
    body = '{"id":"k","event":"test","alert":null,"x":"Nước mắm"}'.encode()
    header = sign(SECRET, body, datetime.now(UTC))
    assert receiver_verify(SECRET, header, body)
    assert not receiver_verify(SECRET, header, body + b" ")
    assert not receiver_verify(SECRET, sign(SECRET, body, NOW), body)  # long ago
    now = int(datetime.now(UTC).timestamp())
    assert not receiver_verify(SECRET, f"t={now},v1=ä", body)  # no TypeError on odd input
