"""GS1 Digital Link compression: a whole Digital Link as one base64url path segment.

A compressed link (`https://id.gs1.org/AQnYUc1gmiCNV4JG` for `/01/05412345000013/10/ABC123`)
makes a smaller, sparser QR code, so labels print it; the resolver must read it back to the
same identifiers. The binary form is the one of the GS1 Digital Link standard (1.1, kept in the
URI syntax 1.2+) as GS1's reference implementation writes it (github.com/gs1/
GS1DigitalLinkCompressionPrototype, the same code inside GS1's Resolver CE). A run of elements:

- an AI, one 4-bit nibble a digit (its length fixed by its first two digits), then its value,
  part by part as the AI's format says: a fixed-length number in ceil(n·log2(10) + 0.01) bits;
  a variable-length number as its digit count in ceil(log2(max) + 0.01) bits, then the number;
  an alphanumeric part as a 3-bit encoding (000 digits as one number, 001 lower-case hex,
  010 upper-case hex, 011 base64url characters, 100 7-bit ASCII), the character count, then
  the characters at 4, 6 or 7 bits each;
- or an optimisation code, a byte whose nibbles are not both digits, standing for a fixed run
  of AIs whose values follow in order;
- or a non-GS1 query pair (`linkType=…`): nibble F, the key length in 7 bits, the key in 6-bit
  base64url characters, then the value as an alphanumeric part with a 7-bit count.

The bits are padded with zeros to a multiple of six and written in base64url, unpadded.

Supported: `decompress` reads all three kinds of element for the AIs in
`digital_link.AI_FORMATS` (their value formats come from there; 391n/393n are read as N3+N..15,
the currency code the table folds in) and checks the result with `digital_link.parse`, so check
digits, character sets, lengths and qualifier order are the parser's. The optimisation codes are
the reference implementation's table; no published vector uses them, so they are checked only
against a link built here. `compress` writes the non-optimised form, AIs in ascending order, as
the reference does (its published outputs are the test vectors), and non-GS1 pairs flagged F.

Not supported: partially compressed links (`/01/{gtin}/{compressed}`); a link with two primary
keys (the reference refuses them too); AIs outside `AI_FORMATS` (such as 410 or 7040), and so
optimisation codes that name them; non-GS1 pairs whose key is not base64url or whose key or
value is over 127 characters or not ASCII. Stricter than the reference: leading zeros of
numbers in variable-length parts are kept (the reference drops them), and padding must be fewer
than six zero bits. Pure module: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from urllib.parse import quote

from chinhhang.trace.digital_link import (
    AI_FORMATS,
    PRIMARY_KEYS,
    DigitalLink,
    InvalidDigitalLink,
    parse,
)

_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_BASE64URL_INDEX = {char: index for index, char in enumerate(_BASE64URL)}
_ASCII = "".join(chr(code) for code in range(128))
# Encoding indicator → (bits a character, alphabet); 0 (digits) is read as one number.
_ALPHABETS = {
    1: (4, "0123456789abcdef"),
    2: (4, "0123456789ABCDEF"),
    3: (6, _BASE64URL),
    4: (7, _ASCII),
}
_UPPER_HEX = re.compile(r"[0-9A-F]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")
_SAFE64 = re.compile(r"[A-Za-z0-9_-]+")
# The shortest link is (401) with one character (24 bits); past 2048 characters no QR code
# or URL handler will carry it, so such a segment is refused before any work.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]{4,2048}")
_MAX_SEGMENT = 2048
_NON_GS1_FLAG = 0xF
_NON_GS1_MOST = 127  # keys and values of non-GS1 pairs carry a 7-bit count
_ANY_HOST = "https://localhost"
# Every AI sharing its first two digits has the same length (the standard's table P).
_AI_LENGTH = {ai[:2]: len(ai) for ai in AI_FORMATS}
# The reference implementation's optimisation codes (its tableOpt): byte → the AIs it stands for.
_OPTIMISATIONS: dict[str, tuple[str, ...]] = {
    "0A": ("01", "22"), "0B": ("01", "10"), "0C": ("01", "21"), "0D": ("01", "17"),
    "0E": ("01", "7003"), "0F": ("01", "30"), "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"), "1C": ("01", "11"), "1D": ("01", "16"), "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
    **{f"2{'ABCDEF'[n]}": ("01", f"310{n}") for n in range(6)},
    **{f"3{'ABCDEF'[n]}": ("01", f"320{n}") for n in range(6)},
    "9A": ("8010", "8011"), "9B": ("8017", "8019"), "9C": ("8018", "8019"), "9D": ("414", "254"),
    **{f"A{n}": ("01", f"392{n}") for n in range(10)},
    **{f"C{n}": ("255", f"390{n}") for n in range(10)},
    **{f"C{'ABCD'[n]}": ("255", f"394{n}") for n in range(4)},
}  # fmt: skip


class InvalidCompressedLink(ValueError):
    """Not a compressed GS1 Digital Link this platform reads (or a link with no compressed
    form); the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece of an AI's value: exactly `size` digits when `fixed`, else up to `size`
    characters (digits only when `numeric`)."""

    size: int
    fixed: bool
    numeric: bool


def _parts(ai: str) -> tuple[_Part, ...]:
    if ai[:3] in ("391", "393"):  # ISO 4217 currency code, then the amount
        return (_Part(3, fixed=True, numeric=True), _Part(15, fixed=False, numeric=True))
    fmt = AI_FORMATS[ai]
    parts = [_Part(fmt.digits, fixed=True, numeric=True)] if fmt.digits else []
    if fmt.rest:
        parts.append(_Part(fmt.rest, fixed=False, numeric=fmt.numeric_rest))
    return tuple(parts)


def _value_bits(digits: int) -> int:
    """The reference's count, floating point and 0.01 included: it fixes where values end."""
    return math.ceil(digits * math.log(10) / math.log(2) + 0.01)


def _length_bits(most: int) -> int:
    return math.ceil(math.log(most) / math.log(2) + 0.01)


# Decoding


class _Reader:
    """A cursor over the bit string; running out of bits is the usual sign of a bad link."""

    def __init__(self, bits: str) -> None:
        self.bits = bits
        self.at = 0

    @property
    def left(self) -> int:
        return len(self.bits) - self.at

    def take(self, count: int, what: str) -> int:
        if count > self.left:
            raise InvalidCompressedLink(f"the data ends inside {what} (truncated?)")
        chunk = self.bits[self.at : self.at + count]
        self.at += count
        return int(chunk, 2) if chunk else 0


def _read_digits(reader: _Reader, count: int, what: str) -> str:
    number = reader.take(_value_bits(count), what)
    if number >= 10**count:
        raise InvalidCompressedLink(f"{what} holds a number longer than its {count} digits")
    return str(number).zfill(count) if count else ""


def _read_text(reader: _Reader, encoding: int, count: int, what: str) -> str:
    if encoding == 0:
        return _read_digits(reader, count, what)
    if encoding not in _ALPHABETS:
        raise InvalidCompressedLink(f"{what} has encoding indicator {encoding}, which is undefined")
    width, alphabet = _ALPHABETS[encoding]
    return "".join(alphabet[reader.take(width, what)] for _ in range(count))


def _read_value(reader: _Reader, ai: str) -> str:
    if ai not in AI_FORMATS:
        raise InvalidCompressedLink(f"({ai}) is not an Application Identifier this platform reads")
    what = f"the value of ({ai})"
    value = []
    for part in _parts(ai):
        if part.fixed:
            value.append(_read_digits(reader, part.size, what))
            continue
        encoding = 0 if part.numeric else reader.take(3, f"the encoding of ({ai})")
        count = reader.take(_length_bits(part.size), f"the length of ({ai})")
        if count > part.size:
            raise InvalidCompressedLink(f"({ai}) says {count} characters; it allows {part.size}")
        value.append(_read_text(reader, encoding, count, what))
    return "".join(value)


def _read_ai(reader: _Reader, head: str) -> str:
    length = _AI_LENGTH.get(head)
    if length is None:
        raise InvalidCompressedLink(f"no Application Identifier this platform reads starts {head}")
    ai = head
    while len(ai) < length:
        digit = reader.take(4, f"AI ({ai}…)")
        if digit > 9:
            raise InvalidCompressedLink(f"AI ({ai}…) continues with a nibble that is not a digit")
        ai += str(digit)
    return ai


def _read_non_gs1(reader: _Reader, low: int) -> tuple[str, str]:
    size = low << 3 | reader.take(3, "the length of a query key")
    key = "".join(_BASE64URL[reader.take(6, "a query key")] for _ in range(size))
    if not key or key.isdigit():
        raise InvalidCompressedLink(f"non-GS1 query key {key!r} is empty or would read as an AI")
    encoding = reader.take(3, f"the encoding of {key}")
    count = reader.take(7, f"the length of {key}")
    return key, _read_text(reader, encoding, count, f"the value of {key}")


def _read_elements(reader: _Reader) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(AI pairs, non-GS1 pairs) in stream order, up to the padding."""
    pairs: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    while reader.left >= 6:  # padding is under six bits: anything longer is an element
        high, low = reader.take(4, "an AI"), reader.take(4, "an AI")
        code = f"{high:X}{low:X}"
        if high <= 9 and low <= 9:
            ai = _read_ai(reader, code)
            pairs.append((ai, _read_value(reader, ai)))
        elif high == _NON_GS1_FLAG:
            extra.append(_read_non_gs1(reader, low))
        elif code in _OPTIMISATIONS:
            pairs.extend((ai, _read_value(reader, ai)) for ai in _OPTIMISATIONS[code])
        else:
            raise InvalidCompressedLink(f"{code} is neither an AI nor a defined optimisation code")
    if "1" in reader.bits[reader.at :]:
        raise InvalidCompressedLink("the padding bits at the end are not zero")
    return pairs, extra


def _arrange(pairs: list[tuple[str, str]]) -> DigitalLink:
    """The link the pairs make: the one primary key, the qualifiers it allows in their order,
    the other AIs as attributes in ascending order (so any element order reads the same)."""
    values = dict(pairs)
    if len(values) != len(pairs):
        twice = next(ai for ai, _ in pairs if [a for a, _ in pairs].count(ai) > 1)
        raise InvalidCompressedLink(f"AI ({twice}) appears twice")
    keys = [ai for ai in values if ai in PRIMARY_KEYS]
    if len(keys) != 1:
        named = ", ".join(f"({ai})" for ai in keys) or "none"
        raise InvalidCompressedLink(f"a Digital Link has one primary key; this has {named}")
    primary = keys[0]
    allowed = {ai for sequence in PRIMARY_KEYS[primary] for ai in sequence}
    present = {ai for ai in values if ai in allowed}
    sequence = next((s for s in PRIMARY_KEYS[primary] if present <= set(s)), None)
    if sequence is None:
        named = ", ".join(f"({ai})" for ai in sorted(present))
        raise InvalidCompressedLink(f"key qualifiers {named} cannot go together after ({primary})")
    in_path = present | {primary}
    return DigitalLink(
        stem="",
        primary=(primary, values[primary]),
        qualifiers=tuple((ai, values[ai]) for ai in sequence if ai in present),
        attributes=tuple(sorted((ai, v) for ai, v in values.items() if ai not in in_path)),
    )


def _render(link: DigitalLink) -> str:
    query = [f"{key}={quote(value, safe='')}" for key, value in (*link.attributes, *link.extra)]
    return link.canonical_path() + ("?" + "&".join(query) if query else "")


def _segment_bits(segment: str) -> str:
    if not segment:
        raise InvalidCompressedLink("the compressed segment is empty")
    if len(segment) > _MAX_SEGMENT:
        raise InvalidCompressedLink(f"the segment is over {_MAX_SEGMENT} characters")
    bad = next((char for char in segment if char not in _BASE64URL_INDEX), None)
    if bad is not None:
        raise InvalidCompressedLink(f"{bad!r} is not a base64url character")
    return "".join(f"{_BASE64URL_INDEX[char]:06b}" for char in segment)


def decompress(segment: str) -> str:
    """The uncompressed path and query (`/01/…/10/…?17=…`) of a compressed segment, values
    percent-encoded; InvalidCompressedLink with the reason for anything else."""
    pairs, extra = _read_elements(_Reader(_segment_bits(segment)))
    uncompressed = _render(replace(_arrange(pairs), extra=tuple(extra)))
    try:
        parse(_ANY_HOST + uncompressed)
    except InvalidDigitalLink as exc:
        raise InvalidCompressedLink(f"the compressed data is not a valid link: {exc}") from exc
    return uncompressed


def looks_compressed(segment: str) -> bool:
    """Whether a path segment is worth decompressing: base64url only, of a plausible length."""
    return _SEGMENT.fullmatch(segment) is not None


# Encoding


def _number_bits(digits: str) -> str:
    return format(int(digits or "0"), f"0{_value_bits(len(digits))}b")


def _encoding_of(text: str) -> int:
    """The reference's choice: the narrowest encoding whose alphabet holds every character."""
    if text.isascii() and text.isdigit():
        return 0
    for encoding, pattern in ((2, _UPPER_HEX), (1, _LOWER_HEX), (3, _SAFE64)):
        if pattern.fullmatch(text):
            return encoding
    return 4


def _text_bits(text: str, count_bits: int) -> str:
    encoding = _encoding_of(text)
    head = f"{encoding:03b}{len(text):0{count_bits}b}"
    if encoding == 0:
        return head + _number_bits(text)
    width, alphabet = _ALPHABETS[encoding]
    return head + "".join(f"{alphabet.index(char):0{width}b}" for char in text)


def _element_bits(ai: str, value: str) -> str:
    bits = [f"{int(digit):04b}" for digit in ai]
    rest = value
    for part in _parts(ai):
        if part.fixed:
            piece, rest = rest[: part.size], rest[part.size :]
            if len(piece) != part.size:
                raise InvalidCompressedLink(f"({ai}) {value!r} lacks its first {part.size} digits")
            bits.append(_number_bits(piece))
        elif part.numeric:
            bits.append(f"{len(rest):0{_length_bits(part.size)}b}" + _number_bits(rest))
        else:
            bits.append(_text_bits(rest, _length_bits(part.size)))
    return "".join(bits)


def _non_gs1_bits(key: str, value: str) -> str:
    if not _SAFE64.fullmatch(key) or len(key) > _NON_GS1_MOST:
        raise InvalidCompressedLink(f"query key {key!r} cannot be compressed: base64url, ≤127")
    if not value.isascii() or len(value) > _NON_GS1_MOST:
        raise InvalidCompressedLink(f"the value of {key} cannot be compressed: ASCII, ≤127")
    key_bits = "".join(f"{_BASE64URL_INDEX[char]:06b}" for char in key)
    return f"{_NON_GS1_FLAG:04b}{len(key):07b}{key_bits}" + _text_bits(value, 7)


def _to_base64url(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(_BASE64URL[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def compress(uri_or_path: str) -> str:
    """The compressed segment of a Digital Link URI (or of its path and query); the stem is the
    caller's. InvalidDigitalLink if it is not a Digital Link, InvalidCompressedLink if it has
    no compressed form that reads back to the same link."""
    link = parse(_ANY_HOST + uri_or_path if uri_or_path.startswith("/") else uri_or_path)
    if _arrange(list(link.elements)).qualifiers != link.qualifiers:
        raise InvalidCompressedLink(
            "a key qualifier of the primary key is in the query; compressed, it would come back "
            "in the path"
        )
    bits = "".join(_element_bits(ai, value) for ai, value in sorted(link.elements))
    bits += "".join(_non_gs1_bits(key, value) for key, value in link.extra)
    return _to_base64url(bits)
