"""Schemas for query-string parameters of the public report endpoints."""

from __future__ import annotations

import base64
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
MAX_LIMIT = 500


class CommaList(fields.String):
    """A comma-separated list in one query parameter."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise ValidationError("must not be empty")
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


class ReportListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = BBox(load_default=None, metadata={"description": "minLon,minLat,maxLon,maxLat"})
    status = CommaList(load_default=None, metadata={
        "description": "Comma list of statuses, or `open` / `closed`."})
    category = CommaList(load_default=None, metadata={"description": "Comma list of codes."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None)
    updated_after = fields.AwareDateTime(load_default=None, metadata={
        "description": "Only reports changed since (ISO 8601 with zone), e.g. recently fixed."})

    @validates_schema
    def check_values(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        for value in data.get("status") or []:
            if value not in STATUS_CHOICES:
                errors.setdefault("status", []).append(f"unknown status '{value}'")
        if data.get("cursor") is not None:
            try:
                decode_cursor(data["cursor"])
            except ValidationError as exc:
                errors["cursor"] = exc.messages
        if errors:
            raise ValidationError(errors)

    @post_load
    def decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["before_id"] = decode_cursor(data["cursor"]) if data.get("cursor") else None
        return data


class NearbyQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    category = fields.String(required=True)
    radius_m = fields.Integer(load_default=None, validate=validate.Range(1, 1000))


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
    status = CommaList(load_default=None, metadata={
        "description": "Comma list of statuses, or `open` (default) / `closed`."})
    category = CommaList(load_default=None, metadata={"description": "Comma list of codes."})
    department = CommaList(load_default=None, metadata={
        "description": "Comma list of department codes (crew: their own only)."})
    sort = fields.String(load_default="priority",
                         validate=validate.OneOf(["priority", "age", "distance"]))
    near = LatLon(load_default=None, metadata={"description": "lat,lon for sort=distance"})
    limit = fields.Integer(load_default=200, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def check_values(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        for value in data.get("status") or []:
            if value not in STATUS_CHOICES:
                errors.setdefault("status", []).append(f"unknown status '{value}'")
        if data.get("sort") == "distance" and data.get("near") is None:
            errors["near"] = ["required with sort=distance"]
        if data.get("cursor") is not None:
            try:
                decode_offset(data["cursor"])
            except ValidationError as exc:
                errors["cursor"] = exc.messages
        if errors:
            raise ValidationError(errors)

    @post_load
    def decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["offset"] = decode_offset(data["cursor"]) if data.get("cursor") else 0
        return data
