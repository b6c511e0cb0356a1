"""The catalogue is complete: every user-facing message has Vietnamese and English."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from chinhhang.i18n import catalogue, negotiate, translator

ROOT = Path(__file__).resolve().parents[2] / "src" / "chinhhang"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords={"_": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_in_both_languages() -> None:
    messages = extracted()
    assert len(messages) > 50
    for lang in ("vi", "en"):
        missing = sorted(messages - set(catalogue(lang)))
        assert not missing, f"{lang} catalogue lacks: {missing}"


def test_vietnamese_is_really_vietnamese() -> None:
    vi = catalogue("vi")
    assert vi["Genuine product"] == "Hàng chính hãng"
    assert sum(1 for k, v in vi.items() if k == v) <= 3  # only names like "GTIN" may match


def test_placeholders_survive_translation() -> None:
    for lang in ("vi", "en"):
        for msgid, text in catalogue(lang).items():
            assert set(re.findall(r"%\((\w+)\)s", msgid)) == set(re.findall(r"%\((\w+)\)s", text))


def test_negotiation() -> None:
    assert negotiate(None, None) == "vi"
    assert negotiate("en", "vi") == "en"
    assert negotiate("xx", "fr, en;q=0.8, vi;q=0.9") == "vi"
    assert negotiate(None, "en-GB,en;q=0.9") == "en"
    assert negotiate(None, "fr;q=abc, de") == "vi"
    assert translator("en")("Scan %(n)s of %(k)s", n=1, k=3) == "Scan 1 of 3"


def test_role_and_kind_values_are_translated_too() -> None:
    said = translator("vi")("Your role (%(role)s) does not allow this.", role="viewer")
    assert "người xem" in said
    assert "viewer" not in said
    assert "nhà phân phối" in translator("vi")(
        "A %(kind)s organization cannot do this.", kind="distributor"
    )
    assert (
        translator("en")("Your role (%(role)s) does not allow this.", role="viewer").count("viewer")
        == 1
    )
