"""Shoppers' photos: only JPEG, PNG and WebP by content, at most 5 MB and 25 megapixels,
stored as a new JPEG without EXIF (GPS), ICC profile or comment."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from chinhhang.alerts.photos import (
    _DAMAGED,
    _TOO_MANY_PIXELS,
    _WRONG_TYPE,
    MAX_PHOTO_BYTES,
    MAX_PIXELS,
    MAX_SIDE,
    _decoded,
    clean_photo,
    photo_path,
    remove_photo,
    save_photo,
)
from chinhhang.errors import InvalidInput

GPS_IFD = 0x8825


def picture(
    kind: str, size: tuple[int, int] = (40, 20), mode: str = "RGB", **save: object
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, kind, **save)
    return out.getvalue()


def phone_photo() -> bytes:
    """A JPEG as a phone writes it: maker, orientation, GPS position, ICC profile, comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # rotate 90° clockwise to display
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (21.0, 1.0, 42.0), 3: "E", 4: (105.0, 51.0, 15.0)})
    icc = b"\0" * 128 + b"fake icc profile"
    return picture("JPEG", exif=exif, comment=b"Nha cua Lan", icc_profile=icc)


def test_exif_with_gps_icc_and_comment_are_gone_and_orientation_is_applied() -> None:
    original = phone_photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    cleaned = clean_photo(original)
    stored = Image.open(io.BytesIO(cleaned))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert "exif" not in stored.info
    assert "icc_profile" not in stored.info
    assert "comment" not in stored.info
    for marker in (b"Exif", b"PhoneMaker", b"Nha cua Lan", b"fake icc"):
        assert marker not in cleaned
    assert stored.size == (20, 40)  # the orientation tag became pixels


@pytest.mark.parametrize(
    ("kind", "mode"), [("PNG", "RGBA"), ("PNG", "P"), ("PNG", "I;16"), ("WEBP", "RGB")]
)
def test_png_and_webp_become_rgb_jpeg(kind: str, mode: str) -> None:
    stored = Image.open(io.BytesIO(clean_photo(picture(kind, mode=mode))))
    assert (stored.format, stored.mode) == ("JPEG", "RGB")


def test_large_pictures_are_shrunk_to_the_longest_side() -> None:
    stored = Image.open(io.BytesIO(clean_photo(picture("JPEG", (4000, 1000)))))
    assert max(stored.size) == MAX_SIDE
    assert stored.size == (MAX_SIDE, 400)


@pytest.mark.parametrize(
    "data",
    [
        picture("GIF"),
        picture("BMP"),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"just text, named photo.jpg",
    ],
    ids=["gif", "bmp", "svg", "text"],
)
def test_other_types_are_refused_by_content(data: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_photo(data)
    assert "JPEG, PNG or WebP" in refused.value.message


def _cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


@pytest.mark.parametrize(
    "data",
    [
        _cut(picture("JPEG", (400, 300)), 0.05),  # the header itself cut
        _cut(picture("JPEG", (400, 300)), 0.5),
        picture("JPEG", (400, 300))[:-10],
        _cut(picture("PNG", (400, 300)), 0.5),
        _cut(picture("WEBP", (400, 300)), 0.5),
        picture("PNG")[:8] + b"\0" * 100,  # a signature and nothing sensible after it
    ],
    ids=["jpeg-header", "jpeg-half", "jpeg-end", "png-half", "webp-half", "png-garbage"],
)
def test_damaged_or_incomplete_pictures_are_said_to_be(data: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_photo(data)
    assert "damaged or incomplete" in refused.value.message


@given(st.sampled_from([picture("JPEG"), picture("PNG"), picture("WEBP")]), st.binary())
@settings(max_examples=150, deadline=None)
def test_any_mangled_picture_is_a_clear_refusal_or_a_clean_jpeg(start: bytes, junk: bytes) -> None:
    """Whatever follows an accepted signature: a clean JPEG or InvalidInput, never a crash."""
    for data in (start[: len(start) // 2] + junk, start[:16] + junk):
        said = None
        try:
            cleaned = clean_photo(data)
        except InvalidInput as refused:
            said = refused.message
        if said is None:
            assert Image.open(io.BytesIO(cleaned)).format == "JPEG"
        else:
            assert said in (_DAMAGED, _WRONG_TYPE, _TOO_MANY_PIXELS)


def test_empty_and_oversized_files_are_refused_before_decoding() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        clean_photo(b"")
    with pytest.raises(InvalidInput) as refused:
        clean_photo(b"\xff" * (MAX_PHOTO_BYTES + 1))  # not even an image: the size speaks
    assert "5 MB" in refused.value.message


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` × `height` pixels in a few dozen bytes (a bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "size",
    [
        (MAX_PIXELS // 1000 + 1, 1000),  # just over the limit
        (10_000, 5_000),  # 50 megapixels
        (10_000, 10_000),  # Pillow warns of a bomb (an error under pytest)
        (20_000, 20_000),  # Pillow refuses to open it at all
    ],
)
def test_decompression_bombs_are_refused_from_their_header(size: tuple[int, int]) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_photo(png_header(*size))
    assert "too many pixels" in refused.value.message
    assert "25 million" in refused.value.message
    assert MAX_PIXELS == 25_000_000


def test_a_big_jpeg_is_decoded_at_a_reduced_scale() -> None:
    """A 15-megapixel JPEG is decoded at half its size (still above MAX_SIDE), so it never
    needs a full-size copy in memory."""
    big = picture("JPEG", (4800, 3200))
    decoded = _decoded(big)
    assert decoded.size == (2400, 1600)
    stored = Image.open(io.BytesIO(clean_photo(big)))
    assert stored.size == (MAX_SIDE, 1067)


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_a_big_photo_shrunk_first_is_still_turned_upright(kind: str) -> None:
    """Shrinking before applying the orientation tag gives the same upright picture: a phone
    held upright writes a landscape picture with "rotate 90° clockwise"."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    landscape = Image.new("RGB", (3000, 2000), "white")
    landscape.paste((255, 0, 0), (0, 0, 300, 300))  # a red mark in the top-left corner
    landscape.save(out, kind, exif=exif)
    stored = Image.open(io.BytesIO(clean_photo(out.getvalue())))
    assert stored.size == (1067, MAX_SIDE)  # portrait, as the phone was held
    red, green, _blue = stored.convert("RGB").getpixel((stored.width - 20, 20))
    assert red > 200 > green  # the mark turned to the top-right corner


def test_stored_under_reports_with_a_random_name(tmp_path: Path) -> None:
    name = save_photo(clean_photo(picture("PNG")), tmp_path)
    path = photo_path(tmp_path, name)
    assert path is not None
    assert path.parent == tmp_path / "reports"
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
    assert photo_path(tmp_path, "../secret.jpg") is None
    assert photo_path(tmp_path, name.replace(".jpg", ".png")) is None
    remove_photo(tmp_path, name)
    assert photo_path(tmp_path, name) is None
