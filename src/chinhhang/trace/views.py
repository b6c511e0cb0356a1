"""The GS1 Digital Link resolver's routes (SPEC section 6)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute

router = APIRouter(include_in_schema=False)
# Routes that must come after every other (web.py appends them last).
late_routes: list[BaseRoute] = []
