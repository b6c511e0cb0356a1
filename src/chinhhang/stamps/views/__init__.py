"""Portal pages for stamps: runs (issue, activate, void), the stamp list, shipments, and the
staff scanner."""

from __future__ import annotations

from fastapi import APIRouter

from chinhhang.stamps.views import runs, scanner, shipments

router = APIRouter(prefix="/portal", include_in_schema=False)
router.include_router(runs.router)
router.include_router(shipments.router)
router.include_router(scanner.router)
