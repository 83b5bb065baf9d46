"""The category catalogue as citizens see it: active groups and categories, ordered."""

from __future__ import annotations

from typing import Any

from backend.services.city_cache import CitySnapshot
from geo.outlines import outline_collection


def category_catalogue(snapshot: CitySnapshot, locale: str) -> dict[str, Any]:
    """Active groups in configured order, each with its active categories."""
    groups = []
    for group in sorted(snapshot.groups.values(), key=lambda g: g.position):
        if not group.active:
            continue
        categories = sorted(
            (c for c in snapshot.categories.values() if c.group.code == group.code and c.active),
            key=lambda c: c.position,
        )
        if not categories:
            continue
        groups.append({
            "code": group.code,
            "name": group.name.get(locale),
            "description": group.description.get(locale),
            "icon": group.icon,
            "categories": [
                {
                    "code": c.code,
                    "name": c.name.get(locale),
                    "description": c.description.get(locale),
                    "priority": c.default_priority,
                    "icon": c.icon,
                }
                for c in categories
            ],
        })
    return {"locale": locale, "groups": groups}


def district_points(snapshot: CitySnapshot) -> list[dict[str, Any]]:
    """Every district with a representative point inside it (for the no-map path)."""
    if snapshot.index is None:
        return []
    points = snapshot.index.representative_points()
    return [
        {"number": d.number, "name": d.name,
         "point": {"lat": points[d.number][1], "lon": points[d.number][0]}}
        for d in sorted(snapshot.districts.values(), key=lambda d: d.number)
    ]


def district_outlines(snapshot: CitySnapshot) -> dict[str, Any]:
    """The districts' outlines and labels and the city boundary (a map's base layer when no
    tile server is configured); an empty collection before a district layer is imported."""
    if snapshot.index is None:
        return {"type": "FeatureCollection", "features": []}
    names = {d.number: d.name for d in snapshot.districts.values()}
    return outline_collection((number, names.get(number, number), geom)
                              for number, geom in snapshot.index.geometries())
