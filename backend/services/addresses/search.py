"""Prefix search in the address register: house addresses, and streets as a whole when no
house number was typed. Uses the search-key index on both backends."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Address
from backend.services.addresses.normalize import query_key

# Rows read per answer: enough to group a few streets with many house numbers.
SCAN_ROWS = 400


@dataclass(frozen=True)
class Place:
    """A found place: an address or a street (its addresses' middle), from the register or
    the geocoder."""

    label: str
    lon: float
    lat: float
    kind: str  # "address", "street" (or a geocoder's kind)
    source: str  # "register" or "geocoder"


def _label(street: str, housenumber: str, postcode: str, place: str) -> str:
    town = " ".join(part for part in (postcode, place) if part)
    return f"{street} {housenumber}".strip() + (f", {town}" if town else "")


def search_register(session: Session, query: str, limit: int) -> list[Place]:
    """Addresses (and, without a house number, streets) whose key starts with the query's;
    a partly typed street with a number ("Marienpl 1") finds that number on the streets the
    part begins."""
    key, numbered = query_key(query)
    if not key:
        return []
    rows = _prefixed(session, key)
    if not rows and numbered:
        street, number = key.rsplit(" ", 1)
        rows = [row for row in _prefixed(session, street)
                if row[6].rsplit(" ", 1)[-1].startswith(number)]
    addresses = [(row[6] != key, _number_order(row[1]), row[6],
                  Place(_label(row[0], row[1], row[2], row[3]), float(row[4]), float(row[5]),
                        "address", "register")) for row in rows]
    addresses.sort(key=lambda item: item[:3])
    found = [item[3] for item in addresses]
    if not numbered:
        found = _streets(rows) + found
    return found[:limit]


def _prefixed(session: Session, key: str) -> list:
    """Register rows whose search key starts with `key` (through the key's index)."""
    column = Address.search_key
    prefix = (column.op("GLOB")(key + "*") if session.get_bind().dialect.name == "sqlite"
              else column.like(key + "%"))
    return list(session.execute(
        select(Address.street, Address.housenumber, Address.postcode, Address.place,
               func.ST_X(Address.geom), func.ST_Y(Address.geom), Address.search_key)
        .where(prefix).order_by(column).limit(SCAN_ROWS)).all())


def _number_order(housenumber: str) -> tuple[int, str]:
    digits = "".join(c for c in housenumber if c.isdigit())
    return (int(digits) if digits else 0, housenumber)


def _streets(rows: list) -> list[Place]:
    """One place per street (and postcode) among the rows, at the middle of its addresses."""
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for row in rows:
        groups.setdefault((row[0], row[2], row[3]), []).append((float(row[4]), float(row[5])))
    streets = []
    for (street, postcode, place), points in groups.items():
        lons = sorted(p[0] for p in points)
        lats = sorted(p[1] for p in points)
        middle = len(points) // 2
        streets.append(Place(_label(street, "", postcode, place), lons[middle], lats[middle],
                             "street", "register"))
    return sorted(streets, key=lambda p: p.label)
