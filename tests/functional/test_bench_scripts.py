"""The benchmark scripts keep working as the code under them changes: each runs here at a tiny
size (the figures are not looked at; `make bench` measures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"


@pytest.mark.postgres
def test_issuance_bench_runs(postgres_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "issuance.py"), "--quantity", "2000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "CHINHHANG_TEST_POSTGRES_URL": postgres_url},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SQLite (WAL)" in result.stdout
    assert "PostgreSQL (COPY)" in result.stdout
    # The machine line names the server's settings that move the figures.
    assert "shared_buffers" in result.stdout.splitlines()[0]


@pytest.mark.postgres
def test_inprocess_bench_runs(postgres_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "inprocess.py"), "--requests", "500", "--rounds", "1"]
        + ["--postgres"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "CHINHHANG_TEST_POSTGRES_URL": postgres_url},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for line in ("genuine scan", "forged code", "BEGIN, statement, COMMIT"):
        assert line in result.stdout


def test_security_headers_bench_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "security_headers.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "layer:" in result.stdout
