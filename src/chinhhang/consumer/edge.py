"""What the warranty's pages and JSON routes share at the edge: reading the scan token the
genuine page handed out, and the lookups' per-client throttle.

Both read the app's state (the token key web.py derives, the settings' Redis), which services
never see; the rules stay in consumer/services.py.
"""

from __future__ import annotations

from starlette.requests import Request

from chinhhang.consumer.services import LOOKUP_RATE, TOKEN_MAX_AGE
from chinhhang.db import utcnow
from chinhhang.errors import DomainError
from chinhhang.i18n import N_
from chinhhang.scans import tokens
from chinhhang.scans.throttle import Throttle


class TooManyLookups(DomainError):
    """The client spent its lookups for the hour (LOOKUP_RATE)."""

    status_code = 429


def scan_of(request: Request, token: str | None) -> tokens.ScanToken | None:
    """The scan a token stands for, or None when it is missing, forged or too old."""
    key: bytes = request.app.state.scan_token_key
    return tokens.read(key, token, utcnow(), TOKEN_MAX_AGE)


def check_lookup_budget(request: Request) -> None:
    """Count one lookup for the client; TooManyLookups once its budget is spent.

    One Throttle per app, made on first use (shared through Redis when the settings name
    one, like the scan throttle), so every worker counts the same budget."""
    state = request.app.state
    throttle: Throttle | None = getattr(state, "warranty_lookup_throttle", None)
    if throttle is None:
        throttle = Throttle(LOOKUP_RATE, state.settings.redis_url, name="warranty-lookup")
        state.warranty_lookup_throttle = throttle
    if not throttle.allow(request.client.host if request.client else None):
        raise TooManyLookups(
            N_("Too many warranty lookups from this connection. Please try again in an hour.")
        )
