"""Print-house exports of a stamp run. CSV for now; PDF labels and ZIP of SVGs come with the
printing issue, as do the owner/admin restriction and the audit entry for every export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import get_run, in_run

CSV_COLUMNS = ("serial", "code", "url")
_FETCH = 10_000


def run_rows(session: Session, run_id: int, base_url: str) -> Iterator[tuple[str, str, str]]:
    """(serial, code, url) in serial order, streamed: a run of millions never sits in memory."""
    run = get_run(session, run_id)
    query = (
        select(Stamp.sequence, Stamp.code)
        .where(*in_run(run))
        .order_by(Stamp.sequence)
        .execution_options(yield_per=_FETCH)
    )
    for sequence, code in session.execute(query):
        yield serial_for(int(sequence)), code, f"{base_url}/v/{code}"


def write_csv(session: Session, run_id: int, base_url: str, out: TextIO) -> int:
    """Write the run as CSV with columns serial,code,url; returns the number of stamps."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in run_rows(session, run_id, base_url):
        writer.writerow(row)
        count += 1
    return count
