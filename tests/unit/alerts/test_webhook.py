"""Webhook addresses: the accepted forms, and the SSRF guard's view of where they lead."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.alerts.webhook import Refused, check_url, destination, require_https
from chinhhang.errors import InvalidInput


def test_accepted_addresses_are_trimmed() -> None:
    assert check_url("  https://hooks.example.vn/chinhhang?x=1  ") == (
        "https://hooks.example.vn/chinhhang?x=1"
    )
    assert check_url("http://203.0.113.5:8080/h") == "http://203.0.113.5:8080/h"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.vn/h",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://user:pw@example.vn/h",
        "https://example.vn:99999/h",
        "https://exämple.vn/h",
        "https://example.vn/a b",
        "https://example.vn/" + "a" * 500,
        "https://example.vn/\r\nX: y",
    ],
)
def test_bad_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


@given(st.text(max_size=80))
def test_any_text_is_accepted_or_refused_never_crashes(url: str) -> None:
    try:
        checked = check_url(url)
    except InvalidInput:
        return
    assert checked.lower().startswith(("http://", "https://"))
    assert len(checked) <= 500


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/h",
        "https://localhost:8000/h",
        "https://10.1.2.3/h",
        "https://192.168.1.1/h",
        "https://172.16.0.1/h",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/h",
        "https://[fe80::1]/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://[2002:7f00:1::]/h",  # 6to4 of 127.0.0.1
        "https://[2002:a00:1::]/h",  # 6to4 of 10.0.0.1
        "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/h",  # Teredo, client 10.0.0.1
        "https://0.0.0.0/h",
        "https://224.0.0.1/h",
        "https://100.64.0.1/h",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(Refused, match="private, loopback or reserved"):
        destination(url, allow_private=False)


def test_plain_http_is_refused_before_any_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an http:// address is refused without resolving its host")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    for url in ("http://203.0.114.1/h", "HTTP://hooks.example.vn/h", "http://127.0.0.1/h"):
        with pytest.raises(Refused, match=r"must start with https://"):
            destination(url, allow_private=False)


def test_the_development_setting_allows_plain_http() -> None:
    require_https("http://hooks.example.vn/h", allow_http=True)
    assert destination("http://127.0.0.1:8123/h", allow_private=True)[0] == (
        "http://127.0.0.1:8123/h"
    )


def test_allowed_private_addresses_are_pinned_with_the_host_kept() -> None:
    assert destination("http://localhost:8123/h?q=1", allow_private=True)[1:] == (
        "localhost:8123",
        "localhost",
    )
    pinned = destination("http://localhost:8123/h?q=1", allow_private=True)[0]
    assert pinned in ("http://127.0.0.1:8123/h?q=1", "http://[::1]:8123/h?q=1")
    assert destination("https://[::1]/h", allow_private=True) == (
        "https://[::1]:443/h",
        "[::1]",
        "::1",
    )


def test_a_public_address_passes() -> None:
    assert destination("https://203.0.114.1/h", allow_private=False)[0] == (
        "https://203.0.114.1:443/h"
    )


def test_an_unknown_host_is_refused() -> None:
    with pytest.raises(Refused, match="cannot be found"):
        destination("https://no-such-host.invalid/h", allow_private=True)
