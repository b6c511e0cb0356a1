"""A product's traceability record for exchange: EPCIS events plus master data (JSON)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
