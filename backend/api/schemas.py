"""Marshmallow schemas: what the API accepts and returns (OpenAPI is built from them)."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from backend.api.asset_schemas import AssetRefSchema
from backend.api.outcome_schemas import ResponsibleSchema, expected_field, outcome_field
from backend.workflow import Priority, Status

DESCRIPTION_MAX = 4000  # as Open311 GeoReport v2
ADDRESS_MAX = 300


class StrictFloat(fields.Float):
    """A JSON number only: no strings, no booleans, no NaN or Infinity."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        try:
            number = float(value)  # a huge JSON integer does not fit a float
        except OverflowError as exc:
            raise ValidationError("must be a finite number") from exc
        if not math.isfinite(number):
            raise ValidationError("must be a finite number")
        return number


class StrictInteger(fields.Integer):
    """A JSON integer only: no strings, booleans or fractions."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be an integer")
        return value


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    fields = fields.Dict(
        keys=fields.String(), required=True,
        metadata={"description": "Each offending field with its messages."},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class ReportCreateSchema(Schema):
    """A new report from a citizen."""

    class Meta:
        unknown = RAISE

    category = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"example": "schild-fehlt"})
    lat = StrictFloat(required=True, validate=validate.Range(-90, 90),
                      metadata={"example": 48.1374})
    lon = StrictFloat(required=True, validate=validate.Range(-180, 180),
                      metadata={"example": 11.5755})
    description = fields.String(
        required=True, validate=validate.Length(min=1, max=DESCRIPTION_MAX),
        metadata={"example": "Das Halteverbotsschild fehlt seit gestern."},
    )
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=ADDRESS_MAX),
                            metadata={"description": "Address or place description."})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254),
                        metadata={"description": "Optional; never shown publicly."})
    photo_lat = StrictFloat(load_default=None, allow_none=True, validate=validate.Range(-90, 90),
                            metadata={"description": "Where the first photo says it was taken "
                                      "(read on the device before it removed the metadata)."})
    photo_lon = StrictFloat(load_default=None, allow_none=True,
                            validate=validate.Range(-180, 180))
    location_source = fields.String(
        load_default=None, allow_none=True,
        validate=validate.OneOf(["gps", "map", "photo", "address", "district"]),
        metadata={"description": "How the point was chosen: `address` (a place from "
                                 "`/api/v1/places`) is exact; `district` (the point of a chosen "
                                 "district, no map) marks the report `approximate` everywhere "
                                 "and leaves it out of the distance-based duplicate search."},
    )

    asset_id = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "The asset (traffic signal, sign post) the report is about, "
                  "from `/api/v1/assets`: it must be active and of a type tied to the "
                  "category's group. The report is placed at the asset's point (snapped; "
                  "`lat`/`lon` are still required) and routed by it."})

    @validates_schema
    def photo_place_complete(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("photo_lat") is None) != (data.get("photo_lon") is None):
            raise ValidationError("give both photo_lat and photo_lon, or neither", "photo_lon")

    @pre_load
    def strip_strings(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = dict(data)
        nul = {k: ["must not contain NUL characters"] for k, v in data.items()
               if isinstance(v, str) and "\x00" in v}
        if nul:  # PostgreSQL cannot store them, and no person types them
            raise ValidationError(nul)
        for key in ("category", "description", "address", "email"):
            if isinstance(cleaned.get(key), str):
                cleaned[key] = cleaned[key].strip()
                if key in ("address", "email") and not cleaned[key]:
                    cleaned[key] = None
        return cleaned


class NamedSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class CategoryRefSchema(NamedSchema):
    group = fields.Nested(NamedSchema, required=True)


class DistrictRefSchema(Schema):
    number = fields.String(required=True, metadata={"example": "01"})
    name = fields.String(required=True, metadata={"example": "Altstadt-Lehel"})


class LocationSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class HistoryEntrySchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    at = fields.DateTime(required=True)
    note = fields.String(allow_none=True)


class PhotoFilesSchema(Schema):
    jpeg = fields.String(required=True, metadata={"description": "URL of the JPEG"})
    webp = fields.String(required=True, metadata={"description": "URL of the WebP"})
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)


class PublicPhotoSchema(Schema):
    """A processed photo: web sizes only, without any metadata."""

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["report", "after"]),
                         metadata={"description": "report: the reporter's photo; after: the "
                                   "crew's photo of the repair"})
    display = fields.Nested(PhotoFilesSchema, required=True,
                            metadata={"description": "at most 1600 px on the long side"})
    thumb = fields.Nested(PhotoFilesSchema, required=True,
                          metadata={"description": "at most 320 px on the long side"})


class PhotoPlaceSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class UploadedPhotoSchema(Schema):
    """A photo as its uploader sees it right after the upload."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": (
        "pending: being processed; ready: published (faces and licence plates hidden); "
        "withheld: not published (it could not be checked for faces and plates, or staff "
        "withheld it); failed: it could not be processed")},
        validate=validate.OneOf(["pending", "ready", "withheld", "failed"]))
    location = fields.Nested(PhotoPlaceSchema, allow_none=True, required=True, metadata={
        "description": "Where the photo says it was taken (EXIF GPS), to offer as the pin."})
    taken_at = fields.String(allow_none=True, required=True,
                             metadata={"description": "Camera time as recorded (EXIF)"})


class ReportSchema(Schema):
    """The public view of a report: never the reporter's e-mail or tracking token."""

    id = fields.String(required=True, metadata={"example": "k7p3xr9q"})
    url = fields.String(required=True)
    category = fields.Nested(CategoryRefSchema, required=True)
    description = fields.String(required=True)
    address = fields.String(allow_none=True)
    location = fields.Nested(LocationSchema, required=True)
    district = fields.Nested(DistrictRefSchema, allow_none=True)
    department = fields.Nested(NamedSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    open311_status = fields.String(required=True, validate=validate.OneOf(["open", "closed"]))
    priority = fields.String(required=True, validate=validate.OneOf([p.value for p in Priority]))
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    photos = fields.List(fields.Nested(PublicPhotoSchema), required=True,
                         metadata={"description": "Processed photos (pending ones appear later)"})
    asset = fields.Nested(AssetRefSchema, required=True, allow_none=True, metadata={
        "description": "The asset the report is about, or null."})
    approximate = fields.Boolean(required=True, metadata={
        "description": "The point is only approximate: the reporter chose a district, not a "
                       "place (`location_source: district`); the description says where."})
    outcome = outcome_field()
    responsible = fields.Nested(ResponsibleSchema, required=True, allow_none=True, metadata={
        "description": "When the outcome is `not_responsible`: who is, or null."})
    expected_at = expected_field()


class CreatedReportSchema(ReportSchema):
    """The answer to a new report: the public view plus the reporter's secret tracking token."""

    uploads = fields.List(fields.Nested(UploadedPhotoSchema), required=True)
    tracking_token = fields.String(required=True,
                                   metadata={"description": "Keep it: it is shown only now."})
    tracking_url = fields.String(required=True)


class TrackedReportSchema(ReportSchema):
    """The reporter's own view, reached with the tracking token."""

    email_on_file = fields.Boolean(required=True)
    uploads = fields.List(fields.Nested(UploadedPhotoSchema), required=True)


class UploadedPhotosSchema(Schema):
    """The answer to photos added to an existing report."""

    photos = fields.List(fields.Nested(UploadedPhotoSchema), required=True)


class CategorySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    priority = fields.String(required=True)
    icon = fields.String(allow_none=True)


class CategoryGroupSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    icon = fields.String(allow_none=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True)


class CategoryListSchema(Schema):
    locale = fields.String(required=True)
    groups = fields.List(fields.Nested(CategoryGroupSchema), required=True)


def constant(value: str) -> fields.String:
    """A string field that is always `value` (documented as a one-value enum)."""
    return fields.String(required=True, validate=validate.OneOf([value]))


class PointGeometrySchema(Schema):
    type = constant("Point")
    coordinates = fields.List(fields.Float(), required=True,
                              metadata={"description": "[lon, lat]"})


class ReportFeaturePropertiesSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    group = fields.String(required=True)
    status = fields.String(required=True)
    open311_status = fields.String(required=True)
    priority = fields.String(required=True)
    district = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    asset = fields.Nested(AssetRefSchema, required=True, allow_none=True, metadata={
        "description": "The asset the report is about, or null."})
    approximate = fields.Boolean(required=True, metadata={
        "description": "The point is only approximate: the reporter chose a district, not a "
                       "place (`location_source: district`); the description says where."})
    outcome = outcome_field()
    expected_at = expected_field()
    distance_m = fields.Float(metadata={"description": "Only in nearby results."})
    same_asset = fields.Boolean(metadata={
        "description": "Only in nearby results asked with `asset_id`: the report points at "
                       "that asset (these come first)."})
    thumb = fields.String(allow_none=True, metadata={
        "description": "URL of the first photo's thumbnail (JPEG), if any is ready."})


class ClusterPropertiesSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Reports in the cell"})
    bbox = fields.List(fields.Float(), required=True,
                       metadata={"description": "The cell: [minLon, minLat, maxLon, maxLat]"})


class ClusterFeatureSchema(Schema):
    type = constant("Feature")
    id = fields.String(required=True, metadata={"description": "zoom/x/y of the cell"})
    geometry = fields.Nested(PointGeometrySchema, required=True,
                             metadata={"description": "The mean position of its reports"})
    properties = fields.Nested(ClusterPropertiesSchema, required=True)


class ClusterCollectionSchema(Schema):
    type = constant("FeatureCollection")
    features = fields.List(fields.Nested(ClusterFeatureSchema), required=True)
    zoom = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Reports in the clusters"})


class ReportFeatureSchema(Schema):
    type = constant("Feature")
    id = fields.String(required=True)
    geometry = fields.Nested(PointGeometrySchema, required=True)
    properties = fields.Nested(ReportFeaturePropertiesSchema, required=True)


class ReportCollectionSchema(Schema):
    type = constant("FeatureCollection")
    features = fields.List(fields.Nested(ReportFeatureSchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(min=20, max=200))
    auth = fields.String(required=True, validate=validate.Length(min=8, max=100))


class PushSubscriptionSchema(Schema):
    """A browser's PushSubscription, as `subscription.toJSON()` gives it."""

    class Meta:
        unknown = RAISE

    endpoint = fields.Url(required=True, schemes={"https", "http"}, require_tld=False,
                          validate=validate.Length(max=2000))
    keys = fields.Nested(PushKeysSchema, required=True)
    expirationTime = fields.Raw(load_default=None, allow_none=True)  # noqa: N815 (browser's name)


class StrictBoolean(fields.Boolean):
    """A JSON true or false only (not 1, 0 or "yes")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class FixedAnswerSchema(Schema):
    """The reporter's answer to "Is it fixed?"."""

    class Meta:
        unknown = RAISE

    fixed = StrictBoolean(required=True)
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=DESCRIPTION_MAX))


class FollowSchema(Schema):
    """Follow a report instead of filing a duplicate: by e-mail, push, or both."""

    class Meta:
        unknown = RAISE

    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    push_subscription = fields.Nested(PushSubscriptionSchema, load_default=None,
                                      allow_none=True)


class CreatedIdSchema(Schema):
    id = fields.Integer(required=True)


class PublicKeySchema(Schema):
    public_key = fields.String(required=True, metadata={
        "description": "VAPID public key for PushManager.subscribe(applicationServerKey)"})
