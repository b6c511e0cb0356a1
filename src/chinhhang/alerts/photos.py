"""Shoppers' photos of a suspected fake: checked, re-encoded, stored apart from public media.

A shopper's photo is personal data (SPEC section 9): phones write the GPS position, the phone's
model and the time into EXIF. The upload is never stored as sent: it is decoded and written
anew as a plain JPEG without EXIF, ICC profile or comment, at most MAX_SIDE pixels a side.
Re-encoding also turns a file that is something else too (a "polyglot" carrying HTML or
script) into a mere picture. The type is read from the content (Pillow, limited to the three
accepted decoders), never from the file's name or the browser's word; the size is checked
before decoding, the pixel count before the pixels are decoded (decompression bombs).

Files live under the data folder's `reports/`, not `/media`: only people working the report
see them, through an authenticated route.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
JPEG_QUALITY = 85
REPORTS_FOLDER = "reports"
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
_NAME = re.compile(r"[0-9a-f]{32}\.jpg")


def too_large() -> InvalidInput:
    return InvalidInput(N_("The photo is larger than 5 MB. Send a smaller one."))


def clean_photo(data: bytes) -> bytes:
    """The photo as a new JPEG without metadata; InvalidInput for an empty, oversized,
    unreadable, unaccepted or too-many-pixel file."""
    if not data:
        raise InvalidInput(N_("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise too_large()
    picture = _decoded(data)
    try:
        # The phone's orientation tag turned into pixels before the tag goes with the EXIF.
        picture = ImageOps.exif_transpose(picture)
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        flat = _flattened(picture)
    except (OSError, ValueError):  # a mode Pillow cannot turn into RGB, broken EXIF
        raise InvalidInput(N_("The photo must be a JPEG, PNG or WebP picture.")) from None
    flat.info = {}  # no EXIF, ICC profile or comment travels to the new file
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    wrong_type = InvalidInput(N_("The photo must be a JPEG, PNG or WebP picture."))
    try:
        # Only these decoders are tried: a GIF, SVG or anything else is not opened at all.
        picture = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise wrong_type from None
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise InvalidInput(N_("The photo has too many pixels (more than 40 million)."))
    if picture.format == "JPEG":
        # Decode a big JPEG at a reduced scale straight away: the result is shrunk anyway.
        picture.draft("RGB", (MAX_SIDE, MAX_SIDE))
    try:
        picture.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise wrong_type from None
    return picture


def _flattened(picture: Image.Image) -> Image.Image:
    """RGB; a transparent picture over white (JPEG has no transparency)."""
    if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return picture.convert("RGB")


def save_photo(jpeg: bytes, data_dir: Path) -> str:
    """Write the cleaned JPEG under data_dir/reports/ with a random name; returns the name."""
    name = f"{secrets.token_hex(16)}.jpg"
    folder = data_dir / REPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(jpeg)
    return name


def photo_path(data_dir: Path, name: str) -> Path | None:
    """The stored photo's path, if `name` is one of ours and the file exists."""
    if not _NAME.fullmatch(name):
        return None
    path = data_dir / REPORTS_FOLDER / name
    return path if path.is_file() else None


def remove_photo(data_dir: Path, name: str | None) -> None:
    """Delete a stored photo (a report whose transaction failed after the file was written)."""
    if name is None:
        return
    path = photo_path(data_dir, name)
    if path is not None:
        path.unlink(missing_ok=True)
