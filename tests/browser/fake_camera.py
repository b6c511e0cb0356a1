"""A video for Chromium's fake camera (`--use-file-for-fake-video-capture`), made from QR
codes: the scanner tests show real stamps' codes to the page one after another, as a person
holding labels in front of a phone would.

Y4M is the raw format Chromium reads: a text header, then per frame the luma plane and two
quarter-size chroma planes (4:2:0). The codes are black on white, so chroma is neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import segno
from PIL import Image

WIDTH, HEIGHT = 480, 360
FPS = 5


def qr_frame(text: str, *, side: int = 300) -> Image.Image:
    """One camera frame: the QR of `text` in the middle of a white field, in grey levels."""
    symbol = segno.make(text, error="m", micro=False)
    modules = symbol.symbol_size(scale=1, border=4)[0]
    scale = max(1, side // modules)
    qr = Image.open(_png(symbol, scale)).convert("L")
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    return frame


def _png(symbol: segno.QRCode, scale: int) -> BytesIO:
    out = BytesIO()
    symbol.save(out, kind="png", scale=scale, border=4)
    out.seek(0)
    return out


def write_y4m(path: Path, texts: Sequence[str], *, frames_each: int = 4, gap: int = 1) -> Path:
    """Each text's QR for `frames_each` frames, with `gap` blank frames after it (the hand
    moving to the next label). Chromium plays the file in a loop."""
    blank = Image.new("L", (WIDTH, HEIGHT), 255)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2) * 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for text in texts:
            frames = [qr_frame(text)] * frames_each + [blank] * gap
            for frame in frames:
                out.write(b"FRAME\n")
                out.write(frame.tobytes())
                out.write(chroma)
    return path
