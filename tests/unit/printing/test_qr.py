"""QR symbols: rectangles that cover exactly the dark modules, in the smallest symbol."""

from __future__ import annotations

import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.printing.artwork import segno_symbol
from chinhhang.printing.qr import Symbol, encode, error_level
from chinhhang.printing.urls import printable_base, product_print_url, stamp_print_url
from chinhhang.stamps.codes import ALPHABET, Keyring, new_code

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
codes = st.text(alphabet=ALPHABET, min_size=24, max_size=24)


def dark_cells(symbol: Symbol) -> list[tuple[int, int]]:
    return [
        (x + dx, y + dy) for x, y, w, h in symbol.rectangles for dx in range(w) for dy in range(h)
    ]


def reference_cells(text: str, level: str) -> set[tuple[int, int]]:
    image = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    pixels = memoryview(image.to_image(scale=1, add_quiet_zones=False)).tobytes()
    size = int(len(pixels) ** 0.5)
    return {(i % size, i // size) for i, value in enumerate(pixels) if value == 0}


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=80),
    level=st.sampled_from("LMQH"),
)
def test_rectangles_cover_exactly_the_dark_modules_once(text: str, level: str) -> None:
    symbol = encode(text, level)
    cells = dark_cells(symbol)
    assert len(cells) == len(set(cells)), "rectangles overlap"
    assert set(cells) == reference_cells(text, level)


@settings(max_examples=30, deadline=None)
@given(code=codes)
def test_segno_symbols_have_the_same_form(code: str) -> None:
    url = stamp_print_url("https://chinhhang.vn", code)
    qr = segno.make_qr(url, error="m", boost_error=False)
    symbol = segno_symbol(url, "m")
    assert symbol.size == len(qr.matrix)
    expected = {(x, y) for y, row in enumerate(qr.matrix) for x, v in enumerate(row) if v}
    assert set(dark_cells(symbol)) == expected


def test_the_printed_form_gives_a_smaller_symbol_than_the_lower_case_url() -> None:
    code = new_code(Keyring({0: b"k" * 32}))
    printed = stamp_print_url("https://chinhhang.vn", code)
    lower = f"https://chinhhang.vn/v/{code}"
    assert printed == f"HTTPS://CHINHHANG.VN/V/{code}"
    assert set(printed) <= set(ALPHANUMERIC)
    assert encode(printed).version == 3
    assert segno.make_qr(printed, error="m", boost_error=False).mode == "alphanumeric"
    assert segno.make_qr(lower, error="m", boost_error=False).version == 4


def test_a_path_prefix_keeps_its_case() -> None:
    assert printable_base("https://Example.vn:8443/Brand/") == "HTTPS://EXAMPLE.VN:8443/Brand"
    assert product_print_url("http://x.vn", "08934567890123", 5) == "HTTP://X.VN/01/08934567890123"
    assert product_print_url("http://x.vn", None, 5) == "HTTP://X.VN/P/5"


@pytest.mark.parametrize("bad", ["", "X", "MM", "medium"])
def test_unknown_error_levels_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        error_level(bad)


def test_error_levels_read_case_insensitively() -> None:
    assert error_level(" q ") == "Q"
    assert encode("HELLO", "H").size < encode("HELLO" * 20, "H").size
