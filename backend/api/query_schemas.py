"""Schemas for query-string parameters of the public report endpoints."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from backend.workflow import Status

STATUS_CHOICES = [s.value for s in Status] + ["open", "closed"]
# Instants a query may name. Python's datetime ends at 9999-12-31: converting 9999-12-31T23:00
# -01:00 to UTC, or adding a 90-day window to it, would overflow (a 500, not the client's 4xx).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
INSTANT_RANGE = "between 1900 and 9000"
MAX_LIMIT = 500


def utc_instant(value: datetime) -> datetime:
    """An aware date-time in UTC; ValueError outside `EARLIEST`..`LATEST`."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(INSTANT_RANGE) from exc
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(INSTANT_RANGE)
    return utc


def _in_instant_range(value: datetime) -> None:
    try:
        utc_instant(value)
    except ValueError as exc:
        raise ValidationError(INSTANT_RANGE) from exc


class CommaList(fields.String):
    """A comma-separated list in one query parameter."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise ValidationError("must not be empty")
        return items


class StatusList(CommaList):
    """Statuses, or the Open311 groups `open` / `closed`, comma-separated."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        items = super()._deserialize(value, attr, data, **kwargs)
        unknown = [f"unknown status '{item}'" for item in items if item not in STATUS_CHOICES]
        if unknown:
            raise ValidationError(unknown)
        return items


class BBox(fields.String):
    """`minLon,minLat,maxLon,maxLat` in degrees."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> tuple[float, float, float, float]:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = text.split(",")
        try:
            minx, miny, maxx, maxy = (float(p) for p in parts)
        except ValueError as exc:
            raise ValidationError("must be four numbers: minLon,minLat,maxLon,maxLat") from exc
        if any(v != v or v in (float("inf"), float("-inf")) for v in (minx, miny, maxx, maxy)):
            raise ValidationError("must be finite numbers")
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValidationError("must satisfy -180 ≤ minLon ≤ maxLon ≤ 180 and "
                                  "-90 ≤ minLat ≤ maxLat ≤ 90")
        return (minx, miny, maxx, maxy)


def _encode(prefix: str, number: int) -> str:
    return base64.urlsafe_b64encode(f"{prefix}{number}".encode()).decode().rstrip("=")


def _decode(cursor: str, prefix: str, low: int, high: int) -> int:
    """The number in one of our cursors; ValidationError for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(prefix):
            raise ValueError
        number = int(text[len(prefix):])
        if not low <= number < high:
            raise ValueError
        return number
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("is not a valid cursor") from exc


def encode_cursor(before_id: int) -> str:
    """An opaque page cursor."""
    return _encode("r", before_id)


def decode_cursor(cursor: str) -> int:
    """The id a cursor points before (ids are positive 64-bit integers)."""
    return _decode(cursor, "r", 1, 2**63)


class Cursor(fields.String):
    """An opaque page cursor, loaded as the number it stands for."""

    def __init__(self, decode: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decode = decode

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        return self.decode(super()._deserialize(value, attr, data, **kwargs))


class ReportListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = BBox(load_default=None, metadata={"description": "minLon,minLat,maxLon,maxLat"})
    status = StatusList(load_default=None, metadata={
        "description": "Comma list of statuses, or `open` / `closed`."})
    category = CommaList(load_default=None, metadata={"description": "Comma list of codes."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT))
    cursor = Cursor(decode_cursor, load_default=None)
    updated_after = fields.AwareDateTime(load_default=None, validate=_in_instant_range, metadata={
        "description": "Only reports changed since (ISO 8601 with zone), e.g. recently fixed."})

    @post_load
    def decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["before_id"] = data["cursor"]
        return data


class ClusterQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = BBox(required=True, metadata={"description": "minLon,minLat,maxLon,maxLat"})
    zoom = fields.Integer(required=True, validate=validate.Range(3, 16), metadata={
        "description": "The map's zoom level (cells are 64 px wide at it)."})
    status = StatusList(load_default=None, metadata={
        "description": "Comma list of statuses, or `open` / `closed`."})
    category = CommaList(load_default=None, metadata={"description": "Comma list of codes."})
    updated_after = fields.AwareDateTime(load_default=None, validate=_in_instant_range, metadata={
        "description": "Only reports changed since (ISO 8601 with zone)."})


class NearbyQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    category = fields.String(required=True)
    radius_m = fields.Integer(load_default=None, validate=validate.Range(1, 1000))
    asset_id = fields.Integer(load_default=None, validate=validate.Range(1, 2**63 - 1),
                              metadata={"description": "The asset the citizen chose: its "
                                        "open reports come first, marked `same_asset`."})
    approximate = fields.Boolean(load_default=False, metadata={
        "description": "The point is only approximate (a district's, `location_source: "
                       "district`): no distance search, only the same asset's reports."})


def encode_offset(offset: int) -> str:
    """An opaque cursor for an offset-paginated list."""
    return _encode("o", offset)


def decode_offset(cursor: str) -> int:
    """The offset a cursor stands for."""
    return _decode(cursor, "o", 0, 10_000_000)


class LatLon(fields.String):
    """`lat,lon` in degrees."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> tuple[float, float]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            lat, lon = (float(p) for p in text.split(","))
        except ValueError as exc:
            raise ValidationError("must be two numbers: lat,lon") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError("must satisfy -90 ≤ lat ≤ 90 and -180 ≤ lon ≤ 180")
        return (lon, lat)


class StaffQueueQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = BBox(load_default=None, metadata={"description": "minLon,minLat,maxLon,maxLat"})
    status = StatusList(load_default=None, metadata={
        "description": "Comma list of statuses, or `open` (default) / `closed`."})
    category = CommaList(load_default=None, metadata={"description": "Comma list of codes."})
    department = CommaList(load_default=None, metadata={
        "description": "Comma list of department codes (crew: their own only)."})
    sort = fields.String(load_default="priority",
                         validate=validate.OneOf(["priority", "age", "distance"]))
    near = LatLon(load_default=None, metadata={"description": "lat,lon for sort=distance"})
    limit = fields.Integer(load_default=200, validate=validate.Range(1, MAX_LIMIT))
    cursor = Cursor(decode_offset, load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def check_values(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("sort") == "distance" and data.get("near") is None:
            raise ValidationError({"near": ["required with sort=distance"]})

    @post_load
    def decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["offset"] = data["cursor"] or 0
        return data
