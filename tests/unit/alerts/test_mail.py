"""CHINHHANG_SMTP_URL as operators write it, and what it refuses with a clear reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.alerts.mail import SmtpConfig, SmtpUrlError, parse_smtp_url

DEFAULT = "alerts@chinhhang.example"


def test_plain_smtp_with_defaults() -> None:
    assert parse_smtp_url("smtp://mail.example.vn", DEFAULT) == SmtpConfig(
        host="mail.example.vn", port=25, sender=DEFAULT
    )


def test_every_part() -> None:
    url = "smtp://canh%40bao:p%40ss%3Aword@mail.example.vn:587?from=Alerts@Example.vn&starttls=1"
    config = parse_smtp_url(url, DEFAULT)
    assert (config.host, config.port, config.starttls, config.implicit_tls) == (
        "mail.example.vn",
        587,
        True,
        False,
    )
    assert (config.username, config.password) == ("canh@bao", "p@ss:word")
    assert config.sender == "alerts@example.vn"
    assert "p@ss" not in repr(config)  # the password stays out of logs


def test_smtps_is_tls_on_port_465() -> None:
    config = parse_smtp_url("smtps://u:p@smtp.example.vn", DEFAULT)
    assert (config.port, config.implicit_tls, config.starttls) == (465, True, False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example.vn", "must start with smtp://"),
        ("mail.example.vn", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.vn:99999", "port"),
        ("smtp://mail.example.vn:abc", "port"),
        ("smtp://mail.example.vn/inbox", "takes no path"),
        ("smtp://mail.example.vn?from=not-an-address", "from="),
        ("smtp://mail.example.vn?starttls=maybe", "starttls="),
        ("smtps://mail.example.vn?starttls=1", "TLS already"),
        ("smtp://mail.example.vn?tls=1", "unknown option"),
    ],
)
def test_unusable_urls_say_why(url: str, reason: str) -> None:
    with pytest.raises(SmtpUrlError, match=reason):
        parse_smtp_url(url, DEFAULT)


@given(st.text(max_size=120))
def test_any_text_parses_or_is_refused_clearly(url: str) -> None:
    try:
        config = parse_smtp_url(url, DEFAULT)
    except SmtpUrlError as error:
        message = str(error)
    else:
        assert config.host
        assert 1 <= config.port <= 65535
        return
    assert "CHINHHANG_SMTP_URL" in message or "smtp" in message
