"""Every figure of the regulator's dashboard recomputed from the rows in the database with
plain ORM reads and Python counting, independently of the service's GROUP BY queries, and the
dashboard's JSON tables put in the same comparable form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from tests.functional.regulator_world import SUSPICIOUS, VN


@dataclass(frozen=True)
class Want:
    """What the test asks for: the period, and whose figures (None: everyone's)."""

    first: date
    last: date
    issuer: int | None = None
    holder: int | None = None
    province: int | None = None
    product: int | None = None

    def in_period(self, moment: datetime | None) -> bool:
        return moment is not None and self.first <= moment.astimezone(VN).date() <= self.last


def _held(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(Stamp.code).where(Stamp.holder_org_id == org_id)))


def _my_scans(session: Session, want: Want) -> list[ScanEvent]:
    rows = list(session.scalars(select(ScanEvent)))
    held = _held(session, want.holder) if want.holder else set()
    return [
        s
        for s in rows
        if want.in_period(s.scanned_at)
        and (want.issuer is None or s.org_id == want.issuer)
        and (want.holder is None or s.stamp_code in held)
        and (want.province is None or s.province_code == want.province)
        and (want.product is None or s.product_id == want.product)
    ]


def expected(session: Session, want: Want) -> dict[str, Any]:
    """Every table of the dashboard in a comparable form (see `comparable`)."""
    scans = _my_scans(session, want)
    suspicious = [s for s in scans if s.outcome in SUSPICIOUS]
    per_day: Counter[tuple[str, str]] = Counter()
    for s in scans:
        per_day[(s.scanned_at.astimezone(VN).date().isoformat(), s.kind)] += 1

    def by(key: Any) -> dict[Any, tuple[int, ...]]:
        counts: Counter[tuple[Any, str]] = Counter((key(s), s.outcome) for s in suspicious)
        keys = {k for k, _o in counts}
        return {
            k: (*(counts[(k, o)] for o in SUSPICIOUS), sum(counts[(k, o)] for o in SUSPICIOUS))
            for k in keys
        }

    day_key = lambda s: s.scanned_at.astimezone(VN).date().isoformat()  # noqa: E731
    return {
        "scans_per_day": {
            day: (
                per_day[(day, "dynamic")],
                per_day[(day, "static")],
                per_day[(day, "dynamic")] + per_day[(day, "static")],
            )
            for day, _kind in per_day
        },
        "suspicious_per_day": by(day_key),
        "suspicious_by_province": by(lambda s: s.province_code),
        "suspicious_by_product": by(lambda s: (s.org_id, s.product_id)),
        "suspicious_by_organization": by(lambda s: s.org_id),
        "stamps_by_organization": _stamps(session, want),
        **_alerts_expected(session, want),
        **_reports_expected(session, want),
    }


def _stamps(session: Session, want: Want) -> dict[int, tuple[int, int, int, int]]:
    found: dict[int, list[int]] = {}
    for s in session.scalars(select(Stamp)):
        if want.issuer is not None and s.org_id != want.issuer:
            continue
        if want.holder is not None and s.holder_org_id != want.holder:
            continue
        if want.product is not None and s.product_id != want.product:
            continue
        counts = found.setdefault(s.org_id, [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += s.activated_at is not None
        counts[2] += want.in_period(s.activated_at)
        counts[3] += s.status == "void"
    return {org: (c[0], c[1], c[2], c[3]) for org, c in found.items()}


def _alerts_expected(session: Session, want: Want) -> dict[str, Any]:
    in_province = {
        s.stamp_code
        for s in session.scalars(select(ScanEvent))
        if want.province is not None and s.province_code == want.province
    }
    alerts = [
        a
        for a in session.scalars(select(Alert))
        if (want.issuer is None or a.org_id == want.issuer)
        and (want.holder is None or a.custodian_org_id == want.holder)
        and (want.province is None or a.stamp_code in in_province)
        and (want.product is None or a.product_id == want.product)
    ]
    reasons = ("over_limit", "not_activated", "void", "guessing")
    return {
        "alerts_by_reason": {
            r: (
                sum(1 for a in alerts if a.reason == r and a.status != "closed"),
                sum(1 for a in alerts if a.reason == r and want.in_period(a.first_at)),
            )
            for r in reasons
        },
        "open_alerts": {a.id for a in alerts if a.status != "closed"},
    }


def _reports_expected(session: Session, want: Want) -> dict[str, Any]:
    # A custodian sees no reports: the seller a report names may be that custodian.
    reports = [
        r
        for r in session.scalars(select(ShopperReport))
        if (want.issuer is None or r.org_id == want.issuer)
        and want.holder is None
        and (want.province is None or r.province_code == want.province)
        and (want.product is None or r.product_id == want.product)
    ]
    is_open = {"new", "investigating"}
    by_province: dict[int | None, tuple[int, int]] = {}
    for r in reports:
        opened, received = r.status in is_open, want.in_period(r.created_at)
        if opened or received:
            old = by_province.get(r.province_code, (0, 0))
            by_province[r.province_code] = (old[0] + opened, old[1] + received)
    return {
        "reports_by_province": by_province,
        "open_reports": {r.reference for r in reports if r.status in is_open},
    }


def pending(session: Session) -> set[int]:
    return set(session.scalars(select(Organization.id).where(Organization.approved.is_(False))))


def comparable(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The dashboard's JSON tables in the form `expected` gives (days without scans, which the
    dashboard lists as zeros, left out)."""
    counts = (*SUSPICIOUS, "total")

    def keyed(name: str, key: Any, columns: tuple[str, ...]) -> dict[Any, tuple[int, ...]]:
        return {key(r): tuple(r[c] for c in columns) for r in tables[name]}

    nonzero = lambda name: [r for r in tables[name] if r["total"]]  # noqa: E731
    return {
        "scans_per_day": {
            r["day"]: (r["dynamic"], r["static"], r["total"]) for r in nonzero("scans_per_day")
        },
        "suspicious_per_day": {
            r["day"]: tuple(r[c] for c in counts) for r in nonzero("suspicious_per_day")
        },
        "suspicious_by_province": keyed(
            "suspicious_by_province", lambda r: r["province_code"], counts
        ),
        "suspicious_by_product": keyed(
            "suspicious_by_product", lambda r: (r["org_id"], r["product_id"]), counts
        ),
        "suspicious_by_organization": keyed(
            "suspicious_by_organization", lambda r: r["org_id"], counts
        ),
        "stamps_by_organization": keyed(
            "stamps_by_organization",
            lambda r: r["org_id"],
            ("issued", "activated", "activated_in_period", "void"),
        ),
        "alerts_by_reason": keyed(
            "alerts_by_reason", lambda r: r["reason"], ("open", "raised_in_period")
        ),
        "open_alerts": {r["alert_id"] for r in tables["open_alerts"]},
        "reports_by_province": keyed(
            "reports_by_province", lambda r: r["province_code"], ("open", "received_in_period")
        ),
        "open_reports": {r["reference"] for r in tables["open_reports"]},
    }
