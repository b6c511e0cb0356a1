"""The stamp counts the dashboard reads instead of `stamps` (issue 8), folded from the
life-cycle record (`stamp_events`) by the same worker as the scan counts (rollups.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base


class StampRollup(Base):
    """Per issuing organization, product (0: none) and Vietnam day (YYYY-MM-DD): how many of
    its stamps were activated that day, and how many were voided that day. A stamp is
    activated at most once and voided at most once (stamps/services/runs.py), so these sums
    are the stamps' `activated_at` and `status = 'void'` counts."""

    __tablename__ = "stamp_rollups"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    activated: Mapped[int] = mapped_column(BigInteger, default=0)
    void: Mapped[int] = mapped_column(BigInteger, default=0)


STAMP_ROLLUP_KEY = ("org_id", "product_id", "day")
