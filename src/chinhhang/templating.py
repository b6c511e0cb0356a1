"""Jinja2 pages in the shopper's language (SPEC section 8).

Rendering is on the scan's hot path, so three things keep it cheap:
- each language has its own environment whose loader translates `{{ _("literal") }}` once, when
  the template is compiled, instead of calling gettext on every render;
- the helpers templates still call (`_` with values, `when`, `day`, `clock`) are globals reading
  the request's language from a context variable, so macros are imported without `with context`
  (which would re-run the macro module on every render);
- pages that depend only on the language (unknown code, home) are rendered once and kept, and
  verdict pages are rendered once per product, batch and outcome as a skeleton with holes that
  each scan fills (render_skeleton).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from chinhhang.i18n import DEFAULT_LANGUAGE, LANGUAGES, negotiate, translator
from chinhhang.localtime import DISPLAY_ZONE
from chinhhang.provinces import province_name
from chinhhang.ttl_cache import TtlCache

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)
_TRANSLATORS = {lang: translator(lang) for lang in LANGUAGES}


LANGUAGE_COOKIE = "ch_lang"


def language_of(request: Request) -> str:
    """`?lang=`, then the language the portal remembered in a cookie, then Accept-Language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return negotiate(chosen, request.headers.get("accept-language"))


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def gettext(message: str, **values: Any) -> str:
    return _TRANSLATORS[_language.get()](message, **values)


# Vietnamese and British English both write day/month/year with a 24-hour clock, so plain
# strftime serves both languages; Babel's formatter cost more than the scan's database write.
def when(value: datetime | str | None) -> str:
    """Date and time on Vietnam's clock, e.g. 27/11/2026 15:30 (a skeleton's hole passes)."""
    if isinstance(value, str):
        return value
    # By the minute it shows: every verdict page prints one, and the time zone conversion
    # cost more than the rest of the page's holes together. (Exact since 1920: before, the
    # zone's offset had seconds in it.)
    return _minute_text(math.floor(value.timestamp()) // 60) if value else ""


@lru_cache(maxsize=4096)
def _minute_text(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, DISPLAY_ZONE).strftime("%d/%m/%Y %H:%M")


def clock(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(DISPLAY_ZONE).strftime("%H:%M") if value else ""


def day(value: Any) -> str:
    """A date as 27/11/2026, from a date or its ISO text."""
    if not value:
        return ""
    return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y")


_LITERAL_CALL = re.compile(r"""\{\{\s*_\("((?:[^"\\]|\\.)*)"\)\s*\}\}""")


class TranslatingLoader(PackageLoader):
    """Replaces `{{ _("literal") }}` with the escaped translation at compile time."""

    def __init__(self, language: str) -> None:
        super().__init__("chinhhang", "templates")
        self.translate = _TRANSLATORS[language]

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)

        def replace(match: re.Match[str]) -> str:
            text = str(escape(self.translate(match.group(1))))
            # Keep Jinja from reading a translation as template syntax.
            return text.replace("{", "&#123;").replace("}", "&#125;")

        return _LITERAL_CALL.sub(replace, source), filename, uptodate


_ICON_DIR = Path(__file__).parent / "templates" / "icons"
# Our own SVG files, read once: trusted markup.
ICONS = {path.stem: Markup(path.read_text().strip()) for path in _ICON_DIR.glob("*.svg")}  # noqa: S704


def icon(kind: str) -> Markup:
    return ICONS.get(kind, ICONS["info"])


SKELETON_TTL_SECONDS = 10.0
_SKELETON_CACHE_SIZE = 10_000
# Private-use characters around a random per-process token: no escaping or translation touches
# them, and no product text can forge one (text that happens to contain the characters stays
# literal text).
_TOKEN = secrets.token_hex(8)
_HOLE = "\ue000" + _TOKEN + ":{}\ue001"
_HOLES = re.compile("\ue000" + _TOKEN + ":([a-z]+)\ue001")


def _escaped(value: str) -> str:
    """`escape(value)` as text, without the call for the plain text most values are (digits,
    dates, tokens): the verdict page fills a dozen holes per scan."""
    if type(value) is str and not (
        "&" in value or "<" in value or ">" in value or '"' in value or "'" in value
    ):
        return value
    return str(escape(value))


def hole(name: str) -> str:
    """A marker standing for a per-request value in a cached page skeleton."""
    return _HOLE.format(name)


class Pages:
    def __init__(self) -> None:
        self.envs = {lang: self._environment(lang) for lang in LANGUAGES}
        self._fixed: dict[tuple[str, str], str] = {}
        self._fixed_bodies: dict[tuple[str, str], bytes] = {}
        self._skeletons: TtlCache[tuple[list[str], list[tuple[int, str]]]] = TtlCache(
            SKELETON_TTL_SECONDS, _SKELETON_CACHE_SIZE
        )

    @staticmethod
    @cache
    def _environment(language: str) -> Environment:
        """One per language per process, shared by every app built in it (tests build many):
        templates are compiled once. Everything in it is fixed at start-up."""
        env = Environment(
            loader=TranslatingLoader(language),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        env.globals.update(
            _=gettext,
            when=when,
            clock=clock,
            day=day,
            icon=icon,
            languages=LANGUAGES,
            province_name=province_name,
        )
        return env

    def html(self, lang: str, name: str, context: dict[str, Any] | None = None) -> str:
        token = _language.set(lang)
        try:
            other = "en" if lang == "vi" else "vi"
            # A query-only link switches language on whatever page it is on.
            values = {"other_lang_url": f"?lang={other}", **(context or {})}
            return self.envs[lang].get_template(name).render(**values, lang=lang, other_lang=other)
        finally:
            _language.reset(token)

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        context = dict(context or {})
        if "other_lang_url" not in context:
            # The same page in the other language: keep the rest of the query (a link type, a
            # filter), or the switch would land on another page than the one being read.
            other = "en" if lang == "vi" else "vi"
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
            context["other_lang_url"] = "?" + urlencode([*kept, ("lang", other)])
        return self._response(self.html(lang, name, context), lang, status_code, headers)

    def skeleton(
        self,
        lang: str,
        name: str,
        key: tuple[Any, ...],
        context: Callable[[], dict[str, Any]],
        fills: dict[str, str],
    ) -> str:
        """Render `name` once per `key` with holes, then fill the holes for this request.

        The scan's verdict page is the same for every stamp of a product and batch except for
        a few values (serial, count, dates): those are `hole()`s in the context that `context()`
        builds (called only when the skeleton is rendered), and `fills` gives their text. Kept
        SKELETON_TTL_SECONDS, so a product edit shows within that time.
        """
        full_key = (lang, name, *key)
        skeleton = self._skeletons.get(full_key)
        if skeleton is None:
            # Literal text at even indexes, hole names at odd ones.
            parts = _HOLES.split(self.html(lang, name, context()))
            skeleton = (parts, [(i, parts[i]) for i in range(1, len(parts), 2)])
            self._skeletons.put(full_key, skeleton)
        parts, holes = skeleton
        # Each value escaped once, however often its hole appears.
        values = {hole: _escaped(value) for hole, value in fills.items()}
        page = parts.copy()
        for index, hole in holes:
            page[index] = values[hole]
        return "".join(page)

    def fixed(self, lang: str, name: str) -> str:
        """A page that depends on nothing but the language: rendered once, then reused."""
        key = (name, lang)
        page = self._fixed.get(key)
        if page is None:
            page = self._fixed[key] = self.html(lang, name)
        return page

    def fixed_body(self, lang: str, name: str) -> bytes:
        """`fixed` encoded, for the scan route's bare answers: a forged code's page is the same
        1.6 kB every time, and encoding it per request was a measurable part of that path."""
        key = (name, lang)
        body = self._fixed_bodies.get(key)
        if body is None:
            body = self._fixed_bodies[key] = self.fixed(lang, name).encode()
        return body

    def render_fixed(
        self,
        request: Request,
        name: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        lang = language_of(request)
        return self._response(self.fixed(lang, name), lang, status_code, headers)

    @staticmethod
    def _response(
        html: str, lang: str, status_code: int, headers: dict[str, str] | None
    ) -> HTMLResponse:
        all_headers = {
            **(headers or {}),
            "Content-Language": lang,
            "Vary": "Accept-Language, Accept, Cookie",
        }
        return HTMLResponse(html, status_code=status_code, headers=all_headers)
