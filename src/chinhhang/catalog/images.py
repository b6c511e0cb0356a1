"""Uploaded product images: checked, re-encoded, stored under the data folder.

Re-encoding (rather than storing the upload) drops metadata such as GPS positions, and turns
a file that is also something else (a "polyglot" image carrying HTML or script) into a plain
picture. Pillow's decompression-bomb guard is tightened to our own pixel limit.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MEDIA_FOLDER = "media"


def store_image(data: bytes, media_dir: Path, folder: str) -> str:
    """Returns the stored file's path under the media folder, e.g. products/ab12….jpg.

    Raises InvalidInput for an empty, oversized, unreadable or unaccepted file.
    """
    if not data:
        raise InvalidInput(N_("Choose an image file."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(N_("The image is larger than 5 MB."))
    picture = _open(data)
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    name = f"{folder}/{secrets.token_hex(12)}.jpg"
    path = media_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return name


def _open(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
        if kind not in ACCEPTED_FORMATS:
            raise InvalidInput(N_("The image must be a JPEG, PNG or WebP file."))
        if width * height > MAX_PIXELS:
            raise InvalidInput(N_("The image has too many pixels."))
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own limit, far above ours, stops a header claiming billions of pixels
        # before ours is read (a warning between 89 and 179 million, an error above).
        raise InvalidInput(N_("The image has too many pixels.")) from error
    # SyntaxError: Pillow's word for broken chunks in a PNG (a damaged length field).
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InvalidInput(N_("The image must be a JPEG, PNG or WebP file.")) from error
    return picture
