"""Schemas of the public asset API: its query parameters and answers (an asset itself is
always `AssetRefSchema`)."""

from __future__ import annotations

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

from backend.api.asset_schemas import AssetRefSchema
from backend.api.query_schemas import BBox
from backend.api.schemas import PointGeometrySchema, constant

KIND = {"description": "A category group code (its asset types) or, as `type`, an asset type "
                       "code; neither: every type. Give one of them."}


class _KindQuery(Schema):
    """`group` or `type`: loaded as `kind` and `kind_field` (the parameter used)."""

    class Meta:
        unknown = EXCLUDE

    group = fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                          metadata=KIND)
    type = fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                         metadata={"description": "An asset type code, e.g. `traffic_signal`."})

    @validates_schema
    def one_kind(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("group") is not None and data.get("type") is not None:
            raise ValidationError("give group or type, not both", "type")

    @post_load
    def kind(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["kind_field"] = "type" if data.get("type") is not None else "group"
        data["kind"] = data.get("type") if data.get("type") is not None else data.get("group")
        return data


class AssetViewportQuery(_KindQuery):
    bbox = BBox(required=True, metadata={"description": "minLon,minLat,maxLon,maxLat"})


class NearestAssetQuery(_KindQuery):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    max_distance_m = fields.Float(load_default=300.0, validate=validate.Range(1, 2000),
                                  metadata={"description": "Search radius (default 300 m)."})


class AssetLookupQuery(_KindQuery):
    number = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "The number on the asset; spaces and case are ignored."})


class AssetFeaturePropertiesSchema(Schema):
    name = fields.String(allow_none=True, required=True)
    number = fields.String(allow_none=True, required=True)
    type = fields.String(required=True, metadata={"description": "The asset type's code."})
    layer = fields.String(required=True)


class AssetFeatureSchema(Schema):
    type = constant("Feature")
    id = fields.Integer(required=True, metadata={"description": "The asset's id (`asset_id`)."})
    geometry = fields.Nested(PointGeometrySchema, required=True)
    properties = fields.Nested(AssetFeaturePropertiesSchema, required=True)


class AttributionSchema(Schema):
    layer = fields.String(required=True)
    text = fields.String(required=True, metadata={"example": "© OpenStreetMap contributors"})
    licence = fields.String(required=True)


class AssetCollectionSchema(Schema):
    type = constant("FeatureCollection")
    features = fields.List(fields.Nested(AssetFeatureSchema), required=True)
    attribution = fields.List(fields.Nested(AttributionSchema), required=True, metadata={
        "description": "Must be shown with the assets (the layers' licences require it)."})
    truncated = fields.Boolean(required=True, metadata={
        "description": "More assets are in the box than were sent: zoom in."})


class NearestAssetSchema(Schema):
    asset = fields.Nested(AssetRefSchema, required=True, allow_none=True, metadata={
        "description": "With `distance_m`; null when none is within the radius."})


class AssetListSchema(Schema):
    assets = fields.List(fields.Nested(AssetRefSchema), required=True)


class AssetOpenReportSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The report's public id."})
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    url = fields.String(required=True)


class AssetDetailSchema(AssetRefSchema):
    open_reports = fields.List(fields.Nested(AssetOpenReportSchema), required=True, metadata={
        "description": "The open reports about this asset, newest first (public data only)."})


class AssetLayerSchema(Schema):
    code = fields.String(required=True)
    type = fields.String(required=True, attribute="asset_type")
    source = fields.String(required=True, metadata={
        "description": "A URL, or the name of the file it was imported from."})
    licence = fields.String(required=True)
    attribution = fields.String(required=True)
    imported_at = fields.DateTime(required=True)
    active_count = fields.Integer(required=True)
    retired_count = fields.Integer(required=True)
    version = fields.String(required=True)


class AssetLayerListSchema(Schema):
    layers = fields.List(fields.Nested(AssetLayerSchema), required=True)
