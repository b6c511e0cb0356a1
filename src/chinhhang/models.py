"""Imports every domain's models so that metadata (migrations, drift check) sees all tables."""

from chinhhang.accounts.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    LoginSession,
    Membership,
    Organization,
    User,
)
from chinhhang.catalog.models import Batch, Product, ProductLink
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Shipment, ShipmentRange, Stamp, StampEvent, StampRun
from chinhhang.trace.models import EpcisCapture, EpcisEvent, EpcisEventEpc

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Batch",
    "EpcisCapture",
    "EpcisEvent",
    "EpcisEventEpc",
    "Invitation",
    "LoginSession",
    "Membership",
    "Organization",
    "Product",
    "ProductLink",
    "ScanEvent",
    "Shipment",
    "ShipmentRange",
    "Stamp",
    "StampEvent",
    "StampRun",
    "User",
]
