"""Imports every domain's models so that metadata (migrations, drift check) sees all tables."""

from chinhhang.accounts.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    LoginSession,
    Membership,
    Organization,
    UnknownLogin,
    User,
)
from chinhhang.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertOutbox,
    DeliveryAttempt,
    ReportNote,
    ShopperReport,
)
from chinhhang.catalog.models import Batch, Product, ProductLink, Promotion, PromotionProduct
from chinhhang.consumer.models import WarrantyRegistration
from chinhhang.regulator.models import StampRollup
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.rollups import RollupGap, RollupMark, ScanRollup
from chinhhang.stamps.models import Shipment, ShipmentRange, Stamp, StampEvent, StampRun
from chinhhang.trace.models import EpcisCapture, EpcisEvent, EpcisEventEpc

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "AlertOutbox",
    "ApiToken",
    "AuditEntry",
    "Batch",
    "DeliveryAttempt",
    "EpcisCapture",
    "EpcisEvent",
    "EpcisEventEpc",
    "Invitation",
    "LoginSession",
    "Membership",
    "Organization",
    "Product",
    "ProductLink",
    "Promotion",
    "PromotionProduct",
    "ReportNote",
    "RollupGap",
    "RollupMark",
    "ScanEvent",
    "ScanRollup",
    "Shipment",
    "ShipmentRange",
    "ShopperReport",
    "Stamp",
    "StampEvent",
    "StampRollup",
    "StampRun",
    "UnknownLogin",
    "User",
    "WarrantyRegistration",
]
