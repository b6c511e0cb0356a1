"""Jinja2 pages in the shopper's language (SPEC section 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from chinhhang.i18n import LANGUAGES, negotiate, translator

# Shoppers are in Vietnam; times are shown on Vietnam's clock whatever the server's zone.
DISPLAY_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def language_of(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("chinhhang", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        html = self.env.get_template(name).render(**(context or {}), **page_helpers(lang, request))
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        response.headers["Content-Language"] = lang
        response.headers.setdefault("Vary", "Accept-Language, Accept")
        return response


def page_helpers(lang: str, request: Request) -> dict[str, Any]:
    locale = "vi_VN" if lang == "vi" else "en_GB"

    def when(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(DISPLAY_ZONE), "dd/MM/yyyy HH:mm", locale=locale)

    def clock(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_time(value.astimezone(DISPLAY_ZONE), "HH:mm", locale=locale)

    def day(value: Any) -> str:
        if not value:
            return ""
        parsed = datetime.fromisoformat(str(value)).date()
        return format_date(parsed, "dd/MM/yyyy", locale=locale)

    other = "en" if lang == "vi" else "vi"
    return {
        "_": translator(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "other_lang": other,
        "other_lang_url": request.url.include_query_params(lang=other).path
        + "?"
        + request.url.include_query_params(lang=other).query,
        "when": when,
        "clock": clock,
        "day": day,
    }
