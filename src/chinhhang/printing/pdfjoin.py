"""Stream many small PDFs into one, page after page, in flat memory.

reportlab builds a whole document in memory before it writes a byte, so a run of a million
labels cannot be one reportlab document. printing/sheets.py renders batches of a few pages
each; this module copies each batch's objects into one output file as it arrives, renumbered,
each batch's pages under a node of their own, hung on a page tree written at the end. Only the
object offsets (8 bytes each) are kept until then.

It reads only what reportlab writes (a classic cross-reference table, no object streams,
no incremental updates): it is not a general PDF merger and refuses anything else.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_XREF_AT = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_REFERENCE = re.compile(rb"(\d+) 0 R\b")
_ROOT = re.compile(rb"/Root (\d+) 0 R")
_INFO = re.compile(rb"/Info (\d+) 0 R")
_PAGES = re.compile(rb"/Pages (\d+) 0 R")
_OUTLINES = re.compile(rb"/Outlines (\d+) 0 R")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_OBJECT_HEAD = re.compile(rb"\d+ 0 obj\s*")

CATALOG, PAGES, INFO = 1, 2, 3


class NotReportLabPdf(ValueError):
    """A batch is not in the simple form this joiner reads."""


def _objects(pdf: bytes) -> tuple[dict[int, bytes], bytes]:
    """Object bodies (between `N 0 obj` and `endobj`) by number, and the trailer."""
    found = _XREF_AT.search(pdf)
    if not found or not pdf.startswith(b"xref", int(found.group(1))):
        raise NotReportLabPdf("no classic cross-reference table")
    xref_at = int(found.group(1))
    header_end = pdf.index(b"\n", pdf.index(b"\n", xref_at) + 1) + 1
    first, count = (int(v) for v in pdf[pdf.index(b"\n", xref_at) + 1 : header_end].split())
    trailer_at = pdf.index(b"trailer", header_end)
    entries = _XREF_ENTRY.findall(pdf, header_end, trailer_at)
    if len(entries) != count:
        raise NotReportLabPdf("cross-reference table is not one section")
    offsets = {first + i: int(off) for i, (off, _, kind) in enumerate(entries) if kind == b"n"}
    ordered = sorted(offsets.items(), key=lambda item: item[1])
    bodies: dict[int, bytes] = {}
    ends = [offset for _, offset in ordered[1:]] + [xref_at]
    for (number, start), end in zip(ordered, ends, strict=True):
        chunk = pdf[start:end]
        head = _OBJECT_HEAD.match(chunk)
        stop = chunk.rfind(b"endobj")
        if head is None or stop < 0:
            raise NotReportLabPdf(f"object {number} is malformed")
        bodies[number] = chunk[head.end() : stop].rstrip()
    return bodies, pdf[trailer_at:]


def _number(pattern: re.Pattern[bytes], text: bytes) -> int:
    found = pattern.search(text)
    if found is None:
        raise NotReportLabPdf(f"missing {pattern.pattern!r}")
    return int(found.group(1))


def _renumber(body: bytes, numbers: dict[int, int]) -> bytes:
    """Rewrite references in the dictionary part only: stream data is binary and left alone."""
    split = body.find(b"\nstream")
    head, tail = (body, b"") if split < 0 else (body[:split], body[split:])
    head = _REFERENCE.sub(lambda m: b"%d 0 R" % numbers[int(m.group(1))], head)
    return head + tail


@dataclass
class _Group:
    """A node of the page tree holding up to GROUP batches' page nodes."""

    number: int
    batches: array[int] = field(default_factory=lambda: array("Q"))
    pages: int = 0


# Page-tree fan-out. PDF readers (and PDF/A) cap an array at 8,191 entries, so the pages hang
# root -> groups of up to 4,096 batches -> a batch's own node (at most ~520 pages).
GROUP = 4096


class PdfJoiner:
    """Feed it batches with `add`; it returns the bytes to append to the output."""

    def __init__(self, title: str = "") -> None:
        self.offsets = array("Q", [0, 0, 0, 0])  # by object number; 0 is the free head
        self.groups: list[_Group] = []
        header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        self.position = len(header)
        plain = "".join(c for c in title if (c.isascii() and c.isalnum()) or c in " -.#")
        self._start = (
            header
            + self._object(CATALOG, b"<< /Type /Catalog /Pages 2 0 R >>")
            + self._object(INFO, b"<< /Producer (Chinh Hang) /Title (%s) >>" % plain.encode())
        )

    def _object(self, number: int, body: bytes) -> bytes:
        if number == len(self.offsets):
            self.offsets.append(0)
        data = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        self.offsets[number] = self.position
        self.position += len(data)
        return data

    def _group(self) -> _Group:
        """The group the next batch hangs on; a new one (its number reserved now, its object
        written at the end) when the last is full."""
        if not self.groups or len(self.groups[-1].batches) == GROUP:
            self.groups.append(_Group(len(self.offsets)))
            self.offsets.append(0)
        return self.groups[-1]

    def begin(self) -> bytes:
        """The file header, the catalog and the info dictionary."""
        return self._start

    def add(self, pdf: bytes) -> bytes:
        bodies, trailer = _objects(pdf)
        root = _number(_ROOT, trailer)
        pages = _number(_PAGES, bodies[root])
        skip = {root, _number(_INFO, trailer)}
        if (outlines := _OUTLINES.search(bodies[root])) is not None:
            skip.add(int(outlines.group(1)))
        group = self._group()
        copied = [number for number in sorted(bodies) if number not in skip]
        numbers = {old: len(self.offsets) + i for i, old in enumerate(copied)}
        listed = _KIDS.search(bodies[pages])
        if listed is None:
            raise NotReportLabPdf("the page tree lists no pages")
        kids = [numbers[int(n)] for n in _REFERENCE.findall(listed.group(1))]
        out = []
        for number in copied:
            if number == pages:  # the batch's page node, hung on its group
                body = b"<< /Type /Pages /Parent %d 0 R /Count %d /Kids [%s] >>" % (
                    group.number,
                    len(kids),
                    _references(kids),
                )
            else:
                body = _renumber(bodies[number], numbers)
            out.append(self._object(numbers[number], body))
        group.batches.append(numbers[pages])
        group.pages += len(kids)
        return b"".join(out)

    def finish(self) -> bytes:
        out = [
            self._object(
                group.number,
                b"<< /Type /Pages /Parent 2 0 R /Count %d /Kids [%s] >>"
                % (group.pages, _references(group.batches)),
            )
            for group in self.groups
        ]
        total = sum(group.pages for group in self.groups)
        groups = _references([group.number for group in self.groups])
        out.append(
            self._object(PAGES, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (total, groups))
        )
        xref_at = self.position
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets)]
        lines.extend(b"%010d 00000 n \n" % offset for offset in self.offsets[1:])
        trailer = b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(self.offsets),
            xref_at,
        )
        return b"".join(out) + b"".join(lines) + trailer


def _references(numbers: Iterable[int]) -> bytes:
    return b" ".join(b"%d 0 R" % number for number in numbers)


def join(batches: Iterable[bytes], title: str = "") -> Iterator[bytes]:
    """The header goes out with the first batch, not before it: a stream that fails while
    drawing its first page fails before its first byte, so an HTTP answer is still an error
    rather than a broken download."""
    joiner = PdfJoiner(title)
    head = joiner.begin()
    for batch in batches:
        yield head + joiner.add(batch)
        head = b""
    yield head + joiner.finish()
