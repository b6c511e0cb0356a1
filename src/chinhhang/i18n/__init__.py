"""Translation catalogue: Vietnamese by default, English on request (SPEC section 8).

Message ids are English; `vi/LC_MESSAGES/messages.po` holds the Vietnamese and
`en/LC_MESSAGES/messages.po` the English (mostly identical, kept so that every language is a
real catalogue). The .po files are read at start-up with Babel, so there is no compile step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
CATALOGUE_DIR = Path(__file__).parent


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark a message for extraction where it is defined; translate it where it is shown."""
    return message


@cache
def catalogue(language: str) -> Mapping[str, str]:
    path = CATALOGUE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


# Placeholders whose values are words of the catalogue (a role, a kind of organization, a
# field's label): "Your role (viewer)" reads "Vai trò của bạn (người xem)" in Vietnamese, and a
# form's `field=N_("Shop name")` names the field as its label does. A value that is no msgid
# (an API's JSON field name) stays as it is.
TRANSLATED_VALUES = frozenset({"role", "kind", "field"})
VALUE_WORDS = (
    N_("owner"),
    N_("admin"),
    N_("operator"),
    N_("viewer"),
    N_("manufacturer"),
    N_("distributor"),
    N_("retailer"),
    N_("regulator"),
)


def translator(language: str) -> Callable[..., str]:
    """A gettext that also fills `%(name)s` placeholders from keyword arguments."""
    messages = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)

    def gettext(message: str, **values: Any) -> str:
        text = messages.get(message, message)
        if not values:
            return text
        for key in TRANSLATED_VALUES & values.keys():
            if isinstance(values[key], str):
                values[key] = messages.get(values[key], values[key])
        return text % values

    return gettext


@lru_cache(maxsize=4096)
def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """`?lang=` wins, then the first supported language in Accept-Language, then Vietnamese."""
    if query_lang and query_lang.lower()[:2] in LANGUAGES:
        return query_lang.lower()[:2]
    if accept_language:
        ranked: list[tuple[float, str]] = []
        for part in accept_language.split(",")[:20]:
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            ranked.append((quality, tag.strip().lower()[:2]))
        for _quality, lang in sorted(ranked, key=lambda item: -item[0]):
            if lang in LANGUAGES:
                return lang
    return DEFAULT_LANGUAGE
