"""Identifiers in EPCIS 2.0 events: EPC URIs, GS1 Digital Link URIs, and anyone's own URIs.

EPCIS 2.0 names objects, classes, locations and parties by URI. Two GS1 families have a syntax
of their own, which the JSON schema cannot check (it only says "a URI") and these functions do:
- EPC URIs of the GS1 EPC Tag Data Standard: pure identities `urn:epc:id:{scheme}:…` (sgtin,
  sscc, sgln, grai, giai, gdti, gsrn, pgln, …), the class `urn:epc:class:lgtin:…` and the
  patterns `urn:epc:idpat:{scheme}:…` (`urn:epc:idpat:sgtin:4012345.098765.*` is every item of
  one GTIN). Every scheme has its own regex per dot-separated part, and the GS1 company prefix
  (6 to 12 digits) and the reference after it add up to the length of the GS1 key (13 digits
  for a GTIN without its check digit, 12 for a GLN, 17 for an SSCC, …);
- GS1 Digital Link URIs, checked by `chinhhang.trace.digital_link.parse`. At GS1's own host
  `id.gs1.org` a URI must be a valid Digital Link. Elsewhere a URI that does not parse as one
  is taken as the organisation's own identifier, which EPCIS 2.0 allows (it is how stamps of
  products without a GTIN are named).

Identifiers are also instance-level (one object: an SGTIN, an SSCC, a Digital Link with a serial)
or class-level (an LGTIN, a pattern, a Digital Link with only a GTIN and lot), and an event's
EPC lists take the first kind while its quantity lists take the second.

The SGTIN conversions at the end map `urn:epc:id:sgtin:{company prefix}.{indicator+item
reference}.{serial}` to `https://id.gs1.org/01/{gtin14}/21/{serial}` and back; the way back
needs the length of the company prefix, which a GTIN does not carry. Pure module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote

from chinhhang.catalog.gtin import check_digit
from chinhhang.trace.digital_link import DigitalLink, InvalidDigitalLink
from chinhhang.trace.digital_link import parse as parse_digital_link


class InvalidIdentifier(ValueError):
    """Not an identifier EPCIS takes here; the message says what is wrong."""


class Level(StrEnum):
    """Whether an identifier names one object or a class of objects."""

    INSTANCE = "instance"
    CLASS = "class"


# RFC 3986: scheme ":" then unreserved, reserved and %-escaped characters; `?` starts the query
# and `#` the fragment, which may not hold another `#`. ASCII only, as the schema's "uri".
_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_CHAR}*(?:\?(?:{_CHAR}|\?)*)?(?:#(?:{_CHAR}|\?)*)?")
GS1_RESOLVER = "https://id.gs1.org"


def is_uri(value: str) -> bool:
    """True for an absolute URI (`scheme:…`), the form EPCIS requires of every identifier."""
    return _URI.fullmatch(value) is not None


# --- EPC URIs (GS1 EPC Tag Data Standard) -------------------------------------------------

# A serial, lot or asset reference in an EPC URI: the GS1 AI character set, with `"%&/<>?`
# escaped as %22 %25 %26 %2F %3C %3E %3F (TDS "GS3A3").
_GS3A3_CHARS = frozenset(
    "!'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_GS3A3_ESCAPED = frozenset('"%&/<>?')
_GS3A3 = r"(?:[!'()*+,\-.0-9:;=A-Z_a-z]|%(?:2[256Ff]|3[CcEeFf]))+"
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True, slots=True)
class _Part:
    pattern: re.Pattern[str]
    most: int | None = None  # characters at most, an escape counting as one

    def accepts(self, value: str) -> bool:
        if not self.pattern.fullmatch(value):
            return False
        return self.most is None or len(_ESCAPE.sub("_", value)) <= self.most


def _p(pattern: str, most: int | None = None) -> _Part:
    return _Part(re.compile(pattern), most)


_PREFIX = _p(r"[0-9]{6,12}")  # GS1 company prefix
_REF = _p(r"[0-9]+")
_REF0 = _p(r"[0-9]*")  # empty when the company prefix takes all the key's digits
_INT = _p(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class _Scheme:
    parts: tuple[_Part, ...]
    example: str
    key_digits: int | None = None  # company prefix + next part: exactly this many digits
    key_most: int | None = None  # company prefix + next part: at most this many characters
    company_prefix: bool = True


_ID_SCHEMES: dict[str, _Scheme] = {
    "sgtin": _Scheme((_PREFIX, _REF, _p(_GS3A3, 20)), "0614141.112345.400", key_digits=13),
    "sscc": _Scheme((_PREFIX, _REF), "0614141.1234567890", key_digits=17),
    "sgln": _Scheme((_PREFIX, _REF0, _p(_GS3A3, 20)), "0614141.12345.0", key_digits=12),
    "grai": _Scheme((_PREFIX, _REF0, _p(_GS3A3, 16)), "0614141.12345.400", key_digits=12),
    "giai": _Scheme((_PREFIX, _p(_GS3A3)), "0614141.12345400", key_most=30),
    "gsrn": _Scheme((_PREFIX, _REF), "0614141.1234567890", key_digits=17),
    "gsrnp": _Scheme((_PREFIX, _REF), "0614141.1234567890", key_digits=17),
    "gdti": _Scheme((_PREFIX, _REF0, _p(_GS3A3, 17)), "0614141.12345.400", key_digits=12),
    "cpi": _Scheme(
        (_PREFIX, _p(r"(?:[0-9A-Z\-]|%2[3Ff])+"), _p(r"[0-9]{1,12}")),
        "0614141.123ABC.123456789",
        key_most=30,
    ),
    "sgcn": _Scheme((_PREFIX, _REF0, _p(r"[0-9]{1,12}")), "4012345.67890.04711", key_digits=12),
    "ginc": _Scheme((_PREFIX, _p(_GS3A3)), "0614141.xyz47(11)", key_most=30),
    "gsin": _Scheme((_PREFIX, _REF), "0614141.123456789", key_digits=16),
    "itip": _Scheme(
        (_PREFIX, _REF, _p(r"[0-9]{2}"), _p(r"[0-9]{2}"), _p(_GS3A3, 20)),
        "4012345.012345.01.02.987",
        key_digits=13,
    ),
    "upui": _Scheme(
        (_PREFIX, _REF, _p(_GS3A3, 28)), "1234567.089456.51qIgY)%3C%26Jp3*j7'SDB", key_digits=13
    ),
    "pgln": _Scheme((_PREFIX, _REF0), "1234567.89012", key_digits=12),
    "gid": _Scheme((_INT, _INT, _INT), "95100000.12345.400", company_prefix=False),
    "bic": _Scheme((_p(r"[A-Z]{3}[JUZ][0-9]{7}"),), "CSQU3054383", company_prefix=False),
    "imovn": _Scheme((_p(r"[0-9]{7}"),), "9176187", company_prefix=False),
    "usdod": _Scheme((_p(r"[0-9A-HJ-NP-Z]{5,6}"), _INT), "2S194.12345678901", company_prefix=False),
    "adi": _Scheme(
        (
            _p(r"[0-9A-HJ-NP-Z]{5,6}"),
            _p(r"(?:[0-9A-Z\-]|%2[Ff])*"),
            _p(r"(?:%23)?(?:[0-9A-Z\-]|%2[Ff])+"),
        ),
        "W81X9C.3KL984PX1.2WMA52",
        company_prefix=False,
    ),
}
_CLASS_SCHEMES: dict[str, _Scheme] = {
    "lgtin": _Scheme((_PREFIX, _REF, _p(_GS3A3, 20)), "0614141.112345.ABC123", key_digits=13),
}
_NOT_PURE = {"tag", "raw", "pat"}


@dataclass(frozen=True, slots=True)
class EpcUri:
    """A checked EPC URI: `urn:epc:{kind}:{scheme}:{parts joined by dots}`."""

    kind: str  # "id", "class" or "idpat"
    scheme: str
    parts: tuple[str, ...]

    @property
    def level(self) -> Level:
        return Level.INSTANCE if self.kind == "id" else Level.CLASS

    def __str__(self) -> str:
        return f"urn:epc:{self.kind}:{self.scheme}:{'.'.join(self.parts)}"


def parse_epc_uri(uri: str) -> EpcUri:
    """Check an EPC URI part by part; InvalidIdentifier naming the first fault otherwise."""
    pieces = uri.split(":", 4)
    if len(pieces) != 5 or pieces[0] != "urn" or pieces[1] != "epc":
        raise InvalidIdentifier(f"{uri!r} is not an EPC URI (urn:epc:id:{{scheme}}:…)")
    _, _, kind, scheme, body = pieces
    if kind in _NOT_PURE:
        raise InvalidIdentifier(
            f"{uri!r} is an EPC {kind} URI; EPCIS names objects by pure identity (urn:epc:id:…)"
        )
    schemes = {"id": _ID_SCHEMES, "idpat": _ID_SCHEMES, "class": _CLASS_SCHEMES}.get(kind)
    if schemes is None:
        raise InvalidIdentifier(f"{uri!r}: unknown EPC URI kind {kind!r} (id, class or idpat)")
    spec = schemes.get(scheme)
    if spec is None:
        raise InvalidIdentifier(f"{uri!r}: unknown EPC scheme {scheme!r} for urn:epc:{kind}")
    parts = tuple(body.split(".", len(spec.parts) - 1))
    problem = _check_parts(spec, parts, pattern=kind == "idpat")
    if problem:
        raise InvalidIdentifier(
            f"{uri!r} is not a valid {scheme.upper()} EPC URI: {problem} "
            f"(for example urn:epc:{kind}:{scheme}:{spec.example})"
        )
    return EpcUri(kind, scheme, parts)


def _check_parts(spec: _Scheme, parts: tuple[str, ...], *, pattern: bool) -> str | None:
    """What is wrong with the parts of an EPC URI's body, or None."""
    if len(parts) != len(spec.parts):
        return f"it has {len(spec.parts)} parts separated by dots"
    fixed = len(parts)
    if pattern:  # a pattern fixes the leading parts and leaves the rest as `*`
        fixed = next((i for i, part in enumerate(parts) if part == "*"), len(parts))
        if any(part != "*" for part in parts[fixed:]):
            return "only trailing parts of a pattern may be *"
    for index in range(fixed):
        if not spec.parts[index].accepts(parts[index]):
            return f"part {index + 1} ({parts[index]!r}) is malformed or too long"
    if spec.company_prefix and fixed >= 2:
        key = len(parts[0]) + len(_ESCAPE.sub("_", parts[1]))
        if spec.key_digits is not None and key != spec.key_digits:
            return f"company prefix and reference have {key} digits, not {spec.key_digits}"
        if spec.key_most is not None and key > spec.key_most:
            return f"company prefix and reference are longer than {spec.key_most} characters"
    return None


# --- Any identifier ------------------------------------------------------------------------


def _digital_link_level(link: DigitalLink) -> Level:
    """A Digital Link names one object unless its key stops at a class (a GTIN without serial,
    a GRAI or GDTI or GCN without serial component, a CPID without serial, a model number)."""
    ai, value = link.primary
    qualifiers = {q for q, _ in link.qualifiers}
    is_class = (
        (ai in ("01", "8006") and "21" not in qualifiers)
        or (ai == "8003" and len(value) == 14)
        or (ai in ("253", "255") and len(value) == 13)
        or (ai == "8010" and "8011" not in qualifiers)
        or ai == "8013"
    )
    return Level.CLASS if is_class else Level.INSTANCE


def identifier_level(value: str) -> Level | None:
    """The level of a checked GS1 identifier, None for anyone's own URI; InvalidIdentifier for
    a malformed EPC URI, a malformed Digital Link at id.gs1.org, or what is not a URI at all."""
    if value[:8].lower() == "urn:epc:":
        return parse_epc_uri(value).level
    if not is_uri(value):
        raise InvalidIdentifier(f"{value!r} is not an absolute URI")
    if value[:8].lower() == "https://" or value[:7].lower() == "http://":
        try:
            return _digital_link_level(parse_digital_link(value))
        except InvalidDigitalLink as exc:
            if value.split("/", 3)[2].lower() == "id.gs1.org":
                raise InvalidIdentifier(
                    f"{value!r} is not a valid GS1 Digital Link: {exc}"
                ) from exc
    return None


def check_identifier(value: str, level: Level | None = None) -> str:
    """`value` if it is an identifier of the given level (any level when None)."""
    found = identifier_level(value)
    if level is None or found is None or found == level:
        return value
    if level is Level.INSTANCE:
        raise InvalidIdentifier(
            f"{value!r} names a class of objects, not one object: an EPC list takes instance "
            "identifiers such as urn:epc:id:sgtin:… or a Digital Link with a serial (/21/…)"
        )
    raise InvalidIdentifier(
        f"{value!r} names one object, not a class: an epcClass is such as "
        "urn:epc:class:lgtin:…, urn:epc:idpat:sgtin:….*, or https://id.gs1.org/01/{gtin}[/10/{lot}]"
    )


# --- SGTIN and LGTIN <-> Digital Link ------------------------------------------------------


def _escape(value: str, what: str) -> str:
    """A serial or lot as a GS3A3 part of an EPC URI."""
    if not 1 <= len(value) <= 20:
        raise InvalidIdentifier(f"a {what} has 1 to 20 characters")
    out = []
    for char in value:
        if char in _GS3A3_ESCAPED:
            out.append(f"%{ord(char):02X}")
        elif char in _GS3A3_CHARS:
            out.append(char)
        else:
            raise InvalidIdentifier(f"{char!r} cannot appear in a GS1 {what}")
    return "".join(out)


def _split_gtin(gtin: str, company_prefix_length: int) -> tuple[str, str]:
    """(company prefix, indicator + item reference) of a GTIN-14."""
    if len(gtin) in (8, 12, 13):
        gtin = gtin.zfill(14)
    if len(gtin) != 14 or not gtin.isascii() or not gtin.isdigit():
        raise InvalidIdentifier(f"{gtin!r} is not a GTIN")
    if check_digit(gtin[:-1]) != int(gtin[-1]):
        raise InvalidIdentifier(f"{gtin!r}: the GTIN check digit is wrong")
    if not 6 <= company_prefix_length <= 12:
        raise InvalidIdentifier("a GS1 company prefix in an EPC URI has 6 to 12 digits")
    end = 1 + company_prefix_length
    return gtin[1:end], gtin[0] + gtin[end:13]


def _gtin(prefix: str, reference: str) -> str:
    body = reference[0] + prefix + reference[1:]
    return body + str(check_digit(body))


def sgtin_uri(gtin: str, serial: str, company_prefix_length: int) -> str:
    """`urn:epc:id:sgtin:…` of a GTIN (8 to 14 digits) and serial number (AI 21)."""
    prefix, reference = _split_gtin(gtin, company_prefix_length)
    return f"urn:epc:id:sgtin:{prefix}.{reference}.{_escape(serial, 'serial number')}"


def lgtin_uri(gtin: str, lot: str, company_prefix_length: int) -> str:
    """`urn:epc:class:lgtin:…` of a GTIN and batch or lot number (AI 10)."""
    prefix, reference = _split_gtin(gtin, company_prefix_length)
    return f"urn:epc:class:lgtin:{prefix}.{reference}.{_escape(lot, 'lot number')}"


def _epc(uri: str, kind: str, scheme: str) -> EpcUri:
    epc = parse_epc_uri(uri)
    if (epc.kind, epc.scheme) != (kind, scheme):
        raise InvalidIdentifier(f"{uri!r} is not a urn:epc:{kind}:{scheme}: URI")
    return epc


def sgtin_to_digital_link(uri: str, base: str = GS1_RESOLVER) -> str:
    """`{base}/01/{gtin14}/21/{serial}` of an SGTIN EPC URI."""
    prefix, reference, serial = _epc(uri, "id", "sgtin").parts
    return f"{base}/01/{_gtin(prefix, reference)}/21/{quote(unquote(serial), safe='')}"


def lgtin_to_digital_link(uri: str, base: str = GS1_RESOLVER) -> str:
    """`{base}/01/{gtin14}/10/{lot}` of an LGTIN EPC class URI."""
    prefix, reference, lot = _epc(uri, "class", "lgtin").parts
    return f"{base}/01/{_gtin(prefix, reference)}/10/{quote(unquote(lot), safe='')}"


def _link(uri: str, qualifier: str) -> tuple[str, str]:
    """(GTIN-14, value of `qualifier`) of a Digital Link; InvalidIdentifier otherwise."""
    try:
        link = parse_digital_link(uri)
    except InvalidDigitalLink as exc:
        raise InvalidIdentifier(f"{uri!r} is not a valid GS1 Digital Link: {exc}") from exc
    value = link.value(qualifier)
    if link.gtin is None or value is None:
        raise InvalidIdentifier(f"{uri!r} does not hold a GTIN with AI ({qualifier})")
    return link.gtin, value


def digital_link_to_sgtin(uri: str, company_prefix_length: int) -> str:
    """The SGTIN EPC URI of a Digital Link `/01/{gtin}[/10/{lot}]/21/{serial}`. An SGTIN is
    the GTIN and serial only: a lot in the link is not part of it and is dropped."""
    gtin, serial = _link(uri, "21")
    return sgtin_uri(gtin, serial, company_prefix_length)


def digital_link_to_lgtin(uri: str, company_prefix_length: int) -> str:
    """The LGTIN EPC class URI of a Digital Link `/01/{gtin}/10/{lot}` (a serial is dropped)."""
    gtin, lot = _link(uri, "10")
    return lgtin_uri(gtin, lot, company_prefix_length)
