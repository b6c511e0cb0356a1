"""Imports every domain's models so that metadata (migrations, drift check) sees all tables."""

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch, Product
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp, StampRun

__all__ = ["Batch", "Organization", "Product", "ScanEvent", "Stamp", "StampRun"]
