"""A printed static code's page is built once and kept a few seconds (scans/page_cache.py):
every scan is still counted, an edit made through the app shows at once, and the languages
and lots are kept apart."""

from __future__ import annotations

from sqlalchemy import func, select, text

from chinhhang.accounts.models import AuditEntry
from chinhhang.catalog.models import Product
from chinhhang.db import session_scope
from chinhhang.scans.models import ScanEvent
from tests.factories import make_run


def _static_scans(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).select_from(ScanEvent).where(ScanEvent.kind == "static")
            )
        )


def test_the_page_is_kept_and_every_scan_still_counts(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, lot="LOT-1")
    first = client.get(f"/p/{run.product_id}")
    assert "Nước mắm thử nghiệm" in first.text
    # Changed behind the app's back (no ORM write in this process): the kept page is shown.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE products SET name = 'Renamed quietly' WHERE id = :id"),
            {"id": run.product_id},
        )
    # Writes to tables the page does not show (here the audit log) keep it too.
    with session_scope(sessions) as session:
        session.add(AuditEntry(org_id=run.org_id, via="cli", action="test.unrelated"))
    again = client.get(f"/p/{run.product_id}")
    assert again.text == first.text
    assert _static_scans(engine) == 2
    # Another language or another lot is another page.
    english = client.get(f"/p/{run.product_id}?lang=en")
    assert 'lang="en"' in english.text
    assert "Renamed quietly" in english.text
    lot = client.get(f"/p/{run.product_id}?lot=LOT-1")
    assert "LOT-1" in lot.text
    assert _static_scans(engine) == 4


def test_an_edit_through_the_app_shows_at_once(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    assert "Nước mắm thử nghiệm" in client.get(f"/p/{run.product_id}").text
    with session_scope(sessions) as session:  # an ORM write, as the portal's edit form does
        session.get(Product, run.product_id).name = "Nước mắm mới"
    assert "Nước mắm mới" in client.get(f"/p/{run.product_id}").text
    head = client.head(f"/p/{run.product_id}")
    assert head.status_code == 200
    assert _static_scans(engine) == 2  # HEAD shows the page without counting
