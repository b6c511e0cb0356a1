"""Sealed exports (printing/sealed.py): a ZIP encrypted with AES-256 that opens only with its
password, to exactly the bytes that went in, written in flat memory."""

from __future__ import annotations

import io
import os
import struct
import unicodedata
from collections.abc import Iterator

import pytest
import pyzipper
from hypothesis import given, settings
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.printing.sealed import export_password, seal

PASSWORD = "mật khẩu đủ dài 2026"
CODE = b"HTTPS://CHINHHANG.VN/V/0ABCDEFGHJKMNPQRSTVWXYZ12"
AES_METHOD = 99  # "compressed" with WinZip AES; the real method is in the 0x9901 extra field


def sealed(chunks: list[bytes], password: str = PASSWORD) -> bytes:
    return b"".join(seal(iter(chunks), "run-7.csv", password))


def opened(data: bytes, password: str = PASSWORD) -> tuple[str, bytes]:
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(password.encode())
        (entry,) = archive.infolist()
        return entry.filename, archive.read(entry)


def extra_fields(data: bytes) -> dict[int, bytes]:
    """The extra fields of the local header the archive starts with, by header id."""
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    extra = data[30 + name_length : 30 + name_length + extra_length]
    fields, at = {}, 0
    while at < len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        fields[kind] = extra[at + 4 : at + 4 + size]
        at += 4 + size
    return fields


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=4000), max_size=12))
def test_the_password_opens_it_to_exactly_the_bytes_that_went_in(chunks: list[bytes]) -> None:
    assert opened(sealed(chunks)) == ("run-7.csv", b"".join(chunks))


def test_the_entry_is_encrypted_with_aes_256() -> None:
    data = sealed([b"serial,code,url\n"])
    signature, _version, flags, method = struct.unpack_from("<IHHH", data)
    assert signature == 0x04034B50
    assert flags & 0x1  # encrypted
    assert method == AES_METHOD  # not 0 or 8 with ZipCrypto
    version, vendor, strength, real_method = struct.unpack("<H2sBH", extra_fields(data)[0x9901])
    assert (version, vendor, strength, real_method) == (2, b"AE", 3, 8)  # AE-2, 256-bit, deflate


def test_a_wrong_password_opens_nothing() -> None:
    data = sealed([b"serial,code,url\n", CODE])
    with pytest.raises(RuntimeError, match="Bad password"):
        opened(data, "not the password")


def test_the_codes_are_not_in_the_archive() -> None:
    data = sealed([CODE + b"\n"] * 1000)
    assert CODE not in data
    assert CODE.lower() not in data
    assert sealed([CODE]) != sealed([CODE])  # a fresh salt each time: no two archives alike


def test_memory_stays_flat_the_sink_is_drained_after_every_chunk() -> None:
    piece = 64 * 1024
    count = 256  # 16 MiB that do not compress
    out = list(seal((os.urandom(piece) for _ in range(count)), "run-7.zip", PASSWORD))
    assert sum(map(len, out)) > piece * count
    assert max(map(len, out)) < 2 * piece
    assert len(out) >= count


def test_nothing_is_yielded_before_the_first_chunk_is_made() -> None:
    def broken() -> Iterator[bytes]:
        raise OSError("the label font is missing")
        yield b""  # pragma: no cover - makes this a generator

    with pytest.raises(OSError, match="label font"):
        next(seal(broken(), "run-7.pdf", PASSWORD))


@pytest.mark.parametrize(
    "password",
    ["", "x" * 11, "x" * 201, "twelve chars\nand a line", "tab\there twelve"],
    ids=["empty", "11 characters", "201 characters", "two lines", "a tab"],
)
def test_a_password_must_be_12_to_200_characters_on_one_line(password: str) -> None:
    with pytest.raises(InvalidInput, match="12 to 200") as refused:
        export_password(password)
    assert not password or password not in str(refused.value)  # never echoed


def test_no_password_means_no_seal_and_a_password_is_kept_composed() -> None:
    assert export_password(None) is None
    assert export_password("abcde" + "x" * 7) == "abcde" + "x" * 7  # 12, five different
    assert export_password("abcde" + "x" * 195) == "abcde" + "x" * 195  # 200
    decomposed = unicodedata.normalize("NFD", PASSWORD)  # as a Mac may save it in a file
    assert decomposed != PASSWORD
    assert export_password(decomposed) == unicodedata.normalize("NFC", PASSWORD)


@pytest.mark.parametrize("password", [" " * 12, "a" * 20, "abab" * 4, "1234" * 3])
def test_a_password_of_few_different_characters_is_refused(password: str) -> None:
    with pytest.raises(InvalidInput, match="more different characters"):
        export_password(password)
