"""The figures of a load run, printed on one block (`make test-load` shows them, -s)."""

from __future__ import annotations

from tests.load.client import UNANSWERED, LoadResult
from tests.load.invariants import Checked


def figures(title: str, result: LoadResult, checked: Checked, extra: str = "") -> str:
    outcomes = ("genuine", "over_limit", "not_activated", "void", "unknown", "busy", UNANSWERED)
    counts = ", ".join(f"{name} {result.count(name)}" for name in outcomes)
    rate = result.requests / result.seconds if result.seconds else 0.0
    return (
        f"\n{title}: {result.requests} requests in {result.seconds:.1f} s ({rate:.0f}/s); "
        f"{counts}\n  database: {checked.stamps_scanned} stamps counted, "
        f"{checked.genuine_events} genuine events, {checked.suspicious_events} suspicious "
        f"events = {checked.alerts_folded} folded into alerts + {checked.outbox_waiting} "
        f"outbox rows waiting{extra}"
    )
