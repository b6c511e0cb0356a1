"""Placeholder: filled in by issue 6 work in progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
