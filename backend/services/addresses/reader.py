"""Read address files (CSV with street,housenumber,postcode,lat,lon; GeoJSON points) into
validated records; every problem is collected with the line or feature it is in."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from backend.errors import ConfigurationError
from backend.services.assets.readers import Area

MAX_PROBLEMS = 20
CSV_COLUMNS = ("street", "housenumber", "postcode", "lat", "lon")
MAX_LENGTHS = {"street": 200, "housenumber": 20, "postcode": 10, "place": 100}
# GeoJSON property names, OpenStreetMap's first.
PROPERTY_NAMES = {
    "street": ("addr:street", "street"),
    "housenumber": ("addr:housenumber", "housenumber"),
    "postcode": ("addr:postcode", "postcode"),
    "place": ("addr:city", "city", "place"),
}


@dataclass(frozen=True)
class AddressRecord:
    """One address as read; `where` names its line or feature for messages."""

    where: str
    street: str
    housenumber: str
    postcode: str
    place: str
    lon: float
    lat: float


def read_addresses(data: bytes, source: str, area: Area) -> list[AddressRecord]:
    """The records of a CSV or GeoJSON file (detected from the content); any problem
    raises ConfigurationError listing up to MAX_PROBLEMS of them by line or feature."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{source} is not UTF-8 text.") from exc
    problems: list[str] = []
    if text.lstrip().startswith("{"):
        records = _geojson(text, source, area, problems)
    else:
        records = _csv(text, area, problems)
    seen: dict[tuple[str, str, str], str] = {}
    for record in records:
        key = (record.street.lower(), record.housenumber.lower(), record.postcode)
        if key in seen:
            problems.append(f"{record.where}: the same address as {seen[key]}")
        seen.setdefault(key, record.where)
    if not records and not problems:
        problems.append("the file holds no addresses")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        raise ConfigurationError(
            f"The address file {source} cannot be imported ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}; nothing was changed):\n  "
            + "\n  ".join(shown) + (f"\n  … and {more} more" if more else ""),
            {"problems": shown})
    return records


def _record(where: str, values: dict[str, Any], lon: Any, lat: Any, area: Area,
            problems: list[str]) -> AddressRecord | None:
    """A checked record, or None with the problems appended."""
    found: list[str] = []
    strings = {name: str(values.get(name) or "").strip() for name in MAX_LENGTHS}
    for name in ("street", "housenumber"):
        if not strings[name]:
            found.append(f"{name} is missing")
    for name, limit in MAX_LENGTHS.items():
        if len(strings[name]) > limit:
            found.append(f"{name} is longer than {limit} characters")
    try:
        x, y = float(lon), float(lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError
    except (TypeError, ValueError):
        found.append(f"lat/lon are not numbers ({lat!r}, {lon!r})")
    else:
        if not area.contains(x, y):
            found.append(f"the point {y:.5f}/{x:.5f} (lat/lon) lies outside {area.described}")
    if found:
        problems.append(f"{where}: {'; '.join(found)}")
        return None
    return AddressRecord(where, strings["street"], strings["housenumber"], strings["postcode"],
                         strings["place"], x, y)


def _csv(text: str, area: Area, problems: list[str]) -> list[AddressRecord]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        problems.append(f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (needs {','.join(CSV_COLUMNS)})")
        return []
    reader.fieldnames = columns
    records = []
    for row in reader:
        values = dict(row)
        if values.get("place") is None and values.get("city") is not None:
            values["place"] = values["city"]
        record = _record(f"line {reader.line_num}", values, row.get("lon"), row.get("lat"),
                         area, problems)
        if record is not None:
            records.append(record)
    return records


def _geojson(text: str, source: str, area: Area, problems: list[str]) -> list[AddressRecord]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid JSON (line {exc.lineno}).") from exc
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise ConfigurationError(f"{source} is not a GeoJSON FeatureCollection.")
    records = []
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        geometry = (feature or {}).get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" \
                or not isinstance(geometry.get("coordinates"), list) \
                or len(geometry["coordinates"]) < 2:
            problems.append(f"{where}: not a Point feature")
            continue
        properties = feature.get("properties") or {}
        values = {name: next((properties[key] for key in keys if properties.get(key)), None)
                  for name, keys in PROPERTY_NAMES.items()}
        lon, lat = geometry["coordinates"][:2]
        record = _record(where, values, lon, lat, area, problems)
        if record is not None:
            records.append(record)
    return records
