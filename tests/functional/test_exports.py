"""Leak control of exports (SPEC section 9, docs/printing.md "Leak control"): only owners and
admins of the approved issuing manufacturer export codes, through the API, the portal or the
command line (test_cli.py); every export is counted on the run and audited before a byte is
sent; bad input changes nothing.

CSV carries the full logic here. The tests marked "rendering" exercise PDF, ZIP and the static
product artwork, which printing/exports.py and artwork.py render.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import pyzipper
import zxingcpp
from PIL import Image
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry
from chinhhang.db import session_scope
from chinhhang.printing.cli import PartFile
from chinhhang.printing.fonts import label_font
from chinhhang.printing.urls import product_print_url
from chinhhang.stamps.models import StampRun
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import create_run
from tests.api_helpers import PASSWORD, ApiWorld, OrgFixture
from tests.conftest import cli_env
from tests.portal_helpers import Browser, portal_client

BASE = "HTTP://TESTSERVER"


def exports_of(sessions, org_id: int | None = None) -> list[AuditEntry]:
    with sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "stamps.export")
        if org_id is not None:
            query = query.where(AuditEntry.org_id == org_id)
        return list(session.scalars(query.order_by(AuditEntry.id)))


def export_count(sessions, run_id: int) -> int:
    with sessions() as session:
        run = session.get(StampRun, run_id)
        assert run is not None
        return run.export_count


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def api_export(client, org: OrgFixture, run_id: int | None, role: str = "owner", **body):
    return client.post(
        f"/api/v1/runs/{run_id}/exports", headers=org.auth(role), json={"format": "csv", **body}
    )


def plain(serial: str) -> str:
    return serial.replace(" ", "").replace("-", "")


def email_of(org: OrgFixture, role: str) -> str:
    return f"{role}.{org.id}@{org.kind}.test"


# --- who may export ---------------------------------------------------------------------


def test_owner_and_admin_export_over_the_api_each_export_audited_once(
    client, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    for role in ("owner", "admin"):
        answer = api_export(client, maker, maker.run_id, role)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        disposition = answer.headers["content-disposition"]
        assert disposition == f'attachment; filename="run-{maker.run_id}.csv"'
        rows = csv_rows(answer.content)
        assert rows[0] == ["serial", "code", "url"]
        assert [r[0] for r in rows[1:]] == maker.serials
        assert [r[1] for r in rows[1:]] == maker.codes
        assert all(r[2] == f"{BASE}/V/{r[1]}" for r in rows[1:])
    entries = exports_of(sessions, maker.id)
    assert [e.token_id for e in entries] == [maker.token_ids["owner"], maker.token_ids["admin"]]
    assert {e.via for e in entries} == {"api"}
    assert {e.target for e in entries} == {f"run:{maker.run_id}"}
    details = json.loads(entries[0].details or "{}")
    assert details["run"] == maker.run_id
    assert details["format"] == "csv"
    assert (details["first"], details["last"]) == (
        plain(maker.serials[0]),
        plain(maker.serials[-1]),
    )
    assert details["quantity"] == len(maker.serials)
    assert export_count(sessions, maker.run_id) == 2
    run = client.get(f"/api/v1/runs/{maker.run_id}", headers=maker.auth("viewer")).json()
    assert run["export_count"] == 2


def test_nobody_else_exports_and_a_refusal_leaves_no_trace(
    client, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    refused = [
        (maker, "viewer", 403, "does not allow"),
        (maker, "operator", 403, "does not allow"),
        (world.distributor, "owner", 403, "cannot do this"),
        (world.retailer, "owner", 403, "cannot do this"),
        (world.regulator, "owner", 403, "cannot do this"),
        (world.pending, "owner", 403, "waiting for approval"),
        (world.other_maker, "owner", 404, "No such stamp run"),
        (world.other_maker, "admin", 404, "No such stamp run"),
    ]
    for org, role, status, message in refused:
        answer = client.post(
            f"/api/v1/runs/{maker.run_id}/exports",
            headers={**org.auth(role), "Accept-Language": "en"},
            json={"format": "csv"},
        )
        assert answer.status_code == status, (org.name, role, answer.text)
        assert message in answer.json()["error"]["message"], (org.name, role)
        assert maker.codes[0] not in answer.text
    assert exports_of(sessions) == []
    assert export_count(sessions, maker.run_id) == 0


def test_the_portal_shows_the_form_to_owners_and_admins_only(settings, world: ApiWorld) -> None:
    maker = world.maker
    page = f"/portal/runs/{maker.run_id}"
    action = f'action="/portal/runs/{maker.run_id}/export"'
    with portal_client(settings) as client:
        browser = Browser(client)
        for role in ("owner", "admin"):
            browser.login(email_of(maker, role), PASSWORD)
            html = browser.get(page).text
            assert action in html
            assert "Never exported" in html
            assert "A4 sheet · 40 labels of 45.7 × 25.4 mm" in html  # the templates
            assert f'value="Product of {maker.name}"' in html  # the caption's default
        for role in ("operator", "viewer"):
            browser.login(email_of(maker, role), PASSWORD)
            html = browser.get(page).text
            assert "Never exported" in html
            assert action not in html
            refused = browser.post(f"/portal/runs/{maker.run_id}/export", {"format": "csv"})
            assert refused.status_code == 403
            assert maker.codes[0] not in refused.text
        browser.login(email_of(world.other_maker, "owner"), PASSWORD)
        hidden = browser.post(f"/portal/runs/{maker.run_id}/export", {"format": "csv"})
        assert hidden.status_code == 404
        assert maker.codes[0] not in hidden.text


def test_a_portal_export_downloads_and_the_run_page_counts_it(
    settings, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(email_of(maker, "admin"), PASSWORD)
        answer = browser.post(
            f"/portal/runs/{maker.run_id}/export",
            {"format": "csv", "serials": "", "template": "a4-24", "caption": "Trà"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="run-{maker.run_id}.csv"'
        )
        assert answer.headers["cache-control"] == "no-store"
        assert [r[1] for r in csv_rows(answer.content)[1:]] == maker.codes
        assert "Exported once" in browser.get(f"/portal/runs/{maker.run_id}").text
        browser.post(f"/portal/runs/{maker.run_id}/export", {"format": "csv"})
        assert "Exported 2 times" in browser.get(f"/portal/runs/{maker.run_id}").text
    entries = exports_of(sessions, maker.id)
    assert len(entries) == 2
    assert entries[0].user_id == maker.users["admin"]
    assert entries[0].via == "web"
    # A CSV has no label options: the entry names none of them (a PDF's does, below).
    assert "template" not in json.loads(entries[0].details or "{}")


# --- what is exported ---------------------------------------------------------------------


def test_a_range_export_has_exactly_those_serials(client, world: ApiWorld, sessions) -> None:
    maker = world.maker
    first, last = maker.serials[1], maker.serials[3]
    answer = api_export(client, maker, maker.run_id, serials=f"{first} - {last}")
    assert answer.status_code == 200, answer.text
    assert [r[0] for r in csv_rows(answer.content)[1:]] == maker.serials[1:4]
    assert (
        f"run-{maker.run_id}-{plain(first)}-{plain(last)}.csv"
        in (answer.headers["content-disposition"])
    )
    one = api_export(client, maker, maker.run_id, serials=maker.serials[4])
    assert [r[0] for r in csv_rows(one.content)[1:]] == [maker.serials[4]]
    details = [json.loads(e.details or "{}") for e in exports_of(sessions, maker.id)]
    assert [(d["first"], d["last"], d["quantity"]) for d in details] == [
        (plain(first), plain(last), 3),
        (plain(maker.serials[4]), plain(maker.serials[4]), 1),
    ]


def test_every_exported_url_resolves_to_its_stamp_in_either_case(client, world: ApiWorld) -> None:
    maker = world.maker
    rows = csv_rows(api_export(client, maker, maker.run_id).content)[1:]
    for serial, _code, url in rows:
        for form in (url, url.lower()):
            client.cookies.clear()
            scanned = client.get(form, headers={"Accept": "application/json"})
            assert scanned.status_code == 200, form
            assert plain(scanned.json()["serial"]) == plain(serial)


# --- bad input ----------------------------------------------------------------------------


def test_bad_exports_are_refused_clearly_and_change_nothing(
    client, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    with session_scope(sessions) as session:
        issuing = create_run(session, Actor.command_line(maker.id), quantity=3)  # never filled
        issuing_id = issuing.id
        outside = grouped(serial_for(issuing.first_sequence))  # the next run's first serial
    cases = [
        ({"serials": f"{maker.serials[0]}-{outside}"}, 400, "not in this run"),
        ({"serials": outside}, 400, "not in this run"),
        ({"serials": f"{maker.serials[0]}, {maker.serials[1]}"}, 400, "not a list"),
        ({"serials": f"{maker.serials[0]}\n{maker.serials[1]}"}, 400, "not a list"),
        ({"serials": "12345"}, 400, "is not valid"),
        ({"format": "doc"}, 400, "format"),
        ({"format": "pdf", "template": "nope"}, 400, "Unknown label template nope"),
        ({"ec_level": "X"}, 400, "ec_level"),
        ({"caption": "a\x00b"}, 400, "caption"),
        ({"colour": "red"}, 400, "colour"),
    ]
    headers = {**maker.auth(), "Accept-Language": "en"}
    for body, status, message in cases:
        answer = client.post(
            f"/api/v1/runs/{maker.run_id}/exports", headers=headers, json={"format": "csv", **body}
        )
        assert answer.status_code == status, (body, answer.text)
        assert message in answer.json()["error"]["message"], (body, answer.text)
    still = client.post(
        f"/api/v1/runs/{issuing_id}/exports", headers=headers, json={"format": "csv"}
    )
    assert still.status_code == 400
    assert "still being issued" in still.json()["error"]["message"]
    missing = client.post("/api/v1/runs/999999/exports", headers=headers, json={"format": "csv"})
    assert missing.status_code == 404
    assert exports_of(sessions) == []
    assert export_count(sessions, maker.run_id) == export_count(sessions, issuing_id) == 0


def test_a_bad_portal_export_shows_the_run_page_with_the_reason(
    settings, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(email_of(maker, "owner"), PASSWORD)
        listed = f"{maker.serials[0]},{maker.serials[2]}"
        answer = browser.post(
            f"/portal/runs/{maker.run_id}/export",
            {"format": "csv", "serials": listed, "caption": "Giữ lại", "crop_marks": "1"},
        )
        assert answer.status_code == 400
        assert "not a list" in answer.text
        assert 'value="Giữ lại"' in answer.text  # the form keeps what was typed
        assert "Never exported" in answer.text
        unknown = browser.post(f"/portal/runs/{maker.run_id}/export", {"format": "doc"})
        assert unknown.status_code == 400
        assert "Unknown export format doc" in unknown.text
        template = browser.post(
            f"/portal/runs/{maker.run_id}/export", {"format": "pdf", "template": "x"}
        )
        assert template.status_code == 400
        assert "Unknown label template x" in template.text
    assert exports_of(sessions) == []
    assert export_count(sessions, maker.run_id) == 0


def test_a_failed_file_export_leaves_no_half_file(tmp_path: Path) -> None:
    target = tmp_path / "run.csv"

    def disk_fills_up() -> None:
        with PartFile(target) as part:
            part.handle.write(b"serial,code,url\n")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        disk_fills_up()
    assert list(tmp_path.iterdir()) == []
    with PartFile(target) as part:
        part.handle.write(b"done")
        part.keep()
    assert target.read_bytes() == b"done"
    assert target.stat().st_mode & 0o777 == 0o600  # it holds the codes
    assert list(tmp_path.iterdir()) == [target]


# --- rendering: PDF, ZIP and static artwork (printing/exports.py, artwork.py) -------------


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("zip", b"PK")])
def test_rendering_pdf_and_zip_exports_are_audited_like_csv(
    client, world: ApiWorld, sessions, fmt: str, magic: bytes
) -> None:
    maker = world.maker
    answer = api_export(
        client,
        maker,
        maker.run_id,
        format=fmt,
        serials=f"{maker.serials[0]}-{maker.serials[1]}",
        template="a4-65",
        scratch_off=True,
        crop_marks=True,
        caption="Nước mắm",
        ec_level="Q",
    )
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(magic)
    assert answer.headers["content-type"].startswith(f"application/{fmt}")
    if fmt == "zip":
        assert len(zipfile.ZipFile(io.BytesIO(answer.content)).namelist()) == 2
    (entry,) = exports_of(sessions, maker.id)
    details = json.loads(entry.details or "{}")
    assert (details["format"], details["quantity"], details["ec_level"]) == (fmt, 2, "Q")
    if fmt == "pdf":
        assert (details["template"], details["caption"]) == ("a4-65", "Nước mắm")
        assert details["scratch_off"] is details["crop_marks"] is True
    else:
        assert "template" not in details
    assert export_count(sessions, maker.run_id) == 1


def test_rendering_a_portal_pdf_export(settings, world: ApiWorld) -> None:
    maker = world.maker
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(email_of(maker, "owner"), PASSWORD)
        answer = browser.post(
            f"/portal/runs/{maker.run_id}/export",
            {"format": "pdf", "template": "roll-40x30", "scratch_off": "1", "ec_level": "H"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.content.startswith(b"%PDF")
        assert f'filename="run-{maker.run_id}.pdf"' in answer.headers["content-disposition"]


def test_rendering_the_product_page_offers_its_static_code(settings, world: ApiWorld) -> None:
    maker = world.maker
    url = product_print_url("http://testserver", maker.gtin, maker.product_id or 0)
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(email_of(maker, "viewer"), PASSWORD)
        page = browser.get(f"/portal/products/{maker.product_id}").text
        assert f'href="/portal/products/{maker.product_id}/qr.svg"' in page
        png = browser.get(f"/portal/products/{maker.product_id}/qr.png")
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.headers["content-disposition"] == (
            f'attachment; filename="product-{maker.product_id}.png"'
        )
        (found,) = zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCodeModel2
        )
        assert found.text == url
        svg = browser.get(f"/portal/products/{maker.product_id}/qr.svg")
        assert svg.status_code == 200
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in svg.content
        browser.login(email_of(world.other_maker, "owner"), PASSWORD)
        assert browser.get(f"/portal/products/{maker.product_id}/qr.png").status_code == 404


def test_rendering_the_api_serves_the_static_code(client, world: ApiWorld, sessions) -> None:
    maker = world.maker
    svg = client.get(f"/api/v1/products/{maker.product_id}/qr.svg", headers=maker.auth("viewer"))
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    other = world.other_maker.auth()
    assert client.get(f"/api/v1/products/{maker.product_id}/qr.svg", headers=other).status_code == (
        404
    )
    assert exports_of(sessions) == []


@pytest.mark.parametrize("font", ["/nonexistent/font.ttf", __file__])
def test_a_server_without_a_usable_font_refuses_pdf_before_recording_it(
    client, world: ApiWorld, sessions, monkeypatch: pytest.MonkeyPatch, font: str
) -> None:
    """Refused with a clear message (missing file, or a file that is no TrueType font) before
    the export is counted or audited: nothing left the building."""
    maker = world.maker
    monkeypatch.setenv("CHINHHANG_LABEL_FONT", font)
    label_font.cache_clear()
    try:
        answer = api_export(client, maker, maker.run_id, format="pdf")
    finally:
        monkeypatch.delenv("CHINHHANG_LABEL_FONT")
        label_font.cache_clear()
    assert answer.status_code == 400
    assert "phông" in answer.json()["error"]["message"]  # "font", in the default language
    assert exports_of(sessions, maker.id) == []
    assert export_count(sessions, maker.run_id) == 0
    assert api_export(client, maker, maker.run_id, format="csv").status_code == 200


# --- sealed exports: a password-protected ZIP (printing/sealed.py) ------------------------

SECRET = "gọi điện cho nhà in 0912"  # what the tests seal with; never stored, never logged


def unsealed(content: bytes, password: str = SECRET) -> tuple[str, bytes]:
    """The one entry of a sealed download: (name, bytes). RuntimeError with a wrong password."""
    with pyzipper.AESZipFile(io.BytesIO(content)) as archive:
        archive.setpassword(password.encode())
        (entry,) = archive.infolist()
        return entry.filename, archive.read(entry)


def assert_sealed(content: bytes, name: str, expected: bytes) -> None:
    """Opens with SECRET, and only with it, to exactly `expected`; the codes are unreadable."""
    assert unsealed(content) == (name, expected)
    with pytest.raises(RuntimeError, match="Bad password"):
        unsealed(content, SECRET[:-1] + "5")
    assert not any(code.encode() in content for code in csv_codes(expected))


def csv_codes(content: bytes) -> list[str]:
    return [row[1] for row in csv_rows(content)[1:]] if content.startswith(b"serial") else []


def assert_audited_sealed(sessions, org_id: int, *, expected: int) -> None:
    entries = exports_of(sessions, org_id)
    assert len(entries) == expected
    details = json.loads(entries[-1].details or "{}")
    assert details["sealed"] is True
    assert "password" not in details
    assert all(SECRET not in (entry.details or "") for entry in entries)


def cli_export(settings, run_id: int, *args: str, stdin: str | None = None):
    """`chinhhang stamps export RUN ARGS` on the test's database, in a process of its own."""
    extra = {"CHINHHANG_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return subprocess.run(
        [sys.executable, "-m", "chinhhang", "stamps", "export", str(run_id), *args],
        env=cli_env(settings.data_dir, **extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_sealed_api_export_opens_only_with_its_password(
    client, world: ApiWorld, sessions, caplog: pytest.LogCaptureFixture
) -> None:
    maker = world.maker
    serials = f"{maker.serials[1]}-{maker.serials[3]}"
    clear = api_export(client, maker, maker.run_id, serials=serials)
    sealed = api_export(client, maker, maker.run_id, serials=serials, password=SECRET)
    assert sealed.status_code == 200, sealed.text
    assert sealed.headers["content-type"] == "application/zip"
    name = f"run-{maker.run_id}-{plain(maker.serials[1])}-{plain(maker.serials[3])}"
    assert sealed.headers["content-disposition"] == f'attachment; filename="{name}.csv.zip"'
    assert_sealed(sealed.content, f"{name}.csv", clear.content)
    assert_audited_sealed(sessions, maker.id, expected=2)
    assert "sealed" not in json.loads(exports_of(sessions, maker.id)[0].details or "{}")
    assert export_count(sessions, maker.run_id) == 2
    assert SECRET not in caplog.text


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("zip", b"PK")])
def test_rendering_sealed_pdf_and_zip_exports_hold_the_same_file(
    client, world: ApiWorld, sessions, fmt: str, magic: bytes
) -> None:
    maker = world.maker
    answer = api_export(client, maker, maker.run_id, format=fmt, password=SECRET)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert f'filename="run-{maker.run_id}.{fmt}.zip"' in answer.headers["content-disposition"]
    name, inner = unsealed(answer.content)
    assert name == f"run-{maker.run_id}.{fmt}"
    assert inner.startswith(magic)
    if fmt == "zip":
        svgs = zipfile.ZipFile(io.BytesIO(inner)).namelist()
        assert svgs == [f"{plain(serial)}.svg" for serial in maker.serials]
    assert_audited_sealed(sessions, maker.id, expected=1)


def test_a_sealed_portal_export_opens_only_with_its_password(
    settings, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    export = f"/portal/runs/{maker.run_id}/export"
    with portal_client(settings) as client:
        browser = Browser(client)
        browser.login(email_of(maker, "owner"), PASSWORD)
        page = browser.get(f"/portal/runs/{maker.run_id}").text
        assert 'name="password" type="password" autocomplete="new-password"' in page
        clear = browser.post(export, {"format": "csv", "password": ""})
        assert clear.headers["content-type"].startswith("text/csv")  # no password: no seal
        sealed = browser.post(export, {"format": "csv", "password": SECRET})
        assert sealed.status_code == 200, sealed.text
        assert sealed.headers["content-type"] == "application/zip"
        assert sealed.headers["content-disposition"] == (
            f'attachment; filename="run-{maker.run_id}.csv.zip"'
        )
        assert sealed.headers["cache-control"] == "no-store"
        assert_sealed(sealed.content, f"run-{maker.run_id}.csv", clear.content)
        assert "Exported 2 times" in browser.get(f"/portal/runs/{maker.run_id}").text
    assert_audited_sealed(sessions, maker.id, expected=2)
    assert exports_of(sessions, maker.id)[-1].via == "web"


def test_a_sealed_cli_export_reads_its_password_from_a_file_or_stdin(
    settings, world: ApiWorld, sessions, tmp_path: Path
) -> None:
    maker = world.maker
    run_id = maker.run_id or 0
    serials = f"--serials={maker.serials[0]}-{maker.serials[2]}"
    clear, from_file, from_stdin = (tmp_path / name for name in ("a.csv", "b.zip", "c.zip"))
    password_file = tmp_path / "password.txt"
    password_file.write_text(SECRET + "\n", encoding="utf-8")
    done = cli_export(settings, run_id, serials, "--output", str(clear))
    assert done.returncode == 0, done.stderr
    done = cli_export(
        settings, run_id, serials, "--output", str(from_file), "--password-file", str(password_file)
    )
    assert done.returncode == 0, done.stderr
    assert "AES-256" in done.stderr
    assert "by phone" in done.stderr
    piped = cli_export(
        settings, run_id, serials, "--output", str(from_stdin), "--password-file", "-",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    name = f"run-{run_id}-{plain(maker.serials[0])}-{plain(maker.serials[2])}.csv"
    for sealed in (from_file, from_stdin):
        assert_sealed(sealed.read_bytes(), name, clear.read_bytes())
        assert sealed.stat().st_mode & 0o777 == 0o600
    assert_audited_sealed(sessions, maker.id, expected=3)
    assert SECRET not in done.stdout + done.stderr + piped.stdout + piped.stderr
    assert "--password-file" in cli_export(settings, run_id, "--help").stdout


def test_a_bad_password_is_refused_everywhere_and_records_nothing(
    settings, client, world: ApiWorld, sessions, tmp_path: Path
) -> None:
    maker = world.maker
    headers = {**maker.auth(), "Accept-Language": "en"}
    for password in ("", "too short", "x" * 201, "two\nlines of it"):
        answer = client.post(
            f"/api/v1/runs/{maker.run_id}/exports",
            headers=headers,
            json={"format": "csv", "password": password},
        )
        assert answer.status_code == 400, answer.text
        assert "12 to 200 characters" in answer.json()["error"]["message"]
        assert not password or password not in answer.text
    vietnamese = api_export(client, maker, maker.run_id, password="ngắn")
    assert "từ 12 đến 200 ký tự" in vietnamese.json()["error"]["message"]
    with portal_client(settings) as portal:
        browser = Browser(portal)
        browser.login(email_of(maker, "owner"), PASSWORD)
        refused = browser.post(
            f"/portal/runs/{maker.run_id}/export", {"format": "csv", "password": "short one"}
        )
        assert refused.status_code == 400
        assert "12 to 200 characters" in refused.text
        assert "short one" not in refused.text  # never shown again
    short = tmp_path / "short.txt"
    short.write_text("short one\n", encoding="utf-8")
    out = tmp_path / "run.csv.zip"
    for password_file in (short, tmp_path / "missing.txt"):
        done = cli_export(
            settings, maker.run_id or 0, "--output", str(out), "--password-file", str(password_file)
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
    assert not out.exists()
    assert exports_of(sessions) == []
    assert export_count(sessions, maker.run_id) == 0
