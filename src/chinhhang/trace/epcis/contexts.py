"""JSON-LD @context entries: which capture accepts, and which a query answer shares.

A query answer puts events of several organizations in one document, under one top-level
@context. Whatever is lifted there applies to every event, so one organization's context must
not change how another's events read: a keyword entry (`{"@vocab": …}`, `@base`,
`@propagate`) or a remote context (which can hold anything, and may change after capture)
would. Capture therefore takes only inline entries that declare terms as absolute IRIs
(`{"example": "http://ns.example.com/epcis/"}`), not keywords, not compact-IRI terms (a term
`example:x` would override another organization's `example:` field of that name), and not
the EPCIS context's own terms (the standard context is `@protected`: a redefinition breaks the
whole answer for a JSON-LD processor). An answer lifts only the standard EPCIS context and such
term → IRI pairs that agree with those already lifted; any other context, remote ones
included, stays on its own event, where JSON-LD applies it to that event alone.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from chinhhang.trace.epcis import models
from chinhhang.trace.epcis.identifiers import is_uri
from chinhhang.trace.epcis.platform_render import PREFIX, VOCABULARY

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
# The standard's own context under its other addresses (the examples use the first).
_EPCIS_CONTEXTS = ("https://gs1.github.io/EPCIS/", "https://ref.gs1.org/standards/epcis/")
# Prefixes the EPCIS context declares, with the IRIs they may be declared with again (its
# addresses have used both namespaces): any other IRI would be a redefinition.
_STANDARD_PREFIXES: dict[str, tuple[str, ...]] = {
    "epcis": ("https://ref.gs1.org/epcis/", "https://ns.gs1.org/epcis/"),
    "cbv": ("https://ref.gs1.org/cbv/", "https://ns.gs1.org/cbv/"),
    "gs1": ("https://gs1.org/voc/", "https://ref.gs1.org/voc/"),
    "rdfs": ("http://www.w3.org/2000/01/rdf-schema#",),
    "owl": ("http://www.w3.org/2002/07/owl#",),
    "xsd": ("http://www.w3.org/2001/XMLSchema#",),
    "dcterms": ("http://purl.org/dc/terms/",),
}
# The platform's prefix, which every answer with a platform event declares: an organization
# may declare it too, but not as anything else.
_FIXED_PREFIXES = {**_STANDARD_PREFIXES, PREFIX: (VOCABULARY,)}
# Terms of the EPCIS context that are not fields of the models.
_OTHER_TERMS = frozenset(
    {"id", "type", "baseURL", "Collection", "member", "children", "EPCISQueryDocument"}
    | {"queryResults", "queryName", "resultsBody", "subscriptionID", "eventList"}
)


def is_epcis_context(entry: object) -> bool:
    """The standard EPCIS 2.0 context, at any of its addresses."""
    return isinstance(entry, str) and entry.startswith((EPCIS_CONTEXT, *_EPCIS_CONTEXTS))


@cache
def _epcis_terms() -> frozenset[str]:
    """The EPCIS context's terms: every field name of the models, the event and document
    types, and the context's few others."""
    fields = {
        field.alias or name
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel)
        for name, field in value.model_fields.items()
    }
    return frozenset(fields | set(models.EVENT_TYPES) | _OTHER_TERMS | {"EPCISDocument"})


def term_problem(term: str, value: object) -> str | None:
    """Why capture refuses this entry of an inline context, or None when it takes it."""
    if term.startswith("@"):
        return "a JSON-LD keyword is not taken here: declare prefixes only"
    if not isinstance(value, str) or not is_uri(value):
        return "must be an absolute IRI, such as http://ns.example.com/epcis/"
    if not term or ":" in term or "/" in term:
        return "a term here is a prefix name, such as example"
    if term in _FIXED_PREFIXES:
        return None if value in _FIXED_PREFIXES[term] else "redefines a standard prefix"
    return "redefines a term of the EPCIS context" if term in _epcis_terms() else None


def context_problems(context: object, where: str) -> list[str]:
    """`{field}: {why}` for every inline-context entry of `context` that capture refuses;
    `where` names the @context itself (`@context`, `epcisBody.eventList[2].@context`)."""
    if context is None:
        return []
    entries = context if isinstance(context, list) else [context]
    problems: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue  # a context URI: allowed, and kept on its own event by answers
        at = f"{where}[{index}]" if isinstance(context, list) else where
        problems += [
            f"{at}.{term}: {problem}"
            for term, value in entry.items()
            if (problem := term_problem(term, value)) is not None
        ]
    return problems


def shared_terms(entries: list[Any]) -> dict[str, str] | None:
    """The terms an event's @context entries declare that an answer may lift to its own
    @context; None when the event must keep its context: a remote context other than the
    EPCIS one, or an entry capture would refuse (one stored before the rule). A standard
    prefix declared with its standard IRI is not lifted: the EPCIS context declares it."""
    terms: dict[str, str] = {}
    for entry in entries:
        if is_epcis_context(entry):
            continue
        if not isinstance(entry, dict):
            return None
        for term, value in entry.items():
            if term_problem(term, value) is not None:
                return None
            if term not in _STANDARD_PREFIXES:
                terms[term] = value
    return terms
