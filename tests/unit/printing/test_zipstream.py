"""The streaming ZIP writer: archives zipfile reads back, ZIP64 past 65,535 entries."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chinhhang.printing.zipstream import ZipStream, central_record

MOMENT = datetime(2026, 11, 27, 12, 30, 4, tzinfo=UTC)


def archive(entries: list[tuple[str, bytes]]) -> zipfile.ZipFile:
    stream = ZipStream(MOMENT)
    data = b"".join(stream.add(name, body) for name, body in entries)
    return zipfile.ZipFile(io.BytesIO(data + b"".join(stream.finish())))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=20))
def test_what_goes_in_comes_out(bodies: list[bytes]) -> None:
    entries = [(f"{i:012d}.svg", body) for i, body in enumerate(bodies)]
    read = archive(entries)
    assert read.testzip() is None  # every CRC checks
    assert [(info.filename, read.read(info)) for info in read.infolist()] == entries
    assert all(info.date_time == (2026, 11, 27, 12, 30, 4) for info in read.infolist())
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in read.infolist())


def test_past_65535_entries_the_zip64_records_take_over() -> None:
    count = 65_536
    read = archive([(f"{i:012d}.svg", b"<svg/>") for i in range(count)])
    assert len(read.infolist()) == count
    assert read.read(f"{count - 1:012d}.svg") == b"<svg/>"


def test_offsets_past_4_gib_move_to_a_zip64_extra_field() -> None:
    far = 5 * 2**30
    record = central_record(b"a.svg", 7, 10, 20, far, (0, 0))
    assert struct.unpack_from("<I", record, 42)[0] == 0xFFFFFFFF
    extra = record[46 + len(b"a.svg") :]
    assert struct.unpack("<HHQ", extra) == (0x0001, 8, far)
    near = central_record(b"a.svg", 7, 10, 20, 1234, (0, 0))
    assert struct.unpack_from("<I", near, 42)[0] == 1234
    assert len(near) == 46 + len(b"a.svg")
