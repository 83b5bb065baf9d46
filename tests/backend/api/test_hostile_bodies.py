"""Hostile input (issue 15, point 7): bodies, forms and query strings built to break a parser
get a 400/413/415/422 in the error envelope (Open311: in its own format) and change nothing.

Every table runs on SpatiaLite and PostGIS; PostgreSQL is the one that refuses NUL characters.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.api.request_io import MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_URLENCODED_BYTES
from backend.extensions import db
from backend.services.api_keys import create_api_key
from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL, assert_error, create
from tests.backend.api.staff_helpers import make_user, token_for

TABLES = ("report", "report_event", "report_note", "photo", "recipient", "push_subscription",
          "audit_log", "staff_user", "category", "department", "routing_rule", "forwarding")


@dataclass(frozen=True)
class World:
    """One report (with its tracking token) and an admin's headers."""

    report_id: str
    token: str
    admin: dict[str, str]

    def url(self, template: str) -> str:
        return template.format(id=self.report_id, token=self.token)


@pytest.fixture
def world(app: Flask, client: Any) -> World:
    report = create(client)
    make_user(app, "ada", "admin", (), password=None)
    return World(report["id"], report["tracking_token"], token_for(app, "ada"))


def state(session: Session) -> tuple[Any, ...]:
    """Row counts of every table a request could write, and the configuration version."""
    try:
        counts = tuple(session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES)
        return counts + tuple(session.execute(text("SELECT * FROM city_state")).all())
    finally:
        session.rollback()


# --------------------------------------------------------------------------- JSON bodies

# (method, URL template, as the admin?) by endpoint family.
JSON_FAMILIES = {
    "public-report": [("POST", "/api/v1/reports", False)],
    "reporter": [
        ("POST", "/api/v1/reports/{id}/followers", False),
        ("POST", "/api/v1/track/{token}/push-subscriptions", False),
        ("POST", "/api/v1/track/{token}/fixed", False),
    ],
    "staff": [
        ("POST", "/api/v1/auth/login", False),
        ("POST", "/api/v1/staff/reports/{id}/status", True),
        ("POST", "/api/v1/staff/reports/{id}/notes", True),
        ("POST", "/api/v1/staff/reports/{id}/forward", True),
        ("POST", "/api/v1/staff/reports/{id}/resolve", True),
    ],
    "city-editing": [
        ("PUT", "/api/v1/admin/routing-rules", True),
        ("POST", "/api/v1/admin/categories", True),
        ("PATCH", "/api/v1/admin/categories/schild-fehlt", True),
        ("POST", "/api/v1/admin/departments", True),
        ("PATCH", "/api/v1/admin/departments/verkehrstechnik", True),
        ("POST", "/api/v1/admin/users", True),
        ("PATCH", "/api/v1/admin/users/ada", True),
    ],
}


def _nested(depth: int) -> bytes:
    return b'{"text": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


BAD_JSON = [
    # (id, raw body, status, code, fields)
    ("deep-array", b"[" * 100_000, 400, "malformed_request", {"body"}),
    ("deep-object", b'{"a":' * 50_000, 400, "malformed_request", {"body"}),
    ("deep-object-over-the-size-limit", b'{"a":' * 100_000, 413, "payload_too_large", {"body"}),
    ("deep-balanced", b"[" * 50_000 + b"]" * 50_000, 400, "malformed_request", {"body"}),
    ("one-level-too-deep", _nested(MAX_JSON_DEPTH + 1), 400, "malformed_request", {"body"}),
    ("deep-after-an-escaped-quote", b'{"a": "\\"", "b": ' + b"[" * 5_000, 400,
     "malformed_request", {"body"}),
    ("surrogate-escape", b'{"text": "Schild \\ud800 fehlt"}', 400, "malformed_request", {"body"}),
    ("surrogate-key", b'{"\\udc00": 1}', 400, "malformed_request", {"body"}),
    ("surrogate-nested", b'{"keys": {"auth": ["\\uDBFF"]}}', 400, "malformed_request", {"body"}),
    ("utf8-encoded-surrogate", b'{"text": "\xed\xa0\x80"}', 400, "malformed_request", {"body"}),
    ("utf-16", '{"text": "x"}'.encode("utf-16"), 400, "malformed_request", {"body"}),
    ("integer-of-5000-digits", b'{"text": ' + b"9" * 5_000 + b"}", 400, "malformed_request",
     {"body"}),
    ("nul-in-value", b'{"text": "a\\u0000b"}', 422, "validation_failed", {"text"}),
    ("nul-in-key", b'{"te\\u0000xt": "a"}', 422, "validation_failed", {"te\x00xt"}),
    ("nul-nested", b'{"keys": {"auth": "\\u0000"}}', 422, "validation_failed", {"keys"}),
]


@pytest.mark.parametrize(("raw", "status", "code", "fields"), [c[1:] for c in BAD_JSON],
                         ids=[c[0] for c in BAD_JSON])
@pytest.mark.parametrize("family", list(JSON_FAMILIES))
def test_a_hostile_json_body_is_refused_naming_it_and_changes_nothing(
    client: Any, session: Session, world: World, family: str, raw: bytes, status: int,
    code: str, fields: set[str],
) -> None:
    before = state(session)
    for method, template, as_admin in JSON_FAMILIES[family]:
        response = client.open(world.url(template), method=method, data=raw,
                               content_type="application/json",
                               headers=world.admin if as_admin else {})

        assert_error(response, status, code, fields)
    assert state(session) == before


@pytest.mark.parametrize("description", [
    "[" * 1_000 + "{" * 1_000,  # brackets in text are not nesting
    '\\"' + "[" * 1_000,  # nor after an escaped quote
    "Emoji \U0001F6A6 as a surrogate pair",  # a pair is one character, not a lone surrogate
])
def test_brackets_and_escapes_inside_text_are_just_text(client: Any, description: str) -> None:
    lon, lat = MARIENPLATZ
    body = {"category": "schild-fehlt", "lat": lat, "lon": lon, "description": description}
    raw = json.dumps(body, ensure_ascii=True).encode()  # every non-ASCII character escaped
    response = client.post(REPORTS_URL, data=raw, content_type="application/json")

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["description"] == description


def test_the_deepest_allowed_body_is_read(client: Any, world: World) -> None:
    # 32 levels pass the reader, and the schema names the field that is not text.
    response = client.post(world.url("/api/v1/staff/reports/{id}/notes"),
                           data=_nested(MAX_JSON_DEPTH), content_type="application/json",
                           headers=world.admin)

    assert_error(response, 422, "validation_failed", {"text"})


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(
    client: Any, session: Session
) -> None:
    before = state(session)
    response = client.post(
        REPORTS_URL, input_stream=io.BytesIO(b"[" * (MAX_JSON_BYTES * 4)),
        content_type="application/json", headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_error(response, 413, "payload_too_large", {"body"})
    assert state(session) == before


# --------------------------------------------------------------------------- multipart

BOUNDARY = "mm-hostile"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _multipart(parts: list[bytes], boundary: str = BOUNDARY) -> bytes:
    mark = b"--" + boundary.encode()
    return b"".join(mark + b"\r\n" + part + b"\r\n" for part in parts) + mark + b"--\r\n"


def _field(name: str, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + raw


REPORT_FIELDS = [_field("category", "schild-fehlt"), _field("lat", str(MARIENPLATZ[1])),
                 _field("lon", str(MARIENPLATZ[0])), _field("description", "Schild fehlt")]
EMPTY_PHOTO = (b'Content-Disposition: form-data; name="photos"; filename=""\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")

BAD_MULTIPART = [
    # (id, raw body, Content-Type, status, code, fields)
    ("no-boundary", _multipart(REPORT_FIELDS), "multipart/form-data", 400,
     "malformed_request", {"body"}),
    ("wrong-boundary", _multipart(REPORT_FIELDS), "multipart/form-data; boundary=other", 400,
     "malformed_request", {"body"}),
    ("garbage", b"\x00\xff" * 1_000, MULTIPART, 400, "malformed_request", {"body"}),
    ("cut-off", _multipart(REPORT_FIELDS)[:-40], MULTIPART, 400, "malformed_request", {"body"}),
    ("no-parts", _multipart([]), MULTIPART, 400, "malformed_request", {"body"}),
    ("5000-parts", _multipart(REPORT_FIELDS + [_field(f"f{i}", "1") for i in range(5_000)]),
     MULTIPART, 413, "payload_too_large", None),
    ("giant-part-header", _multipart([b"X-Padding: " + b"a" * 2_000_000 + b"\r\n"
                                      + REPORT_FIELDS[0]] + REPORT_FIELDS[1:]),
     MULTIPART, 413, "payload_too_large", None),
    ("giant-text-part", _multipart(REPORT_FIELDS + [_field("address", "a" * 2_000_000)]),
     MULTIPART, 413, "payload_too_large", None),
    ("part-without-a-name", _multipart([b"Content-Disposition: form-data\r\n\r\nx"]
                                       + REPORT_FIELDS), MULTIPART, 400, "malformed_request",
     {"body"}),
    ("nul-in-a-field", _multipart(REPORT_FIELDS + [_field("note", "a\x00b")]), MULTIPART, 422,
     "validation_failed", {"note"}),
]


@pytest.mark.parametrize(("raw", "content_type", "status", "code", "fields"),
                         [c[1:] for c in BAD_MULTIPART], ids=[c[0] for c in BAD_MULTIPART])
@pytest.mark.parametrize("endpoint", ["report", "photos", "resolve"])
def test_a_hostile_multipart_body_is_refused_and_changes_nothing(
    client: Any, session: Session, world: World, endpoint: str, raw: bytes,
    content_type: str, status: int, code: str, fields: set[str] | None,
) -> None:
    url, headers = {
        "report": (REPORTS_URL, {}),
        "photos": (world.url("/api/v1/reports/{id}/photos"), {"X-Tracking-Token": world.token}),
        "resolve": (world.url("/api/v1/staff/reports/{id}/resolve"), world.admin),
    }[endpoint]
    before = state(session)
    response = client.post(url, data=raw, content_type=content_type, headers=headers)

    assert_error(response, status, code, fields)
    assert state(session) == before


@pytest.mark.parametrize("endpoint", ["report", "photos"])
def test_an_empty_photos_field_is_named_as_an_empty_photo(
    client: Any, session: Session, world: World, endpoint: str
) -> None:
    # What a browser sends for a file input left empty: the answer a 0-byte photo gets.
    url, headers = {
        "report": (REPORTS_URL, {}),
        "photos": (world.url("/api/v1/reports/{id}/photos"), {"X-Tracking-Token": world.token}),
    }[endpoint]
    before = state(session)
    response = client.post(url, data=_multipart(REPORT_FIELDS + [EMPTY_PHOTO]),
                           content_type=MULTIPART, headers=headers)

    assert_error(response, 422, "invalid_photo", {"photos[0]"})
    assert state(session) == before


# --------------------------------------------------------------------------- Open311 POST

OPEN311 = "/open311/v2"
FORM = "application/x-www-form-urlencoded"


def _open311_form(**extra: str) -> bytes:
    from urllib.parse import urlencode

    lon, lat = MARIENPLATZ
    return urlencode({"api_key": "KEY", "service_code": "schild-fehlt", "lat": lat,
                      "long": lon, "description": "Schild fehlt", **extra}).encode()


XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            b"<service_request><description>&c;</description></service_request>")

BAD_OPEN311 = [
    # (id, raw body, Content-Type, status)
    ("form-over-256-kib", _open311_form(description="a" * MAX_URLENCODED_BYTES), FORM, 413),
    ("10000-form-fields", _open311_form() + b"&attribute[x]=1" * 10_000, FORM, 400),
    ("nul-in-description", _open311_form(description="a\x00b"), FORM, 400),
    ("nul-in-api-key", _open311_form().replace(b"KEY", b"K%00EY"), FORM, 400),
    ("nul-in-a-field-name", _open311_form() + b"&first%00name=x", FORM, 400),
    ("multipart-part-without-a-name",
     _multipart([b"Content-Disposition: form-data\r\n\r\nx", _field("api_key", "KEY")]),
     MULTIPART, 400),
    ("multipart-5000-parts", _multipart([_field(f"f{i}", "1") for i in range(5_000)]),
     MULTIPART, 413),
    ("multipart-giant-part-header",
     _multipart([b"X-Padding: " + b"a" * 2_000_000 + b"\r\n" + _field("api_key", "KEY")]),
     MULTIPART, 413),
    ("deep-json", b"[" * 100_000, "application/json", 415),
    ("xml-entity-expansion", XML_BOMB, "text/xml", 415),
    ("no-content-type", _open311_form(), "", 415),
]


def _open311_error(response: Any, fmt: str, status: int) -> str:
    """The description of Open311's one error, after checking the format."""
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "json":
        assert response.mimetype == "application/json"
        [error] = response.get_json()
        assert set(error) == {"code", "description"} and error["code"] == status
        return error["description"]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert root.findtext("error/code") == str(status)
    return root.findtext("error/description") or ""


@pytest.mark.parametrize(("raw", "content_type", "status"), [c[1:] for c in BAD_OPEN311],
                         ids=[c[0] for c in BAD_OPEN311])
@pytest.mark.parametrize("rate_limits", [False, True], ids=["unlimited", "rate-limited"])
def test_a_hostile_open311_post_gets_the_spec_error_format_and_changes_nothing(
    app_with: Any, session: Session, rate_limits: bool, raw: bytes, content_type: str,
    status: int,
) -> None:
    # With rate limits on, the limiter reads the form first (for the api_key) and must not
    # let a hostile body past its size limit either.
    app, _ = app_with(rate_limits_enabled=rate_limits, rate_limit_open311="100/minute")
    with app.app_context():
        key = create_api_key(db.session, "hostile client")
    client = app.test_client()
    before = state(session)
    for fmt in ("json", "xml"):
        response = client.post(f"{OPEN311}/requests.{fmt}", data=raw.replace(b"KEY", key.encode()),
                               headers={"Content-Type": content_type} if content_type else {})

        description = _open311_error(response, fmt, status)
        assert description
    assert state(session) == before


def test_nothing_posted_to_open311_is_parsed_as_xml() -> None:
    # The Open311 module only writes XML; an XML body is refused by its Content-Type (415,
    # above), so there is no XML parser for entity expansion to attack.
    from pathlib import Path

    import backend.api.open311 as view
    import backend.api.open311_format as fmt

    for module in (view, fmt):
        source = Path(module.__file__ or "").read_text()
        for parser in ("fromstring", "XMLParser", "ET.parse", "iterparse", "minidom", "lxml"):
            assert parser not in source, (module.__name__, parser)


def test_a_control_character_stored_in_a_report_does_not_break_open311_xml(
    client: Any,
) -> None:
    # JSON may carry U+0001; XML 1.0 cannot, so the XML list replaces it (once stored, every
    # XML client listing the report would otherwise fail to parse the whole answer).
    created = create(client, description="Schild\u0001 fehlt\u001f seit gestern")
    response = client.get(f"{OPEN311}/requests.xml?service_request_id={created['id']}")

    root = ET.fromstring(response.data)  # well formed, or this raises
    assert root.findtext("request/description") == "Schild\ufffd fehlt\ufffd seit gestern"
    as_json = client.get(f"{OPEN311}/requests.json?service_request_id={created['id']}")
    assert as_json.get_json()[0]["description"] == "Schild\u0001 fehlt\u001f seit gestern"


# --------------------------------------------------------------------------- query strings

MANY_IDS = ",".join(f"x{i:07d}" for i in range(1_001))

BAD_QUERIES = [
    # (id, URL, as the admin?, status, code, fields)
    ("report-id-with-nul", "/api/v1/reports/a%00b", False, 404, "not_found", {"path"}),
    ("staff-report-id-with-nul", "/api/v1/staff/reports/a%00b", True, 404, "not_found",
     {"path"}),
    ("app-page-with-nul", "/reports/a%00b", False, 404, "not_found", {"path"}),
    ("category-with-nul", "/api/v1/reports?category=a%00b", False, 422, "validation_failed",
     {"category"}),
    ("staff-queue-department-with-nul", "/api/v1/staff/queue?department=x&department=a%00b",
     True, 422, "validation_failed", {"department"}),
    ("updated-after-past-year-9999", "/api/v1/reports?updated_after=9999-12-31T23:59:59-01:00",
     False, 422, "validation_failed", {"updated_after"}),
    ("updated-after-year-1", "/api/v1/reports?updated_after=0001-01-01T00:00:00%2B01:00", False,
     422, "validation_failed", {"updated_after"}),
    ("limit-of-20-digits", "/api/v1/reports?limit=99999999999999999999", False, 422,
     "validation_failed", {"limit"}),
    ("cursor-of-100000-characters", "/api/v1/reports?cursor=" + "A" * 100_000, False, 422,
     "validation_failed", {"cursor"}),
    ("bbox-of-20000-numbers", "/api/v1/reports?bbox=" + ",".join(["1"] * 20_000), False, 422,
     "validation_failed", {"bbox"}),
    ("nearby-lat-1e400", "/api/v1/reports/nearby?lat=1e400&lon=11.5&category=schild-fehlt",
     False, 422, "validation_failed", {"lat"}),
    ("staff-queue-limit-of-20-digits", "/api/v1/staff/queue?limit=99999999999999999999", True,
     422, "validation_failed", {"limit"}),
    ("summary-from-past-year-9999", "/api/v1/analytics/summary?from=9999-12-31T23:59:59-01:00",
     True, 422, "validation_failed", {"from"}),
    ("heatmap-to-year-1", "/api/v1/analytics/heatmap?to=0001-01-01T00:00:00%2B01:00", True, 422,
     "validation_failed", {"to"}),
]


@pytest.mark.parametrize(("url", "as_admin", "status", "code", "fields"),
                         [c[1:] for c in BAD_QUERIES], ids=[c[0] for c in BAD_QUERIES])
def test_an_absurd_query_is_refused_in_the_envelope(
    client: Any, world: World, url: str, as_admin: bool, status: int, code: str,
    fields: set[str],
) -> None:
    response = client.get(url, headers=world.admin if as_admin else {})

    assert_error(response, status, code, fields)


BAD_OPEN311_QUERIES = [
    # (id, URL, status)
    ("start-date-in-year-9999", "/requests.{fmt}?start_date=9999-12-31T23:59:59Z", 400),
    ("end-date-in-year-1", "/requests.{fmt}?end_date=0001-01-01T00:00:00Z", 400),
    ("updated-after-past-year-9999",
     "/requests.{fmt}?updated_after=9999-12-31T23:59:59-01:00", 400),
    ("updates-start-date-in-year-9999",
     "/servicerequestupdates.{fmt}?start_date=9999-12-31T23:59:59Z", 400),
    ("page-of-20-digits", "/requests.{fmt}?page=99999999999999999999", 400),
    ("page-at-the-64-bit-limit", "/servicerequestupdates.{fmt}?page=9223372036854775807", 400),
    ("page-size-of-5000-digits", "/requests.{fmt}?page_size=" + "9" * 5_000, 400),
    ("1001-request-ids", "/requests.{fmt}?service_request_id=" + MANY_IDS, 400),
    ("request-id-with-nul", "/requests.{fmt}?service_request_id=a%00b", 400),
    ("request-path-with-nul", "/requests/a%00b.{fmt}", 404),
    ("token-path-with-nul", "/tokens/a%00b.{fmt}", 404),
]


@pytest.mark.parametrize(("url", "status"), [c[1:] for c in BAD_OPEN311_QUERIES],
                         ids=[c[0] for c in BAD_OPEN311_QUERIES])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_absurd_open311_query_gets_the_spec_error_format(
    client: Any, url: str, status: int, fmt: str
) -> None:
    response = client.get(OPEN311 + url.format(fmt=fmt))

    assert _open311_error(response, fmt, status)


def test_a_key_repeated_thousands_of_times_is_read_once(client: Any) -> None:
    create(client)
    query = "&".join(["category=schild-fehlt"] * 5_000 + ["status=open"] * 5_000)
    response = client.get(f"{REPORTS_URL}?{query}")

    assert response.status_code == 200
    assert len(response.get_json()["features"]) == 1
