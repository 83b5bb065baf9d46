"""Address search for the map-free report path: the register first, then (when configured
and the register has too few) the city's geocoder; only places inside a district."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from backend.errors import ServiceNotReady
from backend.services.addresses.geocoder import Geocoder, GeocoderFailed
from backend.services.addresses.normalize import fold
from backend.services.addresses.search import Place, search_register
from backend.services.city_cache import CitySnapshot, DistrictInfo

# A geocoder place this close to a register place (degrees, ≈ 10 m) is the same place.
SAME_PLACE_DEG = 1e-4


@dataclass(frozen=True)
class FoundPlace:
    """A place with the district it lies in."""

    place: Place
    district: DistrictInfo


def search_places(session: Session, snapshot: CitySnapshot, query: str, limit: int,
                  geocoder: Geocoder | None = None) -> list[FoundPlace]:
    """Up to `limit` places for the typed `query`, register results first; a geocoder
    failure leaves the register's results (the geocoder logs it)."""
    index = snapshot.index
    if index is None:
        raise ServiceNotReady("The city has no district layer yet.")
    places = search_register(session, query, limit)
    if geocoder is not None and len(places) < limit:
        try:
            extra = geocoder.search(query, limit, index.bounds)
        except GeocoderFailed:
            extra = []
        places += [p for p in extra if not _known(p, places)]
    found = []
    for place in places:
        number = index.lookup(place.lon, place.lat)
        district = snapshot.districts.get(number) if number is not None else None
        if district is not None:  # outside the city: dropped
            found.append(FoundPlace(place, district))
    return found[:limit]


def _known(place: Place, places: list[Place]) -> bool:
    label = fold(place.label)
    return any(fold(p.label) == label or (abs(p.lon - place.lon) < SAME_PLACE_DEG
                                          and abs(p.lat - place.lat) < SAME_PLACE_DEG
                                          and p.kind == place.kind) for p in places)
