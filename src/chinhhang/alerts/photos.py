"""Shoppers' photos of a suspected fake: checked, re-encoded, stored apart from public media.

A shopper's photo is personal data (SPEC section 9): phones write the GPS position, the phone's
model and the time into EXIF. The upload is never stored as sent: it is decoded and written
anew as a plain JPEG without EXIF, ICC profile or comment, at most MAX_SIDE pixels a side.
Re-encoding also turns a file that is something else too (a "polyglot" carrying HTML or
script) into a mere picture. The type is read from the content (Pillow, limited to the three
accepted decoders), never from the file's name or the browser's word; the size is checked
before decoding, the pixel count before the pixels are decoded (decompression bombs). A big
JPEG is decoded at a reduced scale and every picture shrunk before it is turned upright, so a
photo at the pixel limit never needs several full-size copies in memory.

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
# A phone's photo is 12 megapixels as a rule (a 50 MP mode's JPEG is over 5 MB anyway); a PNG
# or WebP is decoded at full size, 4 bytes a pixel: 25 MP caps that at about 100 MB.
MAX_PIXELS = 25_000_000
MAX_SIDE = 1600
JPEG_QUALITY = 85
REPORTS_FOLDER = "reports"
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
_NAME = re.compile(r"[0-9a-f]{32}\.jpg")
_WRONG_TYPE = N_("The photo must be a JPEG, PNG or WebP picture.")
_DAMAGED = N_("The photo is damaged or incomplete. Send it again or choose another one.")
_TOO_MANY_PIXELS = N_("The photo has too many pixels (more than 25 million).")


def too_large() -> InvalidInput:
    return InvalidInput(N_("The photo is larger than 5 MB. Send a smaller one."))


def clean_photo(data: bytes) -> bytes:
    """The photo as a new JPEG without metadata; InvalidInput for an empty, oversized,
    unreadable (damaged or of another type), or too-many-pixel file."""
    if not data:
        raise InvalidInput(N_("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise too_large()
    picture = _decoded(data)
    try:
        # Shrink first, then turn by the phone's orientation tag (kept in `info` by thumbnail)
        # before the tag goes with the EXIF: the box is square, so the turned picture fits it
        # as well, and the turn copies the small picture instead of the full-size one.
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        ImageOps.exif_transpose(picture, in_place=True)
        flat = _flattened(picture)
    except (OSError, ValueError, SyntaxError):  # broken pixel data or EXIF
        raise InvalidInput(_DAMAGED) from None
    flat.info = {}  # no EXIF, ICC profile or comment travels to the new file
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    """The picture decoded, a JPEG at a reduced scale; the pixel count is checked from the
    header first. A file that starts like an accepted picture but does not decode is
    "damaged", anything else "not a JPEG, PNG or WebP"."""
    try:
        # Only these decoders are tried: a GIF, SVG or anything else is not opened at all.
        picture = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (far above ours) stop a header claiming billions of pixels.
        raise InvalidInput(_TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput(_DAMAGED if _looks_accepted(data) else _WRONG_TYPE) from None
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise InvalidInput(_TOO_MANY_PIXELS)
    if picture.format == "JPEG":
        # Decode a big JPEG at 1/2, 1/4 or 1/8 scale straight away (never below MAX_SIDE):
        # the result is shrunk anyway, and a 25 MP photo then needs no full-size copy.
        picture.draft("RGB", (MAX_SIDE, MAX_SIDE))
    try:
        picture.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput(_DAMAGED) from None
    return picture


def _looks_accepted(data: bytes) -> bool:
    """Whether the file starts with a JPEG, PNG or WebP signature."""
    return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


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
