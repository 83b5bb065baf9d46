"""Turn (category, point) into (district, department, priority) using the city snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import InvalidInput, OutsideServiceArea, ServiceNotReady
from backend.services.city_cache import (
    CategoryInfo,
    CitySnapshot,
    DepartmentInfo,
    DistrictInfo,
)


@dataclass(frozen=True)
class RoutingDecision:
    """Where a new report goes."""

    category: CategoryInfo
    district: DistrictInfo
    department: DepartmentInfo
    priority: str


def active_category(snapshot: CitySnapshot, code: str) -> CategoryInfo:
    """The active category with this code, or a validation error naming the field."""
    category = snapshot.categories.get(code)
    if category is None or not category.active or not category.group.active:
        raise InvalidInput(
            "Unknown category.", {"category": [f"'{code}' is not an active category"]}
        )
    return category


def route_report(snapshot: CitySnapshot, category_code: str, lon: float, lat: float
                 ) -> RoutingDecision:
    """Route a report; a point outside every district is refused."""
    category = active_category(snapshot, category_code)
    if snapshot.index is None:
        raise ServiceNotReady("No district layer is loaded yet; run `maengelmelder init`.")
    number = snapshot.index.lookup(lon, lat)
    if number is None:
        raise OutsideServiceArea(
            "This location is outside the city's service area.",
            {"lat": ["outside the service area"], "lon": ["outside the service area"]},
        )
    for rule in snapshot.rules:
        if rule.matches(category, number):
            return RoutingDecision(
                category, snapshot.districts[number], rule.department, category.default_priority
            )
    raise ServiceNotReady("The routing rules have no fallback; load a city configuration.")
