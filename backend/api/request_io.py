"""Reading requests: strict JSON bodies, schema loading, language negotiation."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from backend.api.context import settings
from backend.api.json_provider import strict_loads
from backend.errors import (
    InvalidInput,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from backend.notify.locales import app_languages, best_language
from backend.notify.texts import STATUS_LABELS

LOCALES = ("de", "en")
MAX_JSON_BYTES = 256 * 1024
# Werkzeug bounds each multipart text part (MAX_FORM_MEMORY_SIZE) and the number of parts, but
# parses a url-encoded body whole, up to MAX_CONTENT_LENGTH: 60 MB of "a=1&" take seconds and a
# gigabyte. An Open311 request (the only url-encoded one) is a few kilobytes.
MAX_URLENCODED_BYTES = 256 * 1024
# Our deepest body (a routing rule's districts) nests 3 levels. The limit keeps hostile bodies
# from Python's recursive parser (RecursionError near 1,000 levels) and from orjson's output
# (which refuses more than 254), and bounds every walk over a parsed body.
MAX_JSON_DEPTH = 32
NUL_MESSAGE = "must not contain NUL characters"


def request_locale() -> str:
    """The best of our languages for the Accept-Language header, German by default.

    Asking marks the response as language-dependent (see `mark_localized_responses`).
    """
    header = request.headers.get("Accept-Language", "")
    locale = _locales.get(header)
    if locale is None:  # parsed once per distinct header (browsers send a handful)
        locale = request.accept_languages.best_match(LOCALES, default="de") or "de"
        if len(_locales) > 1024:
            _locales.clear()
        _locales[header] = locale
    g.mm_locale = locale
    return locale


_locales: dict[str, str] = {}


def reporter_locale() -> str:
    """The language a reporter is written to (notifications): the first of the request's
    Accept-Language tags that the app or the notification texts know, German otherwise.

    The app sends its language first and the one its texts fall back to second
    (`tr, en;q=0.5`), so content follows `request_locale` and notifications this.
    """
    codes = (*STATUS_LABELS, *app_languages(settings().pwa_root))
    tags = [tag for tag, _quality in request.accept_languages]  # best first
    return best_language(tags, codes) or "de"


def mark_localized_responses(app: Flask) -> None:
    """Responses that depended on Accept-Language say so, so caches keep languages apart."""

    @app.after_request
    def vary_on_language(response: Response) -> Response:
        locale = g.get("mm_locale")
        if locale is not None:
            headers = response.headers
            if "Vary" in headers:
                response.vary.add("Accept-Language")
            else:  # the common case, without parsing a header set
                headers["Vary"] = "Accept-Language"
            if "Content-Language" not in headers:
                headers["Content-Language"] = locale
        return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400/413/415 (422 for NUL characters)."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the report as application/json.",
            {"Content-Type": [f"expected application/json, got '{request.mimetype or ''}'"]},
        )
    too_large = PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES} bytes.",
                                {"body": [f"at most {MAX_JSON_BYTES} bytes"]})
    # Werkzeug refuses a longer Content-Length at once, and stops reading a chunked body one
    # byte past the limit (without telling: the length check below does).
    request.max_content_length = MAX_JSON_BYTES + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise too_large from exc
    if len(raw) > MAX_JSON_BYTES:
        raise too_large
    data = parse_json_object(raw)
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput("Invalid input.", {key: ["must be a finite number"]})
    return data


def _unreadable(problem: str) -> MalformedRequest:
    """A 400 that names the body."""
    return MalformedRequest(f"The body cannot be read: {problem}.", {"body": [problem]})


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, refusing what the rest of the app cannot handle.

    400 for text that is not UTF-8 or not JSON, not an object, nested deeper than
    `MAX_JSON_DEPTH` or holding unpaired surrogates (not text: no database or JSON encoder
    takes them); 422 naming the field for NUL characters (PostgreSQL cannot store them).
    """
    try:
        # Strict UTF-8 (RFC 8259), unlike json.loads on bytes, which also lets UTF-8 encoded
        # surrogates through.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unreadable(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    # Counting is nearly free; only a body with more brackets than the limit is scanned.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and too_deep(text):
        raise _unreadable(f"nesting too deep (at most {MAX_JSON_DEPTH} levels)")
    try:
        data = strict_loads(text)
    except RecursionError as exc:  # not reached after the scan; kept as the last guard
        raise _unreadable(f"nesting too deep (at most {MAX_JSON_DEPTH} levels)") from exc
    except ValueError as exc:
        raise _unreadable(f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise _unreadable("must be a JSON object")
    if _SUSPECT_ESCAPE.search(text):  # NUL and surrogates only arrive as \u escapes
        _check_text(data)
    return data


_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE = re.compile("[\ud800-\udfff]")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in JSON text nest deeper than `limit` (brackets in strings
    do not count). Linear time, and run before parsing: the recursive parser never sees it."""
    # Escapes first (an escaped quote does not end a string), then strings, then all but
    # brackets. Every pattern runs left to right without backtracking into earlier text.
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, object keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_text(data: dict[str, Any]) -> None:
    """Refuse unpaired surrogates (400) and NUL characters (422, naming the top-level field)."""
    nul: dict[str, list[str]] = {}
    for key, value in data.items():
        for text in _strings({key: value}):
            if _SURROGATE.search(text):
                raise _unreadable("holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
            if "\x00" in text:
                nul[key] = [NUL_MESSAGE]
    if nul:
        raise InvalidInput("Text must not contain NUL characters.", nul)


def bounded_form() -> MultiDict[str, str]:
    """`request.form`, with a url-encoded body over `MAX_URLENCODED_BYTES` refused (413)."""
    if request.mimetype == "application/x-www-form-urlencoded":
        # As in `json_body`; the form is then parsed from the bytes read here.
        request.max_content_length = MAX_URLENCODED_BYTES + 1
        if len(request.get_data(cache=True, parse_form_data=False)) > MAX_URLENCODED_BYTES:
            raise RequestEntityTooLarge(
                f"A form-encoded body may be at most {MAX_URLENCODED_BYTES} bytes.")
    return request.form


def refuse_nul_in_urls(app: Flask) -> None:
    """A NUL character in the path is a 404, in the query string a 422, before any view runs.

    No id, code or filter holds one, and PostgreSQL refuses them in text: a report id such as
    `a%00b` would otherwise end in a database error (500) instead of "not found".
    """

    @app.before_request
    def no_nul_characters() -> None:
        if "\x00" in request.path:
            raise NotFound("Nothing here: the address holds a NUL character.",
                           {"path": [NUL_MESSAGE]})
        if b"%00" in request.query_string or b"\x00" in request.query_string:
            names = [name for name, value in request.args.items(multi=True)
                     if "\x00" in name or "\x00" in value] or ["query"]
            raise InvalidInput("The query string holds a NUL character.",
                               {name: [NUL_MESSAGE] for name in names})


FORM_NUMBERS = ("lat", "lon", "photo_lat", "photo_lon")
FORM_INTEGERS = ("asset_id",)


def _integer(text: str) -> bool:
    """ASCII digits with an optional sign (int() also takes other scripts' digits)."""
    digits = text.strip().removeprefix("-").removeprefix("+")
    return digits.isascii() and digits.isdigit() and len(digits) <= 19


def form_body(file_field: str, max_file_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """A multipart/form-data body: its fields (numbers parsed) and the files in `file_field`.

    Files are read up to one byte past the limit, so an oversized one is refused by the
    photo checks without reading all of it into memory. Werkzeug refuses too many parts and
    oversized text parts or part headers with a 413 (MAX_FORM_PARTS, MAX_FORM_MEMORY_SIZE).
    """
    if not request.mimetype_params.get("boundary"):
        raise _unreadable("multipart/form-data without a boundary")
    # Werkzeug answers an unreadable body (wrong boundary, garbage, cut off) with no parts at
    # all rather than an error: name that instead of every missing field.
    if not request.form and not request.files:
        raise _unreadable("no parts in the multipart body (wrong boundary or cut off?)")
    if None in request.form or None in request.files:
        raise _unreadable("a part without a name")
    data: dict[str, Any] = {}
    nul: dict[str, list[str]] = {}
    for key in request.form:
        value = request.form.get(key, "")
        if "\x00" in key or "\x00" in value:
            nul[key] = [NUL_MESSAGE]  # PostgreSQL cannot store them, and no person types them
        if key in FORM_NUMBERS:
            try:
                number = float(value)
            except ValueError:
                number = None
            # Leave text that is no finite number as it is: the schema names the field.
            data[key] = number if number is not None and math.isfinite(number) else value
        elif key in FORM_INTEGERS:
            # Empty means none; text that is no integer stays for the schema to name.
            data[key] = None if not value.strip() else int(value) if _integer(value) else value
        else:
            data[key] = value
    if nul:
        raise InvalidInput("Text must not contain NUL characters.", nul)
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


def photo_uploads(max_file_bytes: int, *, what: str = "photos") -> list[bytes]:
    """The photos of a multipart/form-data upload (`photos` parts, at least one); 415 for
    any other body, 422 naming `photos` for none."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(f"Send {what} as multipart/form-data.",
                                   {"Content-Type": ["expected multipart/form-data"]})
    _, uploads = form_body("photos", max_file_bytes)
    if not uploads:
        raise InvalidInput("No photo in the upload.", {"photos": ["at least one photo"]})
    return uploads
