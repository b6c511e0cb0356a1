"""Vietnam's provinces for the place and report forms: from the kept package, parsed strictly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vietnam_provinces import Province

from chinhhang.errors import InvalidInput
from chinhhang.provinces import all_provinces, collation_key, parse_province, province_name

CODES = sorted(int(p.code) for p in Province.iter_all())


def test_the_34_provinces_of_the_2025_reform_by_name() -> None:
    provinces = all_provinces()
    assert len(provinces) == 34
    names = [name for _code, name in provinces]
    assert names == sorted(names, key=collation_key)
    assert {code for code, _name in provinces} == set(CODES)
    assert (1, "Thành phố Hà Nội") in provinces
    assert (79, "Thành phố Hồ Chí Minh") in provinces


def test_names_by_code() -> None:
    assert province_name(1) == "Thành phố Hà Nội"
    assert province_name(None) is None
    assert province_name(2) is None  # Hà Giang: merged into Tuyên Quang in 2025
    assert province_name(10**9) is None


def test_parse_accepts_codes_as_text_or_number_and_blank_as_none() -> None:
    assert parse_province(" 79 ") == 79
    assert parse_province(48) == 48
    assert parse_province("") is None
    assert parse_province("   ") is None
    assert parse_province(None) is None


@pytest.mark.parametrize("bad", ["2", "0", "-1", "1.0", "abc", "٧٩", "0079", "1e1", True, 2, 1000])
def test_parse_refuses_what_is_no_current_province(bad: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_province(bad)  # type: ignore[arg-type]
    assert "province" in refused.value.message


@given(st.sampled_from(CODES), st.sampled_from(["", " ", "\t"]))
def test_every_code_round_trips(code: int, padding: str) -> None:
    assert parse_province(f"{padding}{code}{padding}") == code
    assert parse_province(code) == code
    assert province_name(code)


@given(st.text(max_size=12))
def test_any_text_is_a_province_none_or_a_clear_refusal(text: str) -> None:
    try:
        found = parse_province(text)
    except InvalidInput:
        return
    assert found is None if not text.strip() else found in CODES


def test_provinces_are_in_the_order_a_vietnamese_reader_expects() -> None:
    names = [name.removeprefix("Thành phố ") for _code, name in all_provinces()]
    assert names.index("Cà Mau") < names.index("Đà Nẵng") < names.index("Gia Lai")
    assert names.index("Đồng Tháp") < names.index("Hà Nội")
    assert names[-1] == "Vĩnh Long"
