"""The EPCIS 2.0 REST interface under /epcis (capture and query)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/epcis", tags=["EPCIS"])
