"""Joining reportlab batches into one PDF: valid cross-references, every page, in order."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from itertools import islice

import pypdfium2
import pytest

from chinhhang.printing import pdfjoin
from chinhhang.printing.exports import csv_chunks, labels_of, pdf_chunks, zip_chunks
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.pdfjoin import NotReportLabPdf, PdfJoiner, join
from chinhhang.printing.sheets import render_batch
from chinhhang.stamps.serials import grouped, serial_for

pytestmark = pytest.mark.usefixtures("label_font")


def labels(first: int, count: int) -> list[tuple[str, str]]:
    return [(serial_for(i), f"HTTP://X.VN/V/{i:024d}") for i in range(first, first + count)]


def check_cross_references(pdf: bytes) -> int:
    """Every xref entry points at its own object header; returns the object count."""
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[start : start + 5] == b"xref\n"
    lines = pdf[start:].split(b"\n")
    size = int(lines[1].split()[1])
    for number in range(1, size):
        offset = int(lines[2 + number][:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number), number
    return size


def test_batches_become_one_document_with_every_page_in_order() -> None:
    options = PrintOptions(template="a4-24", caption="Phở bò")
    batches = [render_batch(labels(1, 48), options), render_batch(labels(49, 30), options)]
    pdf = b"".join(join(batches, "Run 7"))
    check_cross_references(pdf)
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 4
    texts = [document[i].get_textpage().get_text_range() for i in range(4)]
    assert "0000 0000 0013" in texts[0].replace("\r", "")  # serial 1 on page 1
    last = serial_for(78)
    assert " ".join(last[i : i + 4] for i in (0, 4, 8)) in texts[3]


def test_anything_but_a_reportlab_batch_is_refused() -> None:
    with pytest.raises(NotReportLabPdf):
        PdfJoiner().add(b"%PDF-1.7\nnot really\n")


@pytest.mark.parametrize("fmt", ["csv", "pdf", "zip"])
def test_exports_stream_without_reading_the_whole_run(fmt: str) -> None:
    """An endless run still yields its first chunks: nothing waits for the end of the rows."""

    def endless() -> Iterator[list[tuple[int, str]]]:
        for start in range(1, 40_001, 1000):
            yield [(n, f"{n:024d}") for n in range(start, start + 1000)]
        pytest.fail("the export read far past its first chunks before giving any")

    prefix = "HTTP://X.VN/V/"
    options = PrintOptions()
    chunks = {
        "csv": lambda: csv_chunks(endless(), prefix),
        "pdf": lambda: pdf_chunks(labels_of(endless(), prefix), options, workers=1),
        "zip": lambda: zip_chunks(labels_of(endless(), prefix), options, workers=1),
    }[fmt]()
    first = list(islice(chunks, 3))
    assert len(first) == 3
    assert sum(map(len, first)) > 0


def test_two_worker_processes_render_the_same_file_as_one() -> None:
    options = PrintOptions(template="a4-65", scratch_off=True)
    many = labels(1, 1200)  # three batches
    alone = b"".join(pdf_chunks(iter(many), options, workers=1))
    shared = b"".join(pdf_chunks(iter(many), options, workers=2))
    assert shared == alone
    assert check_cross_references(alone) > 1200 // 65


@pytest.mark.parametrize("prefix", ["HTTP://X.VN/V/", 'HTTP://X.VN/A,"B"/V/'])
def test_csv_rows_parse_back_whatever_the_address(prefix: str) -> None:
    batches = [[(1, "0AAAA"), (2, "0BBBB")], [(10_000, "0CCCC")]]
    text = b"".join(csv_chunks(batches, prefix)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["serial", "code", "url"],
        [grouped(serial_for(1)), "0AAAA", prefix + "0AAAA"],
        [grouped(serial_for(2)), "0BBBB", prefix + "0BBBB"],
        [grouped(serial_for(10_000)), "0CCCC", prefix + "0CCCC"],
    ]


def test_nothing_is_sent_before_the_first_page_is_drawn() -> None:
    """A stream that fails while drawing its first batch fails before its first byte, so the
    portal and the API answer with an error instead of a broken download."""

    def failing() -> Iterator[bytes]:
        raise RuntimeError("drawing failed")
        yield b""  # pragma: no cover

    stream = join(failing())
    with pytest.raises(RuntimeError, match="drawing failed"):
        next(stream)
    first = next(join(iter([render_batch(labels(1, 2), PrintOptions())])))
    assert first.startswith(b"%PDF-1.4")
    assert b"/Type /Page" in first  # the header travels with a page


def test_the_page_tree_fans_out_so_no_node_lists_too_many_kids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Readers cap arrays at 8,191 entries: pages hang under per-batch nodes, those under
    groups of GROUP batches. With GROUP = 2, five one-page batches make three groups."""
    monkeypatch.setattr(pdfjoin, "GROUP", 2)
    options = PrintOptions(template="roll-40x30")
    batches = [render_batch(labels(n, 1), options) for n in range(1, 6)]
    pdf = b"".join(join(batches))
    check_cross_references(pdf)
    kids = [len(re.findall(rb"\d+ 0 R", k)) for k in re.findall(rb"/Kids \[([^\]]*)\]", pdf)]
    assert max(kids) <= 3  # root: 3 groups; groups: 2 batches; batches: 1 page
    assert sorted(kids) == [1, 1, 1, 1, 1, 1, 2, 2, 3]
    document = pypdfium2.PdfDocument(pdf)
    texts = [" ".join(document[i].get_textpage().get_text_range().split()) for i in range(5)]
    document.close()
    for n, text in enumerate(texts, start=1):
        assert grouped(serial_for(n)) in text  # every page, in order
