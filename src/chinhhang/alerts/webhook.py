"""Webhook addresses: what is accepted, where a request may go (SSRF guard), and the POST.

A webhook makes the server send requests to an address a customer typed, so without a guard
it would reach what only the server can: its own admin ports, the cloud's metadata service,
the office network. The host is therefore resolved when the channel is added and again before
every request, and refused if any address it resolves to is loopback, private, link-local,
multicast, reserved or unspecified. The request then goes to the address that was checked, not
to a second lookup a hostile DNS server could answer differently (DNS rebinding): the URL names
the address, the Host header and the TLS server name (SNI, and so the certificate check) the
host. And it goes over https only: over plain http anyone on the way could read the alert
(serials, places, shoppers' networks) and keep the signed request to study or replay it, or
answer in the receiver's place. The scheme is checked at the same two moments, so a channel
stored as http:// earlier is refused at send time, not sent.
CHINHHANG_ALLOW_PRIVATE_WEBHOOKS=1 lifts both rules, for development and tests, whose
receivers are plain http servers on the developer's own machine.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

MAX_URL = 500
TIMEOUT = 5.0
USER_AGENT = "ChinhHang-Webhook/1"
# How much of a refusing receiver's answer the delivery log keeps.
ANSWER_SNIPPET = 200
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(InvalidInput):
    """The address may not be called (private, unresolvable): a send fails without trying."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    snippet: str
    duration_ms: int


def check_url(url: str) -> str:
    """The URL, trimmed, if it is an http(s) address with a host and no user or password.

    Raises InvalidInput saying what is wrong; nothing is resolved here (see `destination`).
    """
    url = url.strip()
    if not url:
        raise InvalidInput(N_("Enter the webhook's address."))
    if len(url) > MAX_URL:
        raise InvalidInput(N_("The address is too long (at most %(n)s characters)."), n=MAX_URL)
    if not url.isascii() or not url.isprintable() or " " in url:
        raise InvalidInput(
            N_(
                "The address may hold no spaces or accents; "
                "encode them (punycode, percent-encoding)."
            )
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput(N_("This is not a valid web address.")) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(N_("A webhook's address starts with https://."))
    if not parts.hostname:
        raise InvalidInput(N_("The address names no host."))
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            N_("Put no user name or password in the address: requests are signed instead.")
        )
    return url


def _public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo's client) are judged by
        # it: 2002:7f00:1:: is 127.0.0.1 to a host with a 6to4 relay.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None and not _public(embedded):
            return False
    # `is_global` also rules out shared (carrier-grade NAT) and documentation ranges.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address `host` resolves to; Refused if it resolves to none."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(N_("The host %(host)s cannot be found."), host=host[:100]) from None
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        # An IPv6 address may carry its zone ("fe80::1%eth0"): link-local, refused anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Refused(N_("The host %(host)s cannot be found."), host=host[:100])
    return addresses


def require_https(url: str, allow_http: bool) -> None:
    """Refused for an http:// address unless `allow_http` (the development setting)."""
    if not allow_http and urlsplit(url).scheme.lower() != "https":
        raise Refused(
            N_(
                "A webhook's address must start with https://: alerts are not sent over plain "
                "http://, where anyone on the way could read or change them (to try a receiver "
                "on your own machine, the operator starts the server with "
                "CHINHHANG_ALLOW_PRIVATE_WEBHOOKS=1)."
            )
        )


def destination(url: str, allow_private: bool) -> tuple[str, str, str]:
    """(URL naming the checked address, Host header, TLS server name) for `url`.

    Raises Refused, unless `allow_private` (development), for an address that is not https
    (checked first: nothing is resolved for it) or whose host has any address that is not
    public; and when the host cannot be resolved.
    """
    require_https(url, allow_http=allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    addresses = resolve(host, port)
    if not allow_private and not all(_public(address) for address in addresses):
        raise Refused(
            N_(
                "The address %(host)s is in a private, loopback or reserved network; "
                "webhooks go to public addresses only (to try one on your own machine, the "
                "operator starts the server with CHINHHANG_ALLOW_PRIVATE_WEBHOOKS=1)."
            ),
            host=host[:100],
        )
    first = addresses[0]
    literal = f"[{first}]" if first.version == 6 else str(first)
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    # The address as typed (brackets of an IPv6 literal, port if given), without user info.
    return pinned, parts.netloc.rpartition("@")[2], host


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = TIMEOUT,
) -> Answer:
    """POST `body` to the webhook, following no redirect (a redirect is an answer, not 2xx).

    Raises Refused (see `destination`) or httpx.HTTPError when no answer came.
    """
    pinned, host_header, server_name = destination(url, allow_private)
    started = time.monotonic()
    request_headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST",
            pinned,
            content=body,
            headers=request_headers,
            extensions={"sni_hostname": server_name},
        ) as response,
    ):
        snippet = b""
        for chunk in response.iter_bytes():
            snippet += chunk
            if len(snippet) >= ANSWER_SNIPPET:
                break
    elapsed = int((time.monotonic() - started) * 1000)
    text = snippet[:ANSWER_SNIPPET].decode("utf-8", "replace")
    return Answer(response.status_code, " ".join(text.split()), elapsed)
