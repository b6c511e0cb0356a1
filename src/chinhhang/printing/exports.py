"""Print-house exports of a stamp run, streamed: CSV, a ZIP of one SVG per stamp, PDF labels.

Nothing here checks who may export; printing/services.py does that (and audits) before any of
these run. Every writer reads the stamps in serial order with a server-side cursor and hands out
bytes as it goes, so a run of millions never sits in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.parallel import ordered_map
from chinhhang.printing.pdfjoin import join
from chinhhang.printing.sheets import render_batch
from chinhhang.printing.svg import svg_batch
from chinhhang.printing.templates import template_named
from chinhhang.printing.urls import stamp_print_url
from chinhhang.printing.zipstream import ZipStream
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import get_run

CSV_COLUMNS = ("serial", "code", "url")
_FETCH = 10_000
_LABELS_PER_BATCH = 520  # a few hundred kilobytes of PDF: enough work to be worth a process


@dataclass(frozen=True, slots=True)
class Format:
    key: str
    media_type: str
    suffix: str


FORMATS: dict[str, Format] = {
    "csv": Format("csv", "text/csv; charset=utf-8", "csv"),
    "pdf": Format("pdf", "application/pdf", "pdf"),
    "zip": Format("zip", "application/zip", "zip"),
}


def stamp_batches(
    session: Session,
    run_id: int,
    first: int | None = None,
    last: int | None = None,
) -> Iterator[Sequence[tuple[int, str]]]:
    """(sequence, code) rows in serial order, 10,000 at a time. `first`/`last` are sequences
    within the run (the caller checked them).

    Each batch is its own short read, by key (`sequence > last seen`), not one cursor held
    open: a download paced by a slow phone would otherwise keep a transaction open for as long
    as it lasts, which stops SQLite from recycling its write-ahead log and PostgreSQL's vacuum
    from cleaning the tables scans write to. Codes never change, so nothing needs one
    snapshot. Read through the connection, not the ORM: a million rows cost a second instead
    of three and a half.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("commit before exporting: the export ends the session's reads")
    run = get_run(session, run_id)
    org_id = run.org_id
    low = max(run.first_sequence, first if first is not None else run.first_sequence)
    high = min(run.last_sequence, last if last is not None else run.last_sequence)
    session.rollback()
    while low <= high:
        query = (
            select(Stamp.sequence, Stamp.code)
            .where(Stamp.org_id == org_id, Stamp.sequence.between(low, high))
            .order_by(Stamp.sequence)
            .limit(_FETCH)
        )
        rows = session.connection().execute(query).all()
        session.rollback()  # ends the read; the next batch starts a new one
        if not rows:
            return
        yield rows
        low = rows[-1][0] + 1


def csv_chunks(batches: Iterable[Sequence[tuple[int, str]]], url_prefix: str) -> Iterator[bytes]:
    """`serial,code,url` lines, a batch at a time. The serial is printed as under the code, in
    groups of four (a spreadsheet keeps that text; twelve bare digits would lose their leading
    zeros). Serials and codes need no quoting; the URL only if the configured address has a
    comma or a quote, which the csv module then handles."""
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    if any(ch in url_prefix for ch in ',"\r\n'):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for rows in batches:
            writer.writerows(
                (grouped(serial_for(seq)), code, url_prefix + code) for seq, code in rows
            )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        return
    for rows in batches:
        lines = [f"{grouped(serial_for(seq))},{code},{url_prefix}{code}\n" for seq, code in rows]
        yield "".join(lines).encode()


def labels_of(
    batches: Iterable[Sequence[tuple[int, str]]], url_prefix: str
) -> Iterator[tuple[str, str]]:
    """(serial, printed URL) for each stamp: what a label shows."""
    for rows in batches:
        for sequence, code in rows:
            yield serial_for(sequence), url_prefix + code


def export_stream(
    session: Session,
    run_id: int,
    fmt: str,
    *,
    base_url: str,
    first: int | None = None,
    last: int | None = None,
    options: PrintOptions | None = None,
    workers: int = 1,
) -> Iterator[bytes]:
    """The export as a stream of byte chunks, for a file or an HTTP response.

    `session` is only read from, and its transaction is ended between batches: commit what the
    export planned (the count and the audit entry) before the first chunk is taken.
    """
    fmt = format_named(fmt).key  # csv, zip or pdf from here on
    batches = stamp_batches(session, run_id, first, last)
    prefix = stamp_print_url(base_url, "")
    options = options or PrintOptions()
    if fmt == "csv":
        return csv_chunks(batches, prefix)
    labels = labels_of(batches, prefix)
    if fmt == "zip":
        return zip_chunks(labels, options, workers)
    return pdf_chunks(labels, options, workers, title=f"Run {run_id}")


def format_named(key: str) -> Format:
    """The export format called `key`; InvalidInput naming the choices otherwise. Checked
    before an export is planned, so a wrong name records nothing."""
    try:
        return FORMATS[key]
    except KeyError:
        raise InvalidInput(
            N_("Unknown export format %(name)s; choose csv, pdf or zip."), name=key[:20]
        ) from None


def _batches(labels: Iterable[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    iterator = iter(labels)
    while batch := list(islice(iterator, size)):
        yield batch


def pdf_chunks(
    labels: Iterable[tuple[str, str]], options: PrintOptions, workers: int, title: str = ""
) -> Iterator[bytes]:
    """Whole pages per batch (about 500 labels), rendered in `workers` processes, joined."""
    per_page = template_named(options.template).per_page
    size = max(1, _LABELS_PER_BATCH // per_page) * per_page
    batches = _batches(labels, size)
    rendered = ordered_map(partial(render_batch, options=options), batches, workers)
    return join(rendered, title)


def zip_chunks(
    labels: Iterable[tuple[str, str]], options: PrintOptions, workers: int
) -> Iterator[bytes]:
    """One `SERIAL.svg` per stamp, deflated, streamed in flat memory (printing/zipstream.py):
    the first bytes go out once the first batch is drawn."""
    archive = ZipStream(datetime.now(UTC))
    render = partial(svg_batch, level=options.ec_level)
    try:
        for batch in ordered_map(render, _batches(labels, _LABELS_PER_BATCH), workers):
            yield b"".join(archive.add(f"{serial}.svg", svg) for serial, svg in batch)
        yield from archive.finish()
    finally:  # a download dropped half-way leaves no temporary file behind
        archive.close()
