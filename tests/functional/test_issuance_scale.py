"""A million stamps issue in one command on SQLite with flat memory (issue: core, item 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.db import make_engine
from chinhhang.stamps.models import Stamp
from tests.conftest import cli_env, make_settings

MEASURE = """
import resource, runpy, sys
sys.argv = ["chinhhang", *sys.argv[1:]]
try:
    runpy.run_module("chinhhang", run_name="__main__")
except SystemExit as done:
    assert not done.code, done.code
print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def issue(tmp_path: Path, quantity: int) -> tuple[int, str]:
    env = cli_env(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "chinhhang",
            "org",
            "create",
            "--name",
            f"O{quantity}",
            "--kind",
            "manufacturer",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            "stamps",
            "issue",
            "--org",
            "1",
            "--quantity",
            str(quantity),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    run_id, rss_line = done.stdout.strip().splitlines()[-2:]
    return int(rss_line.split()[1]), run_id


def test_a_million_stamps_with_flat_memory(tmp_path: Path) -> None:
    small_rss, _ = issue(tmp_path / "small", 10_000)
    big_rss, run_id = issue(tmp_path / "big", 1_000_000)
    # 100x the stamps may cost at most ~40 MB more: the chunks, not the run, live in memory.
    assert big_rss - small_rss < 40_000, (small_rss, big_rss)
    engine = make_engine(make_settings(tmp_path / "big"))
    with Session(engine) as session:
        total = session.scalar(
            select(func.count()).select_from(Stamp).where(Stamp.run_id == int(run_id))
        )
        distinct = session.scalar(select(func.count(func.distinct(Stamp.code))))
    engine.dispose()
    assert total == distinct == 1_000_000
