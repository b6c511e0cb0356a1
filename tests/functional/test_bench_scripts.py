"""The benchmark scripts keep working as the code under them changes: each runs here at a tiny
size (the figures are not looked at; `make bench` measures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"


def run_bench(script: str, *arguments: str, postgres_url: str | None = None) -> str:
    """The script's output; it must exit 0 (its stderr is shown when it does not)."""
    env = None
    if postgres_url is not None:  # the scripts make their databases on this server
        env = {"PATH": "/usr/bin:/bin", "CHINHHANG_TEST_POSTGRES_URL": postgres_url}
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.postgres
def test_issuance_bench_runs(postgres_url: str) -> None:
    output = run_bench("issuance.py", "--quantity", "2000", postgres_url=postgres_url)
    assert "SQLite (WAL)" in output
    assert "PostgreSQL (COPY)" in output
    # The machine line names the server's settings that move the figures.
    assert "shared_buffers" in output.splitlines()[0]


@pytest.mark.postgres
def test_inprocess_bench_runs(postgres_url: str) -> None:
    output = run_bench(
        "inprocess.py",
        "--requests",
        "500",
        "--rounds",
        "1",
        "--postgres",
        postgres_url=postgres_url,
    )
    for line in ("genuine scan", "forged code", "BEGIN, statement, COMMIT", "scans per COMMIT"):
        assert line in output


def test_security_headers_bench_runs() -> None:
    assert "layer:" in run_bench("security_headers.py")
