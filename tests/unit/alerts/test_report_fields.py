"""A shopper's report fields: Vietnamese phone numbers, links, e-mail, the place of purchase."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.alerts.report_fields import (
    ReportFields,
    check_report,
    checked_email,
    checked_link,
    normalise_phone,
)
from chinhhang.errors import InvalidInput

MOBILE = st.builds(
    lambda second, rest: f"0{second}{rest}",
    st.sampled_from("35789"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
SEPARATORS = st.sampled_from(["", " ", ".", "-"])


@given(MOBILE, SEPARATORS)
def test_a_mobile_number_in_any_written_form_becomes_its_ten_digits(
    number: str, separator: str
) -> None:
    national = f"{number[:4]}{separator}{number[4:7]}{separator}{number[7:]}"
    international = f"+84 {number[1:4]}{separator}{number[4:]}"
    assert normalise_phone(national) == number
    assert normalise_phone(international) == number
    assert normalise_phone("0084" + number[1:]) == number
    assert normalise_phone(f"({number[:4]}) {number[4:]}") == number
    # Normalising is idempotent.
    assert normalise_phone(normalise_phone(national)) == number


def test_landlines_have_eleven_digits() -> None:
    assert normalise_phone("024 3825 1234") == "02438251234"
    assert normalise_phone("+84 24 3825 1234") == "02438251234"


@pytest.mark.parametrize(
    "bad",
    [
        "091234567",
        "09123456789",
        "1912345678",
        "0112345678",
        "+8591234567",
        "09x2345678",
        "０９１２３４５６７８",
        "+84",
        "84912345678",
        "",
    ],
)
def test_other_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_phone(bad)
    assert "Vietnamese number" in refused.value.message


@given(st.text(max_size=30))
def test_any_text_is_a_ten_or_eleven_digit_number_or_a_clear_refusal(text: str) -> None:
    try:
        phone = normalise_phone(text)
    except InvalidInput:
        return
    assert phone.isascii()
    assert phone.isdigit()
    assert phone.startswith("0")
    assert len(phone) in (10, 11)


def test_links_must_be_web_addresses() -> None:
    assert checked_link("https://shopee.vn/nuoc-mam-123") == "https://shopee.vn/nuoc-mam-123"
    for bad in ("javascript:alert(1)", "shopee.vn/x", "ftp://x.vn/", "http://", "https://x .vn"):
        with pytest.raises(InvalidInput):
            checked_link(bad)


def test_email_shape_and_domain_case() -> None:
    assert checked_email("Lan.Nguyen@Example.VN") == "Lan.Nguyen@example.vn"
    for bad in ("lan", "lan@", "@x.vn", "lan@x", "lan x@y.vn", "a@b@c.vn"):
        with pytest.raises(InvalidInput):
            checked_email(bad)


def test_a_report_says_where_it_was_bought() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_report(ReportFields(description="Hàng giả"))
    assert "Say where you bought it" in refused.value.message
    checked = check_report(
        ReportFields(
            shop_address="  12 Hàng Bạc, Hà Nội ",
            province="1",
            contact_phone="+84 912 345 678",
            contact_email="lan@example.vn",
        )
    )
    assert checked.shop_address == "12 Hàng Bạc, Hà Nội"
    assert checked.shop_name is None
    assert checked.province_code == 1
    assert checked.contact_phone == "0912345678"


def test_lengths_and_control_characters_are_refused() -> None:
    with pytest.raises(InvalidInput):
        check_report(ReportFields(shop_name="x" * 201))
    with pytest.raises(InvalidInput):
        check_report(ReportFields(shop_name="Shop\x00"))
