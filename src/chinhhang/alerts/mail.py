"""Alert e-mail through the operator's SMTP server, with the standard library's smtplib.

CHINHHANG_SMTP_URL names the server: `smtp://[user:password@]host[:port][?from=addr&starttls=1]`
(port 25 by default; `starttls=1` upgrades the connection before logging in) or `smtps://…`
for TLS from the first byte (port 465 by default). Without from=, mail comes from
`alerts@<the host of CHINHHANG_BASE_URL>`. User and password are percent-decoded,
so a password with `@` or `:` is written `%40`, `%3A`.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl, unquote, urlsplit

from chinhhang.accounts.services.users import normalise_email
from chinhhang.errors import InvalidInput

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
SEND_TIMEOUT = 10.0


class SmtpUrlError(ValueError):
    """CHINHHANG_SMTP_URL cannot be used; the message says what to fix (never the password)."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str, default_sender: str) -> SmtpConfig:
    """The server, credentials and sender named by `url`; SmtpUrlError if unusable."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SmtpUrlError("CHINHHANG_SMTP_URL must start with smtp:// or smtps://")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise SmtpUrlError("CHINHHANG_SMTP_URL has a port that is not a number 1-65535") from None
    if not parts.hostname:
        raise SmtpUrlError("CHINHHANG_SMTP_URL names no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise SmtpUrlError("CHINHHANG_SMTP_URL takes no path: smtp://host:port?from=addr")
    options = _options(parts.query)
    sender = default_sender
    if "from" in options:
        try:
            sender = normalise_email(options["from"])
        except InvalidInput:
            raise SmtpUrlError("CHINHHANG_SMTP_URL's from= is not an e-mail address") from None
    starttls = _flag(options.get("starttls", ""))
    if starttls and scheme == "smtps":
        raise SmtpUrlError("smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        sender=sender,
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _options(query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in ("from", "starttls"):
            raise SmtpUrlError(
                f"CHINHHANG_SMTP_URL has an unknown option {key[:20]!r} (from=, starttls=)"
            )
        options[key] = value
    return options


def _flag(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SmtpUrlError("CHINHHANG_SMTP_URL's starttls= is 1 or 0")


def send_mail(config: SmtpConfig, message: Message, timeout: float = SEND_TIMEOUT) -> None:
    """Hand `message` to the server (its From is set here). Raises OSError or
    smtplib.SMTPException when the server cannot be reached or refuses it."""
    del message["From"]
    message["From"] = config.sender
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=timeout)
    with client:
        if config.starttls:
            client.starttls(context=context)
        if config.username:
            client.login(config.username, config.password or "")
        client.send_message(message)
