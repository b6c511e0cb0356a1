"""Password-protected exports: the file inside a ZIP archive encrypted with AES-256.

An export holds the codes that make stamps genuine (docs/printing.md, "Leak control"). Sealed,
a copy left in a mailbox, a shared folder or on a courier's USB stick is useless without the
password, which the manufacturer gives the print house by another channel (a phone call).

Why this format and not another:
- AES-256 as WinZip specified it (AE-2, which leaves the plaintext's CRC out of the headers):
  7-Zip, WinZip, `7z x` and the 7-Zip ports for macOS open it. Not the ZIP format's own
  "traditional" encryption (ZipCrypto), which is broken: its keys fall to a known-plaintext
  attack from a dozen known bytes, and every export starts with known bytes (`serial,code,url`,
  `%PDF`, `PK`).
- The keys come from the password through PBKDF2 with a random salt, made by the library for
  each entry. The archive has one entry, so one key derivation per archive. An HMAC over the
  encrypted data tells a wrong password, or a damaged file, from a good one.
- pyzipper (a maintained fork of Python's zipfile) writes it: no cryptography of our own.

Streaming: the library writes to a sink that cannot seek, so the sizes follow the data in a
data descriptor, and the sink is drained after every chunk: memory stays flat whatever the size
of the export. ZIP64 is always on, since the size is not known when the entry starts and the CSV
or PDF of a big run passes the 2 GiB that plain ZIP headers hold.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime

import pyzipper  # type: ignore[import-untyped]  # ships no type hints

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

MIN_PASSWORD = 12
MIN_DISTINCT = 5  # different characters
MAX_PASSWORD = 200
SEALED_MEDIA_TYPE = "application/zip"
SEALED_SUFFIX = ".zip"  # run-7.csv is downloaded as run-7.csv.zip


def export_password(text: str | None) -> str | None:
    """The password to seal an export with, or None when none was given.

    Raises InvalidInput unless it is 12 to 200 characters on one line (an empty one too: the
    portal turns its empty field into None); the message never holds the password. Returned in
    Unicode's composed form (NFC), the form keyboards type, so that a Vietnamese password saved
    in a file on a Mac (which may decompose it) opens with the same password typed on a PC.
    """
    if text is None:
        return None
    password = unicodedata.normalize("NFC", text)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or not password.isprintable():
        raise InvalidInput(N_("The export password must be 12 to 200 characters, on one line."))
    if len(set(password)) < MIN_DISTINCT:  # twelve spaces, "aaaaaaaaaaaa": guessed first
        raise InvalidInput(N_("The export password needs more different characters."))
    return password


class _Sink(io.RawIOBase):
    """Where the archive is written: bytes pile up until `drain()` hands them out."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._pending += data
        return len(data)

    def drain(self) -> bytes:
        out = bytes(self._pending)
        self._pending.clear()
        return out


def seal(chunks: Iterable[bytes], name: str, password: str) -> Iterator[bytes]:
    """`chunks` as the one entry `name` of a ZIP archive encrypted with AES-256 under
    `password` (as `export_password` returned it), as a stream of byte chunks.

    Nothing is yielded before the first chunk of `chunks` was taken: a failure to make the
    export's first bytes is raised before the archive's first byte goes out. A generator given
    as `chunks` is closed when the archive ends or is dropped.
    """
    sink = _Sink()
    archive = pyzipper.AESZipFile(
        sink, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    )
    archive.setencryption(pyzipper.WZ_AES, nbits=256)
    archive.setpassword(password.encode())
    entry = archive.zipinfo_cls(name, date_time=datetime.now(UTC).timetuple()[:6])
    entry.compress_type = pyzipper.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16  # readable by its owner only: it holds the codes
    try:
        with archive.open(entry, "w", force_zip64=True) as plain:
            for chunk in chunks:
                plain.write(chunk)
                if out := sink.drain():
                    yield out
    finally:  # also when the download is dropped: then it writes only to the sink, dropped too
        archive.close()
        if isinstance(chunks, Generator):  # its reads end now, not when it is collected
            chunks.close()
    yield sink.drain()
