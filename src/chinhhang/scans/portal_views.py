"""Portal pages built on scans: the dashboard and the scan list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/portal", include_in_schema=False)
