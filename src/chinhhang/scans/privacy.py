"""What we keep of a client (SPEC section 9, Decree 13/2023): never the whole address."""

from __future__ import annotations

import ipaddress

MAX_USER_AGENT = 300


def truncate_address(address: str | None) -> str | None:
    """IPv4 to its /24, IPv6 to its /48: enough to see a region or network, not a person."""
    if not address:
        return None
    parts = address.split(".")
    # Fast path for dotted IPv4 (what the socket gives us); anything else goes to ipaddress.
    if len(parts) == 4 and all(p.isascii() and p.isdigit() and int(p) <= 255 for p in parts):
        return f"{int(parts[0])}.{int(parts[1])}.{int(parts[2])}.0/24"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def clip_user_agent(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    return user_agent[:MAX_USER_AGENT]
