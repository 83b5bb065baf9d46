"""Reading requests: strict JSON bodies, schema loading, language negotiation."""

from __future__ import annotations

import math
import re
from typing import Any

from flask import Flask, Response, g, request
from marshmallow import Schema, ValidationError

from backend.api.json_provider import strict_loads
from backend.errors import InvalidInput, MalformedRequest, PayloadTooLarge, UnsupportedMediaType

LOCALES = ("de", "en")
MAX_JSON_BYTES = 256 * 1024


def request_locale() -> str:
    """The best of our languages for the Accept-Language header, German by default.

    Asking marks the response as language-dependent (see `mark_localized_responses`).
    """
    g.mm_locale = request.accept_languages.best_match(LOCALES, default="de") or "de"
    return g.mm_locale


def mark_localized_responses(app: Flask) -> None:
    """Responses that depended on Accept-Language say so, so caches keep languages apart."""

    @app.after_request
    def vary_on_language(response: Response) -> Response:
        locale = g.get("mm_locale")
        if locale is not None:
            response.vary.add("Accept-Language")
            response.headers.setdefault("Content-Language", locale)
        return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400/413/415."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the report as application/json.",
            {"Content-Type": [f"expected application/json, got '{request.mimetype or ''}'"]},
        )
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES} bytes.")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES} bytes.")
    try:
        data = strict_loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("The body must be a JSON object.")
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput("Invalid input.", {key: ["must be a finite number"]})
    return data


FORM_NUMBERS = ("lat", "lon", "photo_lat", "photo_lon")


def form_body(file_field: str, max_file_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """A multipart/form-data body: its fields (numbers parsed) and the files in `file_field`.

    Files are read up to one byte past the limit, so an oversized one is refused by the
    photo checks without reading all of it into memory.
    """
    data: dict[str, Any] = {}
    for key in request.form:
        value = request.form.get(key, "")
        if key in FORM_NUMBERS:
            try:
                number = float(value)
            except ValueError:
                number = None
            # Leave text that is no finite number as it is: the schema names the field.
            data[key] = number if number is not None and math.isfinite(number) else value
        else:
            data[key] = value
    unknown = [key for key in request.files if key != file_field]
    if unknown:
        raise InvalidInput("Unexpected file fields.", {k: ["unknown field"] for k in unknown})
    files = [f.stream.read(max_file_bytes + 1) for f in request.files.getlist(file_field)]
    return data, files


def report_body(file_field: str, max_file_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """The body of a new report: JSON, or multipart form fields with photos."""
    if request.mimetype == "multipart/form-data":
        return form_body(file_field, max_file_bytes)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the report as application/json or multipart/form-data.",
            {"Content-Type": [f"expected application/json or multipart/form-data, got "
                              f"'{request.mimetype or ''}'"]},
        )
    return json_body(), []


def load(schema: Schema, data: Any) -> Any:
    """Validate with a marshmallow schema; every failing field is named in the error."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise InvalidInput("Some fields are missing or invalid.", messages) from exc


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header (1–128 visible ASCII characters), if any."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            "Invalid Idempotency-Key header.",
            {"Idempotency-Key": ["1 to 128 visible ASCII characters"]},
        )
    return key
