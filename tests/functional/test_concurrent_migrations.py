"""Several servers starting at once against one fresh PostgreSQL database all migrate it
without failing (`serve` migrates at start; docs/deploy.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_SECRET, _reset_postgres

pytestmark = pytest.mark.postgres


def test_three_upgrades_at_once_all_succeed(postgres_url: str, tmp_path: Path) -> None:
    _reset_postgres(postgres_url)
    env = {
        **os.environ,
        "CHINHHANG_DATABASE_URL": postgres_url,
        "CHINHHANG_DATA_DIR": str(tmp_path),
        "CHINHHANG_SECRET_KEY": TEST_SECRET,
    }
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "chinhhang", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [upgrade.communicate(timeout=180)[0].decode() for upgrade in upgrades]
    assert [upgrade.returncode for upgrade in upgrades] == [0, 0, 0], outputs
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert len(versions) == 1
