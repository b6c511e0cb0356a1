"""What the load tests set up: durations from the environment, and the stamps to scan.

The stamps are issued before the server starts, by the same services as the portal; then
`chinhhang serve` finds its database already migrated.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chinhhang.db import make_sessionmaker
from tests.conftest import make_settings
from tests.factories import make_run
from tests.load.client import Target


def seconds_from_env(name: str, default: float) -> float:
    """A duration from the environment (make test-load sets the long ones)."""
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise pytest.UsageError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 1 <= value <= 3600:
        raise pytest.UsageError(f"{name} must be between 1 and 3600 seconds, not {value}")
    return value


def clients_from_env() -> int:
    raw = os.environ.get("CHINHHANG_LOAD_CLIENTS", "16")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise pytest.UsageError(f"CHINHHANG_LOAD_CLIENTS must be 1..200, not {raw!r}")
    return int(raw)


@dataclass
class LoadDatabase:
    url: str
    engine: Engine
    data_dir: Path


# Relative weights of what the clients scan.
HOT_WEIGHT, SMALL_WEIGHT, NOT_ACTIVATED_WEIGHT, VOID_WEIGHT, FORGED_WEIGHT = 35, 40, 7, 8, 10
HOT_STAMPS = 8
SMALL_LIMITS = (3, 4, 5)


def issue_targets(db: LoadDatabase, seconds: float) -> list[Target]:
    """The stamps the load scans, issued in db:

    - "hot": a few stamps with a huge limit, scanned by all clients at once (row locks, scan
      numbers under contention), genuine to the end;
    - "small": stamps with limits 3, 4 and 5, few enough that many go over their limit (each
      such scan writes an outbox row and is folded into an alert while the load runs); their
      number grows with the duration, so that a longer run still finds fresh ones for a while;
    - stamps never activated, void stamps, and forged codes (a real code with its tag broken,
      and random text), which the server rejects before any database work.
    """
    settings = make_settings(db.data_dir, db.url)
    sessions = make_sessionmaker(db.engine)
    hot = make_run(settings, db.engine, sessions, quantity=HOT_STAMPS, scan_limit=10**6)
    per_limit = int(20 + 2 * seconds)
    small: list[str] = []
    for limit in SMALL_LIMITS:
        small += make_run(settings, db.engine, sessions, quantity=per_limit, scan_limit=limit).codes
    issued = make_run(settings, db.engine, sessions, quantity=40, scan_limit=3, state="issued")
    void = make_run(settings, db.engine, sessions, quantity=40, scan_limit=3, state="void")
    forged = [code[:-4] + ("0000" if code[-4:] != "0000" else "1111") for code in small[:40]]
    forged += [secrets.token_hex(12) for _ in range(20)]
    return [
        Target("hot", hot.codes, HOT_WEIGHT),
        Target("small", small, SMALL_WEIGHT),
        Target("not_activated", issued.codes, NOT_ACTIVATED_WEIGHT),
        Target("void", void.codes, VOID_WEIGHT),
        Target("forged", forged, FORGED_WEIGHT),
    ]
