"""What the staff scanner makes of a line: the code a camera, a handheld scanner or a person
produced, or nothing. Pure (no database): the tag decides before any look-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.stamps.codes import Keyring, new_code, verify
from chinhhang.stamps.services.scanned import MAX_SCANNED, LineReader

KEYRING = Keyring({0: b"k" * 32, 3: b"n" * 32}, current=3)
OTHER = Keyring({0: b"x" * 32})
codes = st.builds(lambda _: new_code(KEYRING), st.integers())
# As configured (CHINHHANG_BASE_URL), and as printed on the labels (printing/urls.py).
BASES = {
    "https://chinhhang.vn": ["https://chinhhang.vn", "HTTPS://CHINHHANG.VN"],
    "http://127.0.0.1:8000": ["http://127.0.0.1:8000", "HTTP://127.0.0.1:8000"],
    "https://x.vn/tt": ["https://x.vn/tt", "HTTPS://X.VN/tt"],
}
READER = LineReader(KEYRING, "https://chinhhang.vn")


@given(
    codes,
    st.sampled_from(sorted(BASES)),
    st.data(),
    st.sampled_from(["/v/", "/V/"]),
    st.sampled_from(["", "/", "?lang=en"]),
)
def test_a_printed_address_gives_its_code(
    code: str, base: str, data: st.DataObject, route: str, tail: str
) -> None:
    reader = LineReader(KEYRING, base)
    printed = data.draw(st.sampled_from(BASES[base]))
    assert reader.code_of(f"{printed}{route}{code}{tail}") == code
    assert reader.code_of(f"  {printed}{route}{code.lower()}{tail}\r") == code


@given(codes)
def test_a_typed_code_gives_its_code_however_it_is_written(code: str) -> None:
    assert READER.code_of(code.lower()) == code
    assert READER.code_of(f"{code[:8]}-{code[8:16]}-{code[16:]}") == code


@given(codes)
def test_another_servers_code_or_route_gives_nothing(code: str) -> None:
    assert LineReader(OTHER, "https://chinhhang.vn").code_of(code) is None
    assert READER.code_of(f"https://chinhhang.vn/p/{code}") is None
    assert READER.code_of(f"https://chinhhang.vn/{code}") is None
    assert READER.code_of(f"https://chinhhang.vn/x/v/{code}") is None


LOOK_ALIKES = [
    "https://chinhhang-check.vn",
    "http://chinhhang.vn",
    "https://chinhhang.vn.example",
    "https://chinhhang.vn:8443",
]


@given(codes, st.sampled_from(LOOK_ALIKES))
def test_a_real_code_on_a_look_alike_address_gives_nothing(code: str, elsewhere: str) -> None:
    """A copied code printed under another site's address is not this server's stamp."""
    assert READER.code_of(f"{elsewhere}/v/{code}") is None
    host = elsewhere.split("://")[1]
    assert READER.shown(f"{elsewhere}/v/{code}") == f"{host} …"


@given(st.text(max_size=300))
def test_any_text_gives_nothing_or_a_verified_code(text: str) -> None:
    code = READER.code_of(text)
    assert code is None or verify(KEYRING, code) == code
    assert isinstance(READER.shown(text), str)


@given(st.lists(codes, min_size=1, max_size=20))
def test_a_list_keeps_each_code_once_in_scan_order(scanned: list[str]) -> None:
    lines = "\n".join(scanned + scanned[::-1] + ["", "  ", "a product's QR"])
    found, rejected = READER.read_lines(lines)
    assert found == list(dict.fromkeys(scanned))
    assert rejected == ["a product's QR"]


def test_a_list_too_long_or_empty_is_refused() -> None:
    with pytest.raises(InvalidInput):
        READER.read_lines("\n".join(["x"] * (MAX_SCANNED + 1)))
    with pytest.raises(InvalidInput):
        READER.read_lines("\n \n")
