"""GS1 Digital Link URIs (URI syntax 1.6): parse, check, and turn into a GS1 element string.

A Digital Link is `scheme://host[/stem]/{primary key AI}/{value}[/{qualifier AI}/{value}…]` with
optional data attributes in the query (`?17=261231&3103=000195`). The path is read from its end:
pairs of (AI, value) are taken while the AI is a key qualifier, until a primary key; whatever is
in front of it is the stem (a resolver may live under a path). Then the qualifiers must come in
the order the primary key allows, every value must match its AI's format (check digits and
the dates of AIs 11-17 included), and the query's AIs must be data attributes, each at most once.

Non-numeric query keys (`linkType`, `context`, a campaign tag) are not GS1 data and pass through.
Tests run this parser over the GS1 syntax engine's own parse cases (../shared/standards).
Pure module: no I/O (the clock is read for one thing only: which century a date's YY is in).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, unquote_plus

from chinhhang.catalog.gtin import check_digit
from chinhhang.i18n import N_

_SCHEMES = ("http://", "https://", "HTTP://", "HTTPS://")
# Labels joined by single dots, a final dot allowed. Written so that each character has one
# way to match: `(?:[A-Za-z0-9-]+\.?)+` said the same, but tried every way of splitting a run of
# letters into labels before refusing it, so a host of 30 letters and a "!" took a minute.
_HOST = re.compile(
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?"
)
_FORBIDDEN = re.compile(r"[\x00-\x20<>{}\\^`\"|\x7f]")
# GS1 "CSET 82": the characters a GS1 alphanumeric value may hold.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
_DIGITS = re.compile(r"[0-9]*")
# GS1 AI encodable character set 39, of component/part identifiers (AI 8010).
_CSET39 = re.compile(r"[#\-/0-9A-Z]*")


@dataclass(frozen=True, slots=True)
class AiFormat:
    """An AI's value: `digits` leading digits (the last a check digit when `check`), then up to
    `rest` more characters, digits only when `numeric_rest`."""

    digits: int = 0
    rest: int = 0
    check: bool = False
    numeric_rest: bool = False
    cset39: bool = False
    # The digits are a GS1 date, YYMMDD or YYMM00 (the Syntax Dictionary's "yymmd0").
    date: bool = False

    def accepts(self, value: str) -> bool:
        head, tail = value[: self.digits], value[self.digits :]
        if len(head) != self.digits or not _DIGITS.fullmatch(head) or len(tail) > self.rest:
            return False
        if self.check and head[-1] != str(check_digit(head[:-1])):
            return False
        if self.date and not is_gs1_date(head):
            return False
        if self.digits == 0 and not tail:
            return False
        charset = _DIGITS if self.numeric_rest else _CSET39 if self.cset39 else _CSET82
        return bool(charset.fullmatch(tail))


def _n(length: int, check: bool = False) -> AiFormat:
    return AiFormat(digits=length, check=check)


def _x(most: int) -> AiFormat:
    return AiFormat(rest=most)


def _n_upto(most: int) -> AiFormat:
    return AiFormat(rest=most, numeric_rest=True)


def _yymmd0() -> AiFormat:
    return AiFormat(digits=6, date=True)


def full_year(yy: int, this_year: int) -> int:
    """The year a two-digit YY stands for (GS1 General Specifications 7.12, "Determination of
    century in dates"): in this century, unless that puts it 51 or more years ahead (then the
    century before) or 50 or more behind (the century after)."""
    century, current = divmod(this_year, 100)
    if yy - current >= 51:
        century -= 1
    elif yy - current <= -50:
        century += 1
    return century * 100 + yy


def is_gs1_date(digits: str, this_year: int | None = None) -> bool:
    """Whether six digits are a GS1 date: YYMMDD naming a real day (29 February only in a
    leap year), or YYMM00, the day left out. The GS1 Barcode Syntax Dictionary gives all six
    date AIs (11 production, 12 due, 13 packaging, 15 best before, 16 sell by, 17 expiry) the
    linter `yymmd0`, which allows DD = 00; for best before and expiry the General
    Specifications read it as the end of the month, for the others as "day not given"."""
    yy, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if not 1 <= month <= 12:
        return False
    year = full_year(yy, datetime.now(UTC).year if this_year is None else this_year)
    return day == 0 or day <= calendar.monthrange(year, month)[1]


# The AIs this platform reads. An AI not listed is unknown: a Digital Link naming one is refused.
AI_FORMATS: dict[str, AiFormat] = {
    "00": _n(18, check=True),
    "01": _n(14, check=True),
    "02": _n(14, check=True),
    "10": _x(20),
    "11": _yymmd0(),
    "12": _yymmd0(),
    "13": _yymmd0(),
    "15": _yymmd0(),
    "16": _yymmd0(),
    "17": _yymmd0(),
    "20": _n(2),
    "21": _x(20),
    "22": _x(20),
    "235": _x(28),
    "240": _x(30),
    "241": _x(30),
    "253": AiFormat(digits=13, rest=17, check=True),
    "254": _x(20),
    "255": AiFormat(digits=13, rest=12, check=True, numeric_rest=True),
    "30": _n_upto(8),
    "37": _n_upto(8),
    "400": _x(30),
    "401": _x(30),
    "402": _n(17, check=True),
    "414": _n(13, check=True),
    "415": _n(13, check=True),
    "417": _n(13, check=True),
    "422": _n(3),
    "7003": _n(10),
    # Unit of issue control (UIC) with extension: one digit, then up to three characters.
    "7040": AiFormat(digits=1, rest=3),
    "8003": AiFormat(digits=14, rest=16, check=True),
    "8004": _x(30),
    "8006": AiFormat(digits=18),
    "8010": AiFormat(rest=30, cset39=True),
    "8011": _n_upto(12),
    "8013": _x(25),
    "8017": _n(18, check=True),
    "8018": _n(18, check=True),
    "8019": _n_upto(10),
    "8020": _x(25),
    "90": _x(30),
    **{f"9{n}": _x(90) for n in range(1, 10)},
    # Measures (310n-369n): six digits, n the decimal places.
    **{f"3{a}{b}{n}": _n(6) for a in range(1, 7) for b in range(10) for n in range(6)},
    # Amounts (390n-393n): a variable number of digits.
    **{f"39{b}{n}": _n_upto(15) for b in range(4) for n in range(10)},
}

# Primary keys and the key qualifiers each may carry in the path, as the alternative sequences
# the standard lists (each qualifier optional, their order fixed).
PRIMARY_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "01": (("22", "10", "21"), ("235",)),
    "00": ((),),
    "253": ((),),
    "255": ((),),
    "401": ((),),
    "402": ((),),
    "414": (("254",), ("7040",)),
    "415": (("8020",),),
    "417": (("7040",),),
    "8003": ((),),
    "8004": ((),),
    "8006": (("22", "10", "21"),),
    "8010": (("8011",),),
    "8013": ((),),
    "8017": (("8019",),),
    "8018": (("8019",),),
}
_QUALIFIERS = frozenset(q for seqs in PRIMARY_KEYS.values() for seq in seqs for q in seq)
# The short names Digital Link 1.0 allowed in place of AIs ("convenience alphas"); still read.
ALPHAS = {
    "gtin": "01", "itip": "8006", "cpv": "22", "lot": "10", "ser": "21", "sscc": "00",
    "gln": "414", "glnx": "254", "party": "417", "gsrn": "8018", "srin": "8019",
    "gdti": "253", "ginc": "401", "gsin": "402", "giai": "8004", "grai": "8003",
    "cpid": "8010", "cpsn": "8011", "gcn": "255", "gmn": "8013", "gsrnp": "8017",
    "tpx": "235",
}  # fmt: skip
# AIs whose length the GS1 system fixes by their first two digits: no FNC1 after them.
_PREDEFINED_LENGTH = frozenset(
    {"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"}
    | {"31", "32", "33", "34", "35", "36", "41"}
)
_GTIN_LENGTHS = (8, 12, 13, 14)


NOT_A_DIGITAL_LINK = N_("This is not a GS1 Digital Link address.")


class InvalidDigitalLink(ValueError):
    """Not a GS1 Digital Link URI this platform accepts.

    `str()` is the technical reason in English (for logs and programs); `message` and
    `values` say it to the person who scanned the code, as a catalogue message id with its
    placeholders, the shape of errors.DomainError, so a resolver can answer in their language.
    """

    def __init__(self, detail: str, message: str = NOT_A_DIGITAL_LINK, **values: object) -> None:
        super().__init__(detail)
        self.message = message
        self.values = values


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A parsed Digital Link: the identifying path and the data attributes, values decoded."""

    stem: str
    primary: tuple[str, str]
    qualifiers: tuple[tuple[str, str], ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    # Non-GS1 query pairs (linkType, context, …), passed through to link targets.
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        return (self.primary, *self.qualifiers, *self.attributes)

    def value(self, ai: str) -> str | None:
        return next((value for key, value in self.elements if key == ai), None)

    @property
    def gtin(self) -> str | None:
        return self.primary[1] if self.primary[0] == "01" else None

    def element_string(self) -> str:
        """The GS1 element string, `^` standing for FNC1: first, and after every value whose
        length its AI does not fix, unless it is the last."""
        out = ["^"]
        elements = self.elements
        for index, (ai, value) in enumerate(elements):
            out.append(ai + value)
            if ai[:2] not in _PREDEFINED_LENGTH and index < len(elements) - 1:
                out.append("^")
        return "".join(out)

    def canonical_path(self) -> str:
        """`/01/{gtin14}[/22/…][/10/…][/21/…]`, the path a resolver answers for."""
        return "".join(f"/{ai}/{_quote(value)}" for ai, value in (self.primary, *self.qualifiers))


def _quote(value: str) -> str:
    return quote(value, safe="")


def _format_reason(ai: str, value: str) -> str:
    """What a person should hear about a value not in its AI's format: the catalogue's own
    words for GTINs and lots (the ones the product pages always used), else the AI's name."""
    if ai in ("01", "02"):
        if not value.isascii() or not value.isdigit():
            return N_("A GTIN has digits only.")
        if len(value) not in _GTIN_LENGTHS:
            return N_("A GTIN has 8, 12, 13 or 14 digits.")
        return N_("The GTIN check digit is wrong; check the number for a typing error.")
    if ai == "10":
        return N_("A lot number has 1 to 20 letters, digits or symbols.")
    return N_("The value of GS1 Application Identifier (%(ai)s) is not in its format.")


def _check_value(ai: str, value: str) -> str:
    """The value, canonical (a GTIN-8/12/13 padded to 14 digits), or InvalidDigitalLink."""
    if not value:
        raise InvalidDigitalLink(
            f"AI ({ai}) has no value",
            N_("GS1 Application Identifier (%(ai)s) has no value."),
            ai=ai,
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidDigitalLink(
            f"AI ({ai}) holds a control character",
            N_("%(field)s contains characters that are not allowed."),
            field=f"({ai})",
        )
    if ai in ("01", "02") and value.isdigit() and len(value) in _GTIN_LENGTHS:
        value = value.zfill(14)
    if not AI_FORMATS[ai].accepts(value):
        raise InvalidDigitalLink(
            f"AI ({ai}) value {value!r} is not in its format", _format_reason(ai, value), ai=ai
        )
    return value


def _split_authority(rest: str) -> tuple[str, str]:
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if not authority or not _HOST.fullmatch(authority):
        raise InvalidDigitalLink("the host is missing or malformed")
    return authority, path


def _path_pairs(path: str) -> tuple[str, list[tuple[str, str]]]:
    """(stem, [(primary AI, value), (qualifier AI, value), …]) read from the path's end."""
    segments = path.split("/")[1:]
    if not segments or any(segment == "" for segment in segments):
        raise InvalidDigitalLink(
            "the path has an empty segment (or a trailing slash)",
            N_("The address has an empty part: two slashes in a row, or nothing after a slash."),
        )
    pairs: list[tuple[str, str]] = []
    end = len(segments)
    while end >= 2:
        ai, value = segments[end - 2], unquote(segments[end - 1])
        ai = ALPHAS.get(ai, ai)
        if ai in PRIMARY_KEYS:
            pairs.insert(0, (ai, value))
            return "/" + "/".join(segments[: end - 2]) if end > 2 else "", pairs
        if ai not in _QUALIFIERS:
            break
        pairs.insert(0, (ai, value))
        end -= 2
    last = ALPHAS.get(segments[-1], segments[-1])
    if last in PRIMARY_KEYS or last in _QUALIFIERS:
        # `/01/{gtin}/10`: the key is there, the lot is not; say so, not "no key".
        raise InvalidDigitalLink(
            f"AI ({last}) has no value",
            N_("GS1 Application Identifier (%(ai)s) has no value."),
            ai=last,
        )
    raise InvalidDigitalLink(
        "the path names no GS1 primary key (such as /01/ for a GTIN)",
        N_("The address names no GS1 key, such as /01/ followed by a GTIN."),
    )


def _qualifier_sequence(primary: str, qualifiers: list[str]) -> tuple[str, ...]:
    """The allowed sequence the path's qualifiers follow, in order; InvalidDigitalLink if none."""
    for sequence in PRIMARY_KEYS[primary]:
        position = 0
        for ai in qualifiers:
            if ai not in sequence[position:]:
                break
            position = sequence.index(ai, position) + 1
        else:
            if not qualifiers or set(qualifiers) <= set(sequence):
                return sequence
    raise InvalidDigitalLink(
        f"key qualifiers {'/'.join(qualifiers)} are not allowed after ({primary}) in this order",
        N_("After (%(primary)s), %(found)s may not come in this order (the order is %(order)s)."),
        primary=primary,
        found="/".join(qualifiers),
        order=" or ".join("/".join(seq) for seq in PRIMARY_KEYS[primary] if seq) or "-",
    )


def _query_pairs(query: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    attributes: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item or "=" not in item:
            continue  # empty pieces and bare flags carry no data
        key, raw = item.split("=", 1)
        if key.isdigit():
            if key not in AI_FORMATS:
                raise InvalidDigitalLink(
                    f"({key}) is not a GS1 Application Identifier",
                    N_("(%(ai)s) is not a GS1 Application Identifier."),
                    ai=key[:8],
                )
            attributes.append((key, unquote_plus(raw)))
        else:
            extra.append((unquote_plus(key), unquote_plus(raw)))
    return attributes, extra


def parse(uri: str) -> DigitalLink:
    """Parse a Digital Link URI; InvalidDigitalLink with the reason otherwise."""
    if not uri.startswith(_SCHEMES):
        raise InvalidDigitalLink("a Digital Link starts with http:// or https://")
    if _FORBIDDEN.search(uri):
        raise InvalidDigitalLink("the URI holds a character URIs may not contain")
    body = uri.split("#", 1)[0]
    body, _, query = body.partition("?")
    _, path = _split_authority(body.split("://", 1)[1])
    stem, pairs = _path_pairs(path)
    (primary, _), *rest = pairs
    sequence = _qualifier_sequence(primary, [ai for ai, _ in rest])
    elements = [(ai, _check_value(ai, value)) for ai, value in pairs]
    attributes, extra = _query_pairs(query)
    seen = {ai for ai, _ in elements}
    checked: list[tuple[str, str]] = []
    for ai, value in attributes:
        if ai in seen:
            raise InvalidDigitalLink(
                f"AI ({ai}) appears twice",
                N_("GS1 Application Identifier (%(ai)s) appears twice."),
                ai=ai,
            )
        if ai == primary or ai in sequence:
            raise InvalidDigitalLink(
                f"AI ({ai}) identifies; it belongs in the path, not the query",
                N_("GS1 Application Identifier (%(ai)s) belongs in the path, not in the query."),
                ai=ai,
            )
        seen.add(ai)
        checked.append((ai, _check_value(ai, value)))
    return DigitalLink(
        stem=stem,
        primary=(primary, elements[0][1]),
        qualifiers=tuple(elements[1:]),
        attributes=tuple(checked),
        extra=tuple(extra),
    )
