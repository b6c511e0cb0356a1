"""JSON API routes for catalog under /api/v1 (filled in by the portal issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
