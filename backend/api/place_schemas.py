"""Schemas of the address search (`/api/v1/places`)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from backend.api.schemas import DistrictRefSchema

PLACE_KINDS = ["address", "street", "place", "area"]


class PlaceQuery(Schema):
    """What was typed, and how many places to answer."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=validate.Length(min=3, max=100), metadata={
        "description": "What the citizen typed: a street, optionally with a house number "
                       "(\"Leopoldstr. 12\"); case, ß/ss, umlauts and \"str.\"/\"straße\" do "
                       "not matter. 3 to 100 characters."})
    limit = fields.Integer(load_default=8, validate=validate.Range(1, 20),
                           metadata={"description": "At most this many places (1–20, default 8)."})

    @pre_load
    def strip(self, data: dict, **_: object) -> dict:
        if hasattr(data, "to_dict"):
            data = data.to_dict()
        if isinstance(data.get("q"), str):
            data = {**data, "q": " ".join(data["q"].split())}
        return data


class PlaceSchema(Schema):
    label = fields.String(required=True, metadata={"example": "Marienplatz 1, 80331 München"})
    lat = fields.Float(required=True, metadata={"example": 48.1374})
    lon = fields.Float(required=True, metadata={"example": 11.5755})
    kind = fields.String(required=True, validate=validate.OneOf(PLACE_KINDS), metadata={
        "description": "`address` (a house), `street` (the middle of its known addresses), "
                       "`place` (a named place) or `area` (a quarter), from the geocoder."})
    district = fields.Nested(DistrictRefSchema, required=True)
    source = fields.String(required=True, validate=validate.OneOf(["register", "geocoder"]),
                           metadata={"description": "The city's address register, or the "
                                                    "geocoder the city configured."})


class PlaceListSchema(Schema):
    places = fields.List(fields.Nested(PlaceSchema), required=True)
