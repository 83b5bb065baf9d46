"""POST /api/v1/photo-previews: a preview of a photo the browser cannot decode (HEIC)."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, jsonify

from backend.api.context import photo_limits, settings
from backend.api.rate_limits import limiter, photos_limit
from backend.api.request_io import photo_uploads
from backend.errors import InvalidInput
from backend.services.photo_preview import preview_photo

bp = Blueprint("photo_previews", __name__, url_prefix="/api/v1")


@bp.post("/photo-previews")
@limiter.limit(photos_limit)
def create_preview() -> Response:
    """Preview a photo.
    ---
    post:
      summary: A preview of a photo the browser cannot show (HEIC), and where it was taken
      description: >
        For the report form: a small upright JPEG without metadata (as a data URL) and the
        position from the photo's EXIF, if any. The photo is checked like an upload and then
        forgotten: nothing is stored and nothing is logged about it.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [photos]
              properties:
                photos: {type: string, format: binary}
      responses:
        200:
          description: The preview
          content:
            application/json:
              schema:
                type: object
                required: [preview, width, height, place]
                properties:
                  preview: {type: string, description: "data:image/jpeg;base64,…"}
                  width: {type: integer}
                  height: {type: integer}
                  place:
                    type: object
                    nullable: true
                    properties: {lat: {type: number}, lon: {type: number}}
        400: {$ref: '#/components/responses/Error'}
        413: {$ref: '#/components/responses/Error'}
        415: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
        429: {$ref: '#/components/responses/Error'}
    """
    uploads = photo_uploads(settings().photo_max_bytes, what="the photo")
    if len(uploads) != 1:
        raise InvalidInput("Send exactly one photo.", {"photos": ["exactly one photo"]})
    preview = preview_photo(uploads[0], photo_limits())
    response = jsonify({
        "preview": "data:image/jpeg;base64," + base64.b64encode(preview.jpeg).decode(),
        "width": preview.width, "height": preview.height,
        "place": {"lat": preview.place[0], "lon": preview.place[1]} if preview.place else None,
    })
    response.headers["Cache-Control"] = "no-store"
    return response
