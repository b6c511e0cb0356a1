"""The GS1 Digital Link resolver's routes (SPEC section 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
