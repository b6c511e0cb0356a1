"""The URL as printed in a QR code: the form that makes the smallest symbol.

QR's alphanumeric mode packs 0-9, A-Z and ` $%*+-./:` at 5.5 bits a character against byte
mode's 8, so `HTTPS://EXAMPLE.VN/V/CODE` needs a smaller symbol (version 3 at level M for a
typical address) than the lower-case form (version 4). Scheme and host are case-insensitive
(RFC 3986), codes are read case-insensitively, and the server routes `/V/` and `/P/` as well as
`/v/` and `/p/`, so the upper-case form opens the same page. A path prefix in BASE_URL is kept
as written: the server behind it may be case-sensitive.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def printable_base(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path.rstrip('/')}"


def stamp_print_url(base_url: str, code: str) -> str:
    return f"{printable_base(base_url)}/V/{code.upper()}"


def product_print_url(base_url: str, gtin: str | None, product_id: int) -> str:
    """A static code: the GS1 Digital Link where there is a GTIN, else `/P/{id}`."""
    if gtin:
        return f"{printable_base(base_url)}/01/{gtin}"
    return f"{printable_base(base_url)}/P/{product_id}"
