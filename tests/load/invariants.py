"""What must hold in the database after the load, checked against every recorded answer.

A scan answered genuine was committed before the answer (SPEC: a crash never loses a counted
scan); a scan that got no answer may or may not have landed. So, per stamp:

- every genuine answer (code, n) has its scan event (code, genuine, scan_number n), and the
  genuine answers of a stamp carry distinct numbers;
- the stamp's genuine events are numbered exactly 1..scan_count, and scan_count <= scan_limit
  (the database is consistent with itself, whatever was answered);
- answered genuine <= scan_count <= answered genuine + the stamp's requests that may have
  landed unanswered (no answer, or a 503);
- the same bounds for each suspicious outcome (over limit, not activated, void) and its events;
- no alert is lost or doubled: the stamp's outbox rows still waiting plus the scans its alerts
  counted equal its suspicious events.

`exact=True` (the soak: nothing unanswered) turns every bound into an equality.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, text

from tests.load.client import UNANSWERED, Answer

GENUINE = "genuine"
SUSPICIOUS = ("over_limit", "not_activated", "void")
# Answers after which a scan may have been counted without the client knowing its outcome.
MAYBE = (UNANSWERED, "busy")
# The answers each kind of target may get (besides MAYBE); anything else (a 5xx, a throttled
# scan, a body that is not the verdict) breaks the run.
OUTCOMES_OF_KIND = {
    "hot": (GENUINE,),
    "small": (GENUINE, "over_limit"),
    "not_activated": ("not_activated",),
    "void": ("void",),
    "forged": ("unknown",),
}


@dataclass
class Database:
    stamps: dict[str, tuple[str, int, int]]  # code -> (status, scan_count, scan_limit)
    genuine_numbers: dict[str, list[int]]
    suspicious_events: dict[str, Counter[str]]
    outbox_rows: Counter[str]
    alert_scans: Counter[str]
    other_outbox_rows: int
    other_events: int


def read_database(engine: Engine) -> Database:
    with engine.connect() as conn:
        stamps = {
            code: (status, count, limit)
            for code, status, count, limit in conn.execute(
                text("SELECT code, status, scan_count, scan_limit FROM stamps")
            )
        }
        genuine: dict[str, list[int]] = defaultdict(list)
        suspicious: dict[str, Counter[str]] = defaultdict(Counter)
        other_events = 0
        for code, outcome, number in conn.execute(
            text(
                "SELECT stamp_code, outcome, scan_number FROM scan_events "
                "WHERE kind = 'dynamic' AND undone_at IS NULL"
            )
        ):
            if outcome == GENUINE:
                genuine[code].append(number)
            elif outcome in SUSPICIOUS:
                suspicious[code][outcome] += 1
            else:
                other_events += 1
        outbox: Counter[str] = Counter()
        other_outbox = 0
        for code, rows in conn.execute(
            text("SELECT stamp_code, count(*) FROM alert_outbox GROUP BY stamp_code")
        ):
            if code is None:
                other_outbox += rows
            else:
                outbox[code] += rows
        alerts: Counter[str] = Counter()
        for code, scans in conn.execute(
            text(
                "SELECT stamp_code, sum(scan_count) FROM alerts "
                "WHERE stamp_code IS NOT NULL GROUP BY stamp_code"
            )
        ):
            alerts[code] += int(scans)
    return Database(
        stamps, dict(genuine), dict(suspicious), outbox, alerts, other_outbox, other_events
    )


@dataclass
class Tally:
    """The answers of one stamp."""

    genuine_numbers: list[int]
    outcomes: Counter[str]


def tally(answers: list[Answer]) -> dict[str, Tally]:
    found: dict[str, Tally] = defaultdict(lambda: Tally([], Counter()))
    for answer in answers:
        if answer.kind == "forged":
            continue
        entry = found[answer.code]
        entry.outcomes[answer.outcome] += 1
        if answer.outcome == GENUINE and answer.scan_count is not None:
            entry.genuine_numbers.append(answer.scan_count)
    return dict(found)


@dataclass
class Checked:
    """What the database holds after the load, for the report."""

    stamps_scanned: int
    genuine_events: int
    suspicious_events: int
    outbox_waiting: int
    alerts_folded: int


def check(db: Database, answers: list[Answer], *, exact: bool) -> Checked:
    """Every invariant of the module docstring; fails listing the first broken ones."""
    problems = [
        f"{answer.kind} code answered {answer}"
        for answer in answers
        if answer.outcome not in (*MAYBE, *OUTCOMES_OF_KIND[answer.kind])
    ]
    tallies = tally(answers)
    for code, (_status, count, limit) in db.stamps.items():
        problems += _stamp_problems(
            db, code, count, limit, tallies.get(code, Tally([], Counter())), exact=exact
        )
    unknown_codes = set(tallies) - set(db.stamps)
    if unknown_codes:
        problems.append(f"answers for codes not in the database: {sorted(unknown_codes)[:5]}")
    if db.other_events:
        problems.append(f"{db.other_events} scan events with an unexpected outcome")
    if db.other_outbox_rows:
        problems.append(f"{db.other_outbox_rows} outbox rows without a stamp (guessing?)")
    assert not problems, f"{len(problems)} broken invariants, first ones:\n" + "\n".join(
        problems[:20]
    )
    return Checked(
        stamps_scanned=sum(1 for stamp in db.stamps.values() if stamp[1]),
        genuine_events=sum(len(numbers) for numbers in db.genuine_numbers.values()),
        suspicious_events=sum(sum(c.values()) for c in db.suspicious_events.values()),
        outbox_waiting=sum(db.outbox_rows.values()),
        alerts_folded=sum(db.alert_scans.values()),
    )


def _stamp_problems(
    db: Database, code: str, count: int, limit: int, entry: Tally, *, exact: bool
) -> list[str]:
    problems = []
    numbers = db.genuine_numbers.get(code, [])
    events = db.suspicious_events.get(code, Counter())
    maybe = sum(entry.outcomes[outcome] for outcome in MAYBE)
    if exact and maybe:
        problems.append(f"{code}: {maybe} requests without an answer in a run without crash")
    if count > limit:
        problems.append(f"{code}: scan_count {count} over its limit {limit}")
    if sorted(numbers) != list(range(1, count + 1)):
        problems.append(f"{code}: scan_count {count} but genuine events {sorted(numbers)}")
    answered = entry.genuine_numbers
    if len(set(answered)) != len(answered):
        problems.append(f"{code}: one scan number answered twice: {sorted(answered)}")
    missing = set(answered) - set(numbers)
    if missing:
        problems.append(f"{code}: genuine answers {sorted(missing)} have no scan event")
    if not len(answered) <= count <= len(answered) + maybe:
        problems.append(
            f"{code}: scan_count {count}, answered genuine {len(answered)}, "
            f"unanswered or busy {maybe}"
        )
    for outcome in SUSPICIOUS:
        said, recorded = entry.outcomes[outcome], events[outcome]
        if not said <= recorded <= said + maybe:
            problems.append(
                f"{code}: {outcome} answered {said}, events {recorded}, unanswered or busy {maybe}"
            )
    suspicious = sum(events.values())
    if db.outbox_rows[code] + db.alert_scans[code] != suspicious:
        problems.append(
            f"{code}: {suspicious} suspicious scan events but {db.outbox_rows[code]} "
            f"outbox rows waiting + {db.alert_scans[code]} scans in its alerts"
        )
    if entry.outcomes["over_limit"] and count != limit:
        problems.append(f"{code}: answered over limit, but counted {count} of {limit}")
    return problems
