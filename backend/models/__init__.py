"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from backend.models.address import Address
from backend.models.asset import Asset, AssetLayer, AssetType
from backend.models.base import Base
from backend.models.city import Category, CategoryGroup, CityState, Department, RoutingRule
from backend.models.destination import CircuitState, DestinationCircuit
from backend.models.district import District
from backend.models.notification import (
    DeliveryStatus,
    Notification,
    PushSubscription,
    Recipient,
    ServerKey,
)
from backend.models.photo import Photo, PhotoDerivative, PhotoStatus
from backend.models.public_view import ReportPublicView
from backend.models.report import Report, ReportEvent
from backend.models.staff import (
    ApiKey,
    ApiToken,
    AuditEntry,
    Forwarding,
    ReportNote,
    StaffSession,
    StaffUser,
    staff_membership,
)
from backend.models.template import ResponseTemplate

__all__ = [
    "Address",
    "Asset",
    "AssetLayer",
    "AssetType",
    "ApiKey",
    "ApiToken",
    "AuditEntry",
    "Forwarding",
    "ReportNote",
    "StaffSession",
    "StaffUser",
    "staff_membership",
    "Base",
    "Category",
    "CategoryGroup",
    "CircuitState",
    "CityState",
    "DestinationCircuit",
    "Department",
    "DeliveryStatus",
    "District",
    "Notification",
    "PushSubscription",
    "Recipient",
    "ServerKey",
    "Photo",
    "PhotoDerivative",
    "PhotoStatus",
    "Report",
    "ReportEvent",
    "ReportPublicView",
    "ResponseTemplate",
    "RoutingRule",
]
