"""Read asset files (GeoJSON, CSV with lon/lat or x/y, OpenStreetMap/Overpass JSON) into
validated lon/lat records; every problem is collected with the row it is in."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.errors import ConfigurationError
from geo.crs import CRS84, crs_of_geojson, is_lonlat, parse_crs_name, points_to_lonlat
from geo.errors import LayerError

FORMATS = ("geojson", "csv", "osm")
MAX_PROBLEMS = 20
DEFAULT_ID_FIELDS = ("id", "osm_id", "@id")
DEFAULT_NAME_FIELDS = ("name",)
DEFAULT_NUMBER_FIELDS = ("ref:lsa", "ref", "number", "nummer")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "easting", "rechtswert")
LAT_COLUMNS = ("lat", "latitude", "y", "northing", "hochwert")
MAX_LENGTHS = {"id": 200, "name": 300, "number": 100}
OSM_LICENCE = "ODbL-1.0 (https://opendatacommons.org/licenses/odbl/1-0/)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class ReadOptions:
    """Which fields hold the id, name and number, and the CRS when the file does not say."""

    id_field: str | None = None
    name_field: str | None = None
    number_field: str | None = None
    crs: str | None = None
    format: str | None = None  # None: detected from the content


@dataclass(frozen=True)
class Area:
    """Where points may lie: a lon/lat box (minx, miny, maxx, maxy), described for messages."""

    box: tuple[float, float, float, float]
    described: str

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point lies in the box."""
        minx, miny, maxx, maxy = self.box
        return minx <= lon <= maxx and miny <= lat <= maxy


@dataclass
class AssetRecord:
    """One asset as read: `where` names its row ("feature 3", "line 7", "element 2")."""

    where: str
    external_id: str
    name: str | None
    number: str | None
    lon: float
    lat: float
    properties: dict[str, Any]


@dataclass
class AssetFile:
    """The records of a file and the licence/attribution it declares itself (if any)."""

    format: str
    records: list[AssetRecord]
    licence: str = ""
    attribution: str = ""


@dataclass
class Problems:
    """Problems found so far; `fail` raises them as one ConfigurationError."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        """Record one problem."""
        self.items.append(text)

    def fail(self, source: str) -> None:
        """Raise every recorded problem (the first MAX_PROBLEMS, then a count) if any."""
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        if len(self.items) > MAX_PROBLEMS:
            shown.append(f"… and {len(self.items) - MAX_PROBLEMS} more problem(s)")
        raise ConfigurationError(
            f"The asset file {source} cannot be imported ({len(self.items)} problem(s); "
            "nothing was changed)", {"problems": shown})


def read_assets(data: bytes, options: ReadOptions, source: str = "the file",
                area: Area | None = None) -> AssetFile:
    """Parse, reproject and check a file (points inside `area`, if given); raise
    ConfigurationError naming every bad row."""
    problems = Problems()
    fmt, parsed = _detect(data, options.format, problems)
    problems.fail(source)
    if fmt == "csv":
        result = _read_csv(parsed, options, problems)
    elif fmt == "osm":
        result = _read_osm(parsed, options, problems)
    else:
        result = _read_geojson(parsed, options, problems)
    _check_duplicates(result.records, problems)
    if area is not None:
        for record in result.records:
            if not area.contains(record.lon, record.lat):
                problems.add(f"{record.where}: point ({record.lon:.6f}, {record.lat:.6f}) is "
                             f"outside {area.described}")
    problems.fail(source)
    return result


def _detect(data: bytes, fmt: str | None, problems: Problems) -> tuple[str, Any]:
    """The format and the decoded content (JSON object or CSV text)."""
    if fmt is not None and fmt not in FORMATS:
        problems.add(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        return "", None
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt == "csv" or (fmt is None and not head.startswith((b"{", b"["))):
        try:
            return "csv", data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problems.add(f"the file is neither JSON nor UTF-8 CSV text ({exc})")
            return "", None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        problems.add(f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                     f"{exc.msg})")
        return "", None
    except (ValueError, RecursionError) as exc:
        problems.add(f"the file is not valid JSON ({exc})")
        return "", None
    if isinstance(obj, dict) and isinstance(obj.get("elements"), list) and fmt != "geojson":
        return "osm", obj
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection" and fmt != "osm":
        if not isinstance(obj.get("features"), list):
            problems.add("the FeatureCollection has no 'features' list")
        return "geojson", obj
    found = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
    problems.add("expected a GeoJSON FeatureCollection or OpenStreetMap JSON with "
                 f"'elements', got {found!r}")
    return "", None


def _text(value: Any) -> str | None:
    """A property as stripped text; None when absent or empty."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _pick(where: str, values: dict[str, Any], chosen: str | None, defaults: tuple[str, ...],
          kind: str, problems: Problems) -> str | None:
    """The chosen field's text, or the first default that is present; checks the length."""
    text = _text(values.get(chosen)) if chosen else next(
        (t for name in defaults if (t := _text(values.get(name))) is not None), None)
    if text is not None and len(text) > MAX_LENGTHS[kind]:
        problems.add(f"{where}: {kind} is longer than {MAX_LENGTHS[kind]} characters")
        return None
    return text


def _missing_id(where: str, options: ReadOptions, present: list[str], extra: str = "") -> str:
    looked = repr(options.id_field) if options.id_field else \
        ", ".join(repr(f) for f in DEFAULT_ID_FIELDS)
    return (f"{where}: no id (looked for {looked}{extra}; present: "
            f"{', '.join(repr(p) for p in present) or 'none'}); choose one with --id-field")


def _build(where: str, ident: str | None, values: dict[str, Any], options: ReadOptions,
           x: float, y: float, problems: Problems) -> AssetRecord | None:
    """A record from its id and properties, or None after recording what is wrong."""
    name = _pick(where, values, options.name_field, DEFAULT_NAME_FIELDS, "name", problems)
    number = _pick(where, values, options.number_field, DEFAULT_NUMBER_FIELDS, "number",
                   problems)
    if ident is not None and len(ident) > MAX_LENGTHS["id"]:
        problems.add(f"{where}: id is longer than {MAX_LENGTHS['id']} characters")
        return None
    if ident is None:
        return None
    return AssetRecord(where, ident, name, number, x, y, values)


# ---------------------------------------------------------------------------- GeoJSON --

def _read_geojson(collection: dict[str, Any], options: ReadOptions,
                  problems: Problems) -> AssetFile:
    crs = _crs(options, collection, problems)
    records: list[AssetRecord] = []
    for index, feature in enumerate(collection["features"]):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(f"{where}: is not a GeoJSON Feature")
            continue
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        ident = _pick(where, props, options.id_field, DEFAULT_ID_FIELDS, "id", problems)
        if ident is None and (not options.id_field or options.id_field == "id"):
            ident = _text(feature.get("id"))
        if ident is None:
            problems.add(_missing_id(where, options, list(props), " and the feature's id"))
        else:
            where = f"feature {index} ({ident})"
        point = _point(where, feature.get("geometry"), problems)
        if point is None:
            continue
        record = _build(where, ident, props, options, *point, problems)
        if record is not None:
            records.append(record)
    _reproject(records, crs, problems)
    return AssetFile("geojson", records, _text(collection.get("licence")
                                               or collection.get("license")) or "",
                     _text(collection.get("attribution")) or "")


def _point(where: str, geometry: Any, problems: Problems) -> tuple[float, float] | None:
    """The x, y of a Point geometry; anything else is a problem."""
    if not isinstance(geometry, dict):
        problems.add(f"{where}: has no geometry")
        return None
    kind = geometry.get("type")
    if kind != "Point":
        problems.add(f"{where}: geometry type {kind!r} is not Point (an asset is one point; "
                     "split multi-part features or use their centre)")
        return None
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2 or not all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2]):
        problems.add(f"{where}: Point coordinates are malformed ({coords!r})")
        return None
    return float(coords[0]), float(coords[1])


def _crs(options: ReadOptions, collection: dict[str, Any] | None, problems: Problems
         ) -> str | None:
    """The CRS: --crs wins, then the GeoJSON `crs` member, then lon/lat."""
    try:
        if options.crs:
            return parse_crs_name(options.crs)
        return crs_of_geojson(collection) if collection is not None else CRS84
    except LayerError as exc:
        for problem in exc.problems:
            problems.add(f"unknown CRS: {problem}")
        return None


def _reproject(records: list[AssetRecord], crs: str | None, problems: Problems) -> None:
    """Turn the records' x/y into lon/lat in one call and flag what is not lon/lat then."""
    if crs is None or not records:
        return
    xs = np.array([r.lon for r in records])
    ys = np.array([r.lat for r in records])
    if not is_lonlat(crs):
        xs, ys = points_to_lonlat(xs, ys, crs)
    for record, lon, lat in zip(records, xs.tolist(), ys.tolist(), strict=True):
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
                and -90 <= lat <= 90):
            problems.add(f"{record.where}: coordinates ({record.lon}, {record.lat}) are not "
                         f"lon/lat after reprojection from {crs}; is the CRS (--crs) right?")
        record.lon, record.lat = lon, lat


# -------------------------------------------------------------------------------- CSV --

def _delimiter(header: str) -> str:
    """The most frequent of `,`, `;` and tab in the header line."""
    return max((",", ";", "\t"), key=header.count)


def _number(text: str, decimal_comma: bool) -> float:
    text = text.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _read_csv(text: str, options: ReadOptions, problems: Problems) -> AssetFile:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        problems.add("line 1: the CSV file has no header line")
        return AssetFile("csv", [])
    delimiter = _delimiter(lines[0])
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [c for c in (reader.fieldnames or []) if c is not None]
    lower = {c.strip().lower(): c for c in columns}
    lon_col = next((lower[c] for c in LON_COLUMNS if c in lower), None)
    lat_col = next((lower[c] for c in LAT_COLUMNS if c in lower), None)
    if lon_col is None or lat_col is None:
        problems.add("line 1: no coordinate columns (need lon/lat or x/y; columns: "
                     f"{', '.join(repr(c) for c in columns)})")
    id_col = options.id_field if options.id_field else next(
        (lower[c] for c in DEFAULT_ID_FIELDS if c in lower), None)
    if id_col is None or id_col not in columns:
        problems.add(_missing_id("line 1", options, columns).replace(
            "no id", "no id column", 1))
    crs = _crs(options, None, problems)
    if problems.items:
        return AssetFile("csv", [])
    assert lon_col is not None and lat_col is not None and id_col is not None
    decimal_comma = delimiter != ","
    records: list[AssetRecord] = []
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row:
            problems.add(f"{where}: more cells than columns")
            continue
        values = {k: v for k, v in row.items() if k not in (lon_col, lat_col) and v}
        ident = _text(row.get(id_col))
        if ident is None:
            problems.add(f"{where}: column {id_col!r} (the id) is empty")
            continue
        where = f"line {reader.line_num} ({ident})"
        try:
            x = _number(row.get(lon_col) or "", decimal_comma)
            y = _number(row.get(lat_col) or "", decimal_comma)
        except ValueError:
            problems.add(f"{where}: {lon_col!r}/{lat_col!r} are not numbers "
                         f"({row.get(lon_col)!r}, {row.get(lat_col)!r})")
            continue
        record = _build(where, ident, values, options, x, y, problems)
        if record is not None:
            records.append(record)
    _reproject(records, crs, problems)
    return AssetFile("csv", records)


# ------------------------------------------------------------------ OpenStreetMap JSON --

def _read_osm(obj: dict[str, Any], options: ReadOptions, problems: Problems) -> AssetFile:
    if options.crs and not is_lonlat(options.crs):
        problems.add(f"OpenStreetMap JSON is always lon/lat; --crs {options.crs} does not apply")
    records: list[AssetRecord] = []
    for index, element in enumerate(obj["elements"]):
        where = f"element {index}"
        if not isinstance(element, dict):
            problems.add(f"{where}: is not an object")
            continue
        kind, osm_id = element.get("type"), element.get("id")
        if isinstance(kind, str) and osm_id is not None:
            where = f"element {index} ({kind}/{osm_id})"
        tags = element.get("tags")
        tags = tags if isinstance(tags, dict) else {}
        if options.id_field:
            ident = _pick(where, tags, options.id_field, (), "id", problems)
            if ident is None:
                problems.add(_missing_id(where, options, list(tags)))
        elif isinstance(kind, str) and osm_id is not None:
            ident = f"{kind}/{osm_id}"
        else:
            ident = None
            problems.add(f"{where}: has no type and id")
        if kind != "node":
            problems.add(f"{where}: is a {kind!r}, not a node (only nodes are points; ask "
                         "Overpass for nodes)")
            continue
        lon, lat = element.get("lon"), element.get("lat")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
            problems.add(f"{where}: node without numeric lat/lon")
            continue
        record = _build(where, ident, tags, options, float(lon), float(lat), problems)
        if record is not None:
            records.append(record)
    _reproject(records, CRS84, problems)
    return AssetFile("osm", records, OSM_LICENCE, OSM_ATTRIBUTION)


def _check_duplicates(records: list[AssetRecord], problems: Problems) -> None:
    """Every external id may appear once in a file."""
    first: dict[str, AssetRecord] = {}
    for record in records:
        seen = first.setdefault(record.external_id, record)
        if seen is not record:
            problems.add(f"{record.where}: id {record.external_id!r} is used by "
                         f"{_row(seen.where)} too")


def _row(where: str) -> str:
    """"feature 3" from "feature 3 (node/1)"."""
    return re.sub(r" \(.*\)$", "", where)
