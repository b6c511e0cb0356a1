"""Round trip: every QR on a printed sheet or SVG decodes to its stamp's URL, and the server
resolves that URL, upper-case as printed or lower-case as typed, to the right stamp."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pypdfium2
import pytest
import resvg_py
import zxingcpp
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import create_product
from chinhhang.config import Settings
from chinhhang.db import session_scope
from chinhhang.printing.artwork import product_code_png, product_code_svg
from chinhhang.printing.exports import export_stream
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.sheets import render_batch
from chinhhang.printing.templates import TEMPLATES
from chinhhang.printing.urls import product_print_url, stamp_print_url
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import get_run
from tests.factories import RunFixture, gtin, make_run

DPI = 300
pytestmark = pytest.mark.usefixtures("label_font")
CAPTION = "Nước mắm Phú Quốc đặc biệt"


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    """Rendering does not depend on the database: SQLite alone keeps this module quick."""
    return sqlite_settings


@pytest.fixture
def run(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> RunFixture:
    return make_run(settings, engine, sessions, quantity=65)


def export(sessions: sessionmaker[Session], run: RunFixture, fmt: str, **kwargs: object) -> bytes:
    with session_scope(sessions) as session:
        return b"".join(export_stream(session, run.run_id, fmt, **kwargs))  # type: ignore[arg-type]


def decoded(image: Image.Image) -> list[str]:
    """The texts of the QR Code (model 2) symbols in `image`, the only kind labels carry.

    zxing-cpp 3's BarcodeFormat.QRCode is the whole family, Micro QR and rMQR included. On a
    300 dpi page it also reads a copy shrunk to a ninth, where an a4-24 label's modules are about
    a pixel: no stamp symbol decodes there, and a finder pattern with the modules beside it now
    and then passes for an 11 x 11 Micro QR symbol (version M1, two check codewords only). That
    gave a stray short number ("047645") on about one a4-24 sheet in four hundred."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)
    return [result.text for result in found]


def pages(pdf: bytes) -> Iterator[pypdfium2.PdfPage]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            yield page
            page.close()
    finally:
        document.close()


def render(page: pypdfium2.PdfPage) -> Image.Image:
    return page.render(scale=DPI / 72, grayscale=True).to_pil()


def expected_urls(settings: Settings, run: RunFixture, count: int) -> list[str]:
    return [stamp_print_url(settings.base_url, code) for code in run.codes[:count]]


@pytest.mark.parametrize("key", TEMPLATES)
def test_a_full_sheet_of_every_template_decodes_to_its_stamps(
    key: str, settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    template = TEMPLATES[key]
    count = template.per_page if template.per_page > 1 else 3  # roll: three labels
    first, last = run_sequences(sessions, run, count)
    options = PrintOptions(template=key, scratch_off=True, crop_marks=True, caption=CAPTION)
    pdf = export(
        sessions, run, "pdf", base_url=settings.base_url, first=first, last=last, options=options
    )
    seen: list[str] = []
    for page in pages(pdf):
        seen += decoded(render(page))
        text = " ".join(page.get_textpage().get_text_range().split())
        assert "Nước mắm" in text
        assert "Phú Quốc" in text
        assert "Cào lớp" in text
    assert sorted(seen) == sorted(expected_urls(settings, run, count))


# Stamps whose a4-24 symbols have a finder corner (bottom-left in the first, top-right in the
# second) that a family-wide reader took for a Micro QR symbol, "4150" and "5870", on the ninth-size
# copy of a 300 dpi page. Found by rendering a few thousand sheets of random codes.
MICRO_QR_LOOKALIKES = [
    ["VY3Y98PH2VAKKCYV6JX05TZF"],
    ["JBXT58RYR2TJ5VTKC0Y8VAP4", "TMR10VDZAQE703E3JQXPQMCW"],
]


@pytest.mark.parametrize("codes", MICRO_QR_LOOKALIKES)
def test_a_symbol_corner_that_looks_like_a_micro_qr_code_adds_no_text(codes: list[str]) -> None:
    labels = [
        (serial_for(1 + i), stamp_print_url("http://testserver", code))
        for i, code in enumerate(codes)
    ]
    options = PrintOptions(template="a4-24", scratch_off=True, crop_marks=True, caption=CAPTION)
    seen = [text for page in pages(render_batch(labels, options)) for text in decoded(render(page))]
    assert sorted(seen) == sorted(url for _, url in labels)


def run_sequences(sessions: sessionmaker[Session], run: RunFixture, count: int) -> tuple[int, int]:
    with session_scope(sessions) as session:
        first = get_run(session, run.run_id).first_sequence
    return first, first + count - 1


def test_every_printed_url_opens_its_own_stamp_in_either_case(
    client, settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    pdf = export(sessions, run, "pdf", base_url=settings.base_url)
    by_url: dict[str, str] = {}
    first, _ = run_sequences(sessions, run, 1)
    for index, code in enumerate(run.codes):
        by_url[stamp_print_url(settings.base_url, code)] = grouped(serial_for(first + index))
    decoded_urls = [url for page in pages(pdf) for url in decoded(render(page))]
    assert sorted(decoded_urls) == sorted(by_url)
    json = {"Accept": "application/json"}
    for url in decoded_urls[:20]:
        printed = client.get(url, headers=json)
        assert printed.status_code == 200
        assert printed.json()["outcome"] == "genuine"
        assert grouped(printed.json()["serial"].replace(" ", "")) == by_url[url]
        typed = client.get(url.lower(), headers=json)  # as a person types it
        assert typed.json()["serial"] == printed.json()["serial"]


def test_the_zip_holds_one_svg_per_stamp_that_decodes_to_its_url(
    settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(export(sessions, run, "zip", base_url=settings.base_url)))
    first, _ = run_sequences(sessions, run, 1)
    names = archive.namelist()
    assert names == [f"{serial_for(first + i)}.svg" for i in range(len(run.codes))]
    for name, url in zip(names, expected_urls(settings, run, len(run.codes)), strict=True):
        svg = archive.read(name).decode()
        assert grouped(name.removesuffix(".svg")) in svg  # the serial under the code
        png = bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", dpi=float(DPI)))
        assert decoded(Image.open(io.BytesIO(png))) == [url]


def test_the_csv_lists_serial_code_and_printed_url(
    settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    lines = export(sessions, run, "csv", base_url=settings.base_url).decode().splitlines()
    first, _ = run_sequences(sessions, run, 1)
    assert lines[0] == "serial,code,url"
    code = run.codes[0]
    url = stamp_print_url(settings.base_url, code)
    assert lines[1] == f"{grouped(serial_for(first))},{code},{url}"
    assert len(lines) == 66


@pytest.mark.parametrize("with_gtin", [True, False])
def test_static_product_codes_decode_and_open_the_product_page(
    with_gtin: bool, client, settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    with session_scope(sessions) as session:
        product = create_product(
            session,
            Actor.command_line(run.org_id),
            name="Bánh pía Sóc Trăng",
            gtin=gtin() if with_gtin else None,
        )
        url = product_print_url(settings.base_url, product.gtin, product.id)
    svg = product_code_svg(url, "Bánh pía")
    png_of_svg = resvg_py.svg_to_bytes(svg_string=svg.decode(), background="#ffffff", dpi=300.0)
    for image in (io.BytesIO(bytes(png_of_svg)), io.BytesIO(product_code_png(url, "Bánh pía"))):
        assert decoded(Image.open(image)) == [url]
    page = client.get(url)
    assert page.status_code == 200
    assert "Bánh pía Sóc Trăng" in page.text
