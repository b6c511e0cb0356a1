"""A shopper's report fields: Vietnamese phone numbers, links, e-mail, the place of purchase."""

from __future__ import annotations

import pytest

from chinhhang.alerts.report_fields import (
    ReportFields,
    check_report,
    checked_email,
    checked_link,
)
from chinhhang.errors import InvalidInput
from chinhhang.i18n import translator


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


@pytest.mark.parametrize(
    ("fields", "english", "vietnamese"),
    [
        (ReportFields(shop_name="x" * 201), "Shop name is too long", "Tên cửa hàng quá dài"),
        (
            ReportFields(shop_name="Shop", description="x" * 4001),
            "What happened is too long",
            "Chuyện đã xảy ra quá dài",
        ),
        (
            ReportFields(shop_name="Shop", contact_name="Lan\x07"),
            "Your name contains characters that are not allowed.",
            "Trường Họ tên chứa ký tự không được phép.",
        ),
    ],
)
def test_refusals_name_the_field_by_its_label(
    fields: ReportFields, english: str, vietnamese: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_report(fields)
    error = refused.value
    assert english in translator("en")(error.message, **error.values)
    said = translator("vi")(error.message, **error.values)
    assert vietnamese in said
    assert "_" not in said
