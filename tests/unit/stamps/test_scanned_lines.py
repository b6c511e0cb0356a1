"""What the staff scanner makes of a line: the code a camera, a handheld scanner or a person
produced, or nothing. Pure (no database): the tag decides before any look-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.stamps.codes import Keyring, new_code, verify
from chinhhang.stamps.services.scanned import MAX_SCANNED, code_of, read_lines

KEYRING = Keyring({0: b"k" * 32, 3: b"n" * 32}, current=3)
OTHER = Keyring({0: b"x" * 32})
codes = st.builds(lambda _: new_code(KEYRING), st.integers())
bases = st.sampled_from(
    ["https://chinhhang.vn", "HTTPS://CHINHHANG.VN", "http://127.0.0.1:8000", "https://x.vn/tt"]
)


@given(codes, bases, st.sampled_from(["/v/", "/V/"]), st.sampled_from(["", "/", "?lang=en"]))
def test_a_printed_address_gives_its_code(code: str, base: str, route: str, tail: str) -> None:
    assert code_of(KEYRING, f"{base}{route}{code}{tail}") == code
    assert code_of(KEYRING, f"  {base}{route}{code.lower()}{tail}\r") == code


@given(codes)
def test_a_typed_code_gives_its_code_however_it_is_written(code: str) -> None:
    assert code_of(KEYRING, code.lower()) == code
    assert code_of(KEYRING, f"{code[:8]}-{code[8:16]}-{code[16:]}") == code


@given(codes)
def test_another_servers_code_or_route_gives_nothing(code: str) -> None:
    assert code_of(OTHER, code) is None
    assert code_of(KEYRING, f"https://chinhhang.vn/p/{code}") is None
    assert code_of(KEYRING, f"https://chinhhang.vn/{code}") is None


@given(st.text(max_size=300))
def test_any_text_gives_nothing_or_a_verified_code(text: str) -> None:
    code = code_of(KEYRING, text)
    assert code is None or verify(KEYRING, code) == code


@given(st.lists(codes, min_size=1, max_size=20))
def test_a_list_keeps_each_code_once_in_scan_order(scanned: list[str]) -> None:
    lines = "\n".join(scanned + scanned[::-1] + ["", "  ", "a product's QR"])
    found, rejected = read_lines(KEYRING, lines)
    assert found == list(dict.fromkeys(scanned))
    assert rejected == ["a product's QR"]


def test_a_list_too_long_or_empty_is_refused() -> None:
    with pytest.raises(InvalidInput):
        read_lines(KEYRING, "\n".join(["x"] * (MAX_SCANNED + 1)))
    with pytest.raises(InvalidInput):
        read_lines(KEYRING, "\n \n")
