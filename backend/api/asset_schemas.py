"""How the API shows an asset (a traffic signal, a sign post) wherever one appears: on the
map layer, in a report, in the staff queue, in exports. One shape everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import Schema, fields

if TYPE_CHECKING:  # only a type here: importing services from this module closes a cycle
    from backend.services.assets.queries import AssetHit


class AssetRefSchema(Schema):
    """An asset a report can point at (public register data, no personal data)."""

    id = fields.Integer(required=True, metadata={"description": "The asset's id here."})
    layer = fields.String(required=True, metadata={"description": "Its asset layer (register)."})
    type = fields.String(required=True, metadata={"description": "Its asset type's code."})
    external_id = fields.String(required=True, metadata={
        "description": "Its id in the register it was imported from, e.g. `node/128226`."})
    name = fields.String(allow_none=True)
    number = fields.String(allow_none=True, metadata={
        "description": "The number on the asset (e.g. on a signal's controller box)."})
    location = fields.Dict(required=True, metadata={"description": "`{lat, lon}`"})
    retired = fields.Boolean(required=True, metadata={
        "description": "No longer in the register (reports keep pointing at it)."})
    distance_m = fields.Float(metadata={"description": "From the point asked about."})


ASSET_REF_SCHEMA = AssetRefSchema()


def asset_ref(hit: AssetHit) -> dict[str, Any]:
    """The API's representation of `hit`."""
    data: dict[str, Any] = {
        "id": hit.id, "layer": hit.layer, "type": hit.asset_type,
        "external_id": hit.external_id, "name": hit.name, "number": hit.number,
        "location": {"lat": round(hit.lat, 7), "lon": round(hit.lon, 7)},
        "retired": hit.retired}
    if hit.distance_m is not None:
        data["distance_m"] = round(hit.distance_m, 1)
    return data
