"""The scan path's SQL and the rows it returns, written by hand on purpose.

DESIGN.md allows the scan path to be hand-tuned: one UPDATE … RETURNING on one stamp row by its
primary key does the limit check and the count increment atomically, so there is no
read-then-write race on any database. On SQLite the writer lock makes it exact; on PostgreSQL a
second UPDATE of the same row waits for the first to commit and re-checks `scan_count <
scan_limit` against the new row (READ COMMITTED re-evaluation), so exactly `limit` scans win.
Raw DB-API connections skip the ORM, whose per-call cost would be several times the database's.
Statements use `:name` placeholders; `for_driver` rewrites them for psycopg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chinhhang.db import parse_sqlite_timestamp

_CONSUME = """
UPDATE stamps
   SET scan_count = scan_count + 1,
       first_scanned_at = COALESCE(first_scanned_at, :now)
 WHERE code = :code AND status = 'active' AND scan_count < scan_limit
RETURNING status, scan_count, scan_limit, sequence, product_id, batch_id, org_id,
          first_scanned_at
"""
_PEEK = """
SELECT status, scan_count, scan_limit, sequence, product_id, batch_id, org_id, first_scanned_at
  FROM stamps WHERE code = :code
"""
_GRACE = (
    "SELECT r.grace_minutes FROM stamps s JOIN stamp_runs r ON r.id = s.run_id WHERE s.code = :code"
)
_EVENT = """
INSERT INTO scan_events
    (kind, outcome, stamp_code, product_id, batch_id, org_id, scan_number, scanned_at,
     client_net, user_agent)
VALUES (:kind, :outcome, :code, :product_id, :batch_id, :org_id, :scan_number, :now,
        :client_net, :user_agent)
"""
_DESCRIBE = """
SELECT p.id, p.name, p.gtin, p.brand, p.description, p.origin, p.image_url, p.standards,
       p.shelf_life, p.warranty_months, p.website, p.withdrawn, p.image_file,
       o.id, o.name, o.address, o.website, o.gln,
       b.id, b.lot, b.production_date, b.expiry_date, b.facility, b.facility_gln
  FROM products p
  JOIN organizations o ON o.id = p.org_id
  LEFT JOIN batches b ON b.id = :batch_id AND b.product_id = p.id
 WHERE p.id = :product_id
"""
_STATIC_EVENT = """
INSERT INTO scan_events
    (kind, outcome, stamp_code, product_id, batch_id, org_id, scan_number, scanned_at,
     client_net, user_agent)
VALUES ('static', 'product', NULL, :product_id, :batch_id, :org_id, NULL, :now,
        :client_net, :user_agent)
"""
# A suspicious scan's alert, written in the scan's own transaction (DESIGN: events flow up
# through tables; the alert worker reads and deletes these rows, scans never call alerts).
_OUTBOX = """
INSERT INTO alert_outbox
    (reason, stamp_code, org_id, product_id, batch_id, client_net, occurred_at)
VALUES (:outcome, :code, :org_id, :product_id, :batch_id, :client_net, :now)
"""
_GUESSING = """
INSERT INTO alert_outbox
    (reason, stamp_code, org_id, product_id, batch_id, client_net, occurred_at)
VALUES ('guessing', NULL, NULL, NULL, NULL, :client_net, :now)
"""
# Where the stamp's first genuine scan was, if that shopper chose to say (rounded, or a
# province): read only for an over-limit page ("already verified on DATE, near PLACE").
# The province only: this is shown to whoever holds the code (perhaps a copier), and the first
# shopper's rounded position could be their home. An undone scan (staff) was not a shopper's.
_FIRST_PLACE = """
SELECT province_code, NULL, NULL FROM scan_events
 WHERE stamp_code = :code AND scan_number = 1 AND outcome = 'genuine'
   AND province_code IS NOT NULL AND undone_at IS NULL
 ORDER BY scanned_at DESC
 LIMIT 1
"""
# PostgreSQL's group commit (scans/pg_writer.py), one statement per batch instead of two per
# scan: count every stamp of the batch that allows it and write those scans' events. The
# batch's codes are distinct (a stamp scanned twice in one batch goes in the next statement,
# which sees this one's increment) and sorted in the codes' own collation, so the nested loop
# the planner picks for a few hundred keys locks rows in code order, as other batches do; were
# a plan ever to lock them otherwise, a deadlock fails one batch, which is then written scan by
# scan (scans/pg_writer.py). Scans it does not return (not active, over the limit, unknown)
# are looked at one by one, which says why. The batch is one JSON array, an array per scan:
# Python's C encoder makes it in microseconds, where psycopg's array dumpers quoted each value
# of four arrays in Python (about a fifth of a scan's writing cost).
PG_CONSUME_BATCH = """
WITH batch AS (
    SELECT e->>0 AS code, (e->>1)::timestamptz AS now, e->>2 AS client_net,
           e->>3 AS user_agent, position
      FROM json_array_elements(%(batch)s::json) WITH ORDINALITY AS b(e, position)
     ORDER BY (e->>0) COLLATE "C"
), counted AS (
    UPDATE stamps s
       SET scan_count = s.scan_count + 1,
           first_scanned_at = COALESCE(s.first_scanned_at, b.now)
      FROM batch b
     WHERE s.code = b.code AND s.status = 'active' AND s.scan_count < s.scan_limit
    RETURNING b.position, b.now, b.client_net, b.user_agent, s.code, s.status, s.scan_count,
              s.scan_limit, s.sequence, s.product_id, s.batch_id, s.org_id, s.first_scanned_at
), events AS (
    INSERT INTO scan_events
        (kind, outcome, stamp_code, product_id, batch_id, org_id, scan_number, scanned_at,
         client_net, user_agent)
    SELECT 'dynamic', 'genuine', code, product_id, batch_id, org_id, scan_count, now,
           client_net, user_agent
      FROM counted
)
SELECT position, status, scan_count, scan_limit, sequence, product_id, batch_id, org_id,
       first_scanned_at
  FROM counted
"""
# The printed static codes' page views of a batch, in one statement.
PG_STATIC_BATCH = """
INSERT INTO scan_events
    (kind, outcome, stamp_code, product_id, batch_id, org_id, scan_number, scanned_at,
     client_net, user_agent)
SELECT 'static', 'product', NULL, (e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint, NULL,
       (e->>3)::timestamptz, e->>4, e->>5
  FROM json_array_elements(%(batch)s::json) AS v(e)
"""
# The outcomes of the JSON contract (SPEC section 5); the first four are written as scan events.
GENUINE, OVER_LIMIT, NOT_ACTIVATED, VOID, UNKNOWN = (
    "genuine",
    "over_limit",
    "not_activated",
    "void",
    "unknown",
)

STATEMENTS = {
    "consume": _CONSUME,
    "peek": _PEEK,
    "grace": _GRACE,
    "event": _EVENT,
    "static_event": _STATIC_EVENT,
    "outbox": _OUTBOX,
    "guessing": _GUESSING,
    "describe": _DESCRIBE,
    "first_place": _FIRST_PLACE,
}


def for_driver(paramstyle: str) -> dict[str, str]:
    """The statements in the driver's placeholder style (sqlite3: named; psycopg: pyformat)."""
    if paramstyle == "named":
        return dict(STATEMENTS)
    return {name: re.sub(r":([a-z_]+)", r"%(\1)s", sql) for name, sql in STATEMENTS.items()}


@dataclass(frozen=True, slots=True)
class StampState:
    status: str
    scan_count: int
    scan_limit: int
    sequence: int
    product_id: int | None
    batch_id: int | None
    org_id: int
    first_scanned_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What we keep of the client: truncated network and user agent, never the full address."""

    client_net: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class StaticView:
    """What counting a static code's scan needs of its page: enough to keep beside a page
    rendered once for everyone (scans/views.py)."""

    product_id: int
    batch_id: int | None
    org_id: int


def row_state(row: Any) -> StampState:
    status, count, limit, sequence, product_id, batch_id, org_id, first = row
    return StampState(
        status,
        int(count),
        int(limit),
        int(sequence),
        product_id,
        batch_id,
        int(org_id),
        parse_sqlite_timestamp(first),
    )


def described(row: Any) -> dict[str, Any]:
    if row is None:
        return {"product": None, "manufacturer": None, "batch": None}
    size = len(_PRODUCT_KEYS)
    product = dict(zip(_PRODUCT_KEYS, row[:size], strict=True))
    product["withdrawn"] = bool(product["withdrawn"])
    maker = row[size : size + len(_MAKER_KEYS)]
    manufacturer = dict(zip(_MAKER_KEYS, maker, strict=True))
    first_batch = size + len(_MAKER_KEYS)
    batch = (
        dict(zip(_BATCH_KEYS, row[first_batch:], strict=True))
        if row[first_batch] is not None
        else None
    )
    if batch:
        for key in ("production_date", "expiry_date"):
            batch[key] = str(batch[key]) if batch[key] is not None else None
    return {"product": product, "manufacturer": manufacturer, "batch": batch}


_PRODUCT_KEYS = (
    "id",
    "name",
    "gtin",
    "brand",
    "description",
    "origin",
    "image_url",
    "standards",
    "shelf_life",
    "warranty_months",
    "website",
    "withdrawn",
    # An image uploaded through the portal, served from /media/ (preferred over image_url).
    "image_file",
)
# The location codes (GLN) too: the product card shows them (Circular 02/2024's item (e)), and
# the genuine page's journey names them without a query of its own (trace/journey_page.py).
_MAKER_KEYS = ("id", "name", "address", "website", "gln")
_BATCH_KEYS = ("id", "lot", "production_date", "expiry_date", "facility", "facility_gln")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a scan was, as its shopper shared it: rounded coordinates and/or a province."""

    province_code: int | None
    latitude: float | None
    longitude: float | None


def row_place(row: Any) -> Place | None:
    """The place of a first-scan row; None when there is no row or it holds no place."""
    if row is None:
        return None
    province, latitude, longitude = row
    if province is None and (latitude is None or longitude is None):
        return None
    return Place(
        int(province) if province is not None else None,
        float(latitude) if latitude is not None else None,
        float(longitude) if longitude is not None else None,
    )


def blocked_outcome(state: StampState) -> str:
    """Why a stamp that exists did not count a scan."""
    if state.status == "issued":
        return NOT_ACTIVATED
    if state.status == "void":
        return VOID
    return OVER_LIMIT
