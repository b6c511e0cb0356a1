"""A ZIP archive written as a stream, in flat memory, for runs of any size.

Python's zipfile keeps a record of each entry (about 0.9 KB measured) until the archive is
closed, so a ZIP of a million SVGs would hold most of a gigabyte. Here every entry's central-
directory record is written to a temporary file on disk as soon as the entry is out, and copied
to the stream at the end. Entries are small and whole (an SVG), so their sizes and CRC go in
the local header: no data descriptors. ZIP64 records take over past 65,535 entries or 4 GiB,
as APPNOTE 6.3 describes; zipfile, Info-ZIP and the file managers of Windows and macOS read it.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterator
from datetime import datetime

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_ZIP64_OFFSET = struct.Struct("<HHQ")
_MAX16, _MAX32 = 0xFFFF, 0xFFFFFFFF
_DEFLATE = 8
_VERSION, _VERSION64 = 20, 45
_UNIX_FILE = 0o100644 << 16  # a regular file, rw-r--r--
_COPY_CHUNK = 1 << 20


def dos_time(moment: datetime) -> tuple[int, int]:
    """ZIP's MS-DOS date and time fields (local time, 2-second steps, years from 1980)."""
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


def central_record(
    name: bytes, crc: int, compressed: int, size: int, offset: int, stamp: tuple[int, int]
) -> bytes:
    """An entry's central-directory record; the offset moves to a ZIP64 extra field when it
    does not fit in 32 bits (sizes of one SVG always do)."""
    extra = b""
    version = _VERSION
    if offset >= _MAX32:
        extra = _ZIP64_OFFSET.pack(0x0001, 8, offset)
        offset, version = _MAX32, _VERSION64
    head = _CENTRAL.pack(
        0x02014B50, (3 << 8) | version, version, 0, _DEFLATE, *stamp,
        crc, compressed, size, len(name), len(extra), 0, 0, 0, _UNIX_FILE, offset,
    )  # fmt: skip
    return head + name + extra


class ZipStream:
    """`add(name, data)` returns the bytes of one entry; `finish()` the central directory."""

    def __init__(self, moment: datetime) -> None:
        self.stamp = dos_time(moment)
        self.position = 0
        self.entries = 0
        self.directory = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish() or close()

    def add(self, name: str, data: bytes) -> bytes:
        encoded = name.encode("ascii")
        squeezer = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = squeezer.compress(data) + squeezer.flush()
        crc = zlib.crc32(data)
        head = _LOCAL.pack(
            0x04034B50, _VERSION, 0, _DEFLATE, *self.stamp,
            crc, len(packed), len(data), len(encoded), 0,
        )  # fmt: skip
        self.directory.write(
            central_record(encoded, crc, len(packed), len(data), self.position, self.stamp)
        )
        self.entries += 1
        entry = head + encoded + packed
        self.position += len(entry)
        return entry

    def finish(self) -> Iterator[bytes]:
        try:
            start, size = self.position, self.directory.tell()
            self.directory.seek(0)
            while chunk := self.directory.read(_COPY_CHUNK):
                yield chunk
            yield self._end(start, size)
        finally:
            self.close()

    def close(self) -> None:
        """Drop the spooled directory (also when the archive is abandoned half-way)."""
        self.directory.close()

    def _end(self, start: int, size: int) -> bytes:
        count = self.entries
        if count < _MAX16 and start < _MAX32 and size < _MAX32:
            return _END.pack(0x06054B50, 0, 0, count, count, size, start, 0)
        end64_at = start + size
        return (
            _END64.pack(0x06064B50, 44, _VERSION64, _VERSION64, 0, 0, count, count, size, start)
            + _LOCATOR64.pack(0x07064B50, 0, end64_at, 1)
            + _END.pack(0x06054B50, 0, 0, _MAX16, _MAX16, _MAX32, _MAX32, 0)
        )
