"""POST /api/v1/reports: routing, idempotency, validation, escaping, privacy (both backends)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.backend.api.helpers import (
    ALLIANZ_ARENA,
    MARIENPLATZ,
    NEARBY_URL,
    OUTSIDE_MUNICH,
    REPORTS_URL,
    assert_error,
    check_table,
    count_rows,
    create,
    offset,
    report_body,
)

# --------------------------------------------------------------------------- routing


def test_sign_report_at_marienplatz_goes_to_mitte(client: Any, session: Session) -> None:
    response = client.post(REPORTS_URL, json=report_body("schild-fehlt", MARIENPLATZ))

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["district"] == {"number": "01", "name": "Altstadt-Lehel"}
    assert body["department"]["code"] == "bezirksinspektion-mitte"
    assert body["category"]["code"] == "schild-fehlt"
    assert body["category"]["group"]["code"] == "schild"
    assert body["priority"] == "high"
    assert body["status"] == "submitted"
    assert body["open311_status"] == "open"
    assert body["location"] == {"lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0]}
    assert body["description"] == "Das Halteverbotsschild fehlt seit gestern."
    assert body["address"] is None
    assert isinstance(body["tracking_token"], str) and len(body["tracking_token"]) >= 20
    assert body["tracking_url"] == f"http://mm.test/api/v1/track/{body['tracking_token']}"
    assert body["url"] == f"http://mm.test/api/v1/reports/{body['id']}"
    assert response.headers["Location"] == body["url"]
    assert count_rows(session) == (1, 1)


def test_location_header_points_at_the_created_report(client: Any) -> None:
    created = client.post(REPORTS_URL, json=report_body())
    fetched = client.get(created.headers["Location"])

    assert fetched.status_code == 200
    assert fetched.get_json()["id"] == created.get_json()["id"]
    public = {k: v for k, v in created.get_json().items()
              if k not in ("tracking_token", "tracking_url", "uploads")}
    assert fetched.get_json() == public


@pytest.mark.parametrize(
    ("category", "point", "district", "department", "priority"),
    [
        ("schild-fehlt", MARIENPLATZ, "01", "bezirksinspektion-mitte", "high"),
        ("schild-fehlt", ALLIANZ_ARENA, "12", "bezirksinspektion-nord", "high"),
        ("schild-beschaedigt", ALLIANZ_ARENA, "12", "bezirksinspektion-nord", "normal"),
        ("ampel-ausfall", MARIENPLATZ, "01", "verkehrstechnik", "urgent"),
        ("ampel-ausfall", ALLIANZ_ARENA, "12", "verkehrstechnik", "urgent"),
        ("ampel-schaltung", MARIENPLATZ, "01", "verkehrstechnik", "normal"),
        ("sonstiges", MARIENPLATZ, "01", "anliegenmanagement", "normal"),
        ("sonstiges", ALLIANZ_ARENA, "12", "anliegenmanagement", "normal"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_report_is_routed_by_category_and_district(
    client: Any, category: str, point: tuple[float, float], district: str, department: str,
    priority: str,
) -> None:
    body = create(client, category, point)

    assert body["district"]["number"] == district
    assert body["department"]["code"] == department
    assert body["priority"] == priority
    assert body["status"] == "submitted"


def test_sign_report_at_allianz_arena_goes_to_nord(client: Any) -> None:
    body = create(client, "schild-fehlt", ALLIANZ_ARENA)

    assert body["district"] == {"number": "12", "name": "Schwabing-Freimann"}
    assert body["department"] == {"code": "bezirksinspektion-nord",
                                  "name": "Bezirksinspektion Nord"}


def test_point_outside_munich_is_refused_and_nothing_is_stored(
    client: Any, session: Session
) -> None:
    response = client.post(REPORTS_URL, json=report_body(point=OUTSIDE_MUNICH))

    error = assert_error(response, 422, "outside_service_area")
    assert {"lat", "lon"} & set(error["fields"])
    assert client.get(REPORTS_URL).get_json()["features"] == []
    assert count_rows(session) == (0, 0)


def test_each_report_gets_its_own_id_and_token(client: Any, session: Session) -> None:
    first = create(client)
    second = create(client)

    assert first["id"] != second["id"]
    assert first["tracking_token"] != second["tracking_token"]
    assert count_rows(session) == (2, 2)


# --------------------------------------------------------------------------- idempotency


def test_same_idempotency_key_and_body_replays_the_first_report(
    client: Any, session: Session
) -> None:
    headers = {"Idempotency-Key": "outbox-3f1c2a"}
    first = client.post(REPORTS_URL, json=report_body(), headers=headers)
    second = client.post(REPORTS_URL, json=report_body(), headers=headers)

    assert first.status_code == 201
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["tracking_token"] == first.get_json()["tracking_token"]
    assert second.headers["Location"] == first.headers["Location"]
    assert count_rows(session) == (1, 1)
    # the replayed token really opens the report
    tracked = client.get(f"/api/v1/track/{second.get_json()['tracking_token']}")
    assert tracked.status_code == 200
    assert tracked.get_json()["id"] == first.get_json()["id"]


def test_different_idempotency_keys_create_different_reports(
    client: Any, session: Session
) -> None:
    first = client.post(REPORTS_URL, json=report_body(), headers={"Idempotency-Key": "a-1"})
    second = client.post(REPORTS_URL, json=report_body(), headers={"Idempotency-Key": "a-2"})

    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]
    assert first.get_json()["tracking_token"] != second.get_json()["tracking_token"]
    assert count_rows(session) == (2, 2)


def test_same_idempotency_key_with_a_different_body_is_a_conflict(
    client: Any, session: Session
) -> None:
    headers = {"Idempotency-Key": "outbox-77"}
    first = client.post(REPORTS_URL, json=report_body(), headers=headers)
    second = client.post(REPORTS_URL, json=report_body(description="Anderer Text"),
                         headers=headers)

    assert first.status_code == 201
    assert_error(second, 409, "conflict", {"Idempotency-Key"})
    assert count_rows(session) == (1, 1)


def test_idempotency_key_of_a_refused_request_is_not_used_up(
    client: Any, session: Session
) -> None:
    headers = {"Idempotency-Key": "outbox-retry-after-fix"}
    refused = client.post(REPORTS_URL, json=report_body(point=OUTSIDE_MUNICH), headers=headers)
    invalid = client.post(REPORTS_URL, json={**report_body(), "lat": "x"}, headers=headers)
    accepted = client.post(REPORTS_URL, json=report_body(), headers=headers)

    assert_error(refused, 422, "outside_service_area")
    assert_error(invalid, 422, "validation_failed", {"lat"})
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted.headers
    assert count_rows(session) == (1, 1)


@pytest.mark.parametrize(
    "key",
    ["k" * 129, "k" * 200, "has space", "tab\tkey", "schlüssel", ""],
    ids=["129-chars", "200-chars", "space", "tab", "non-ascii", "empty"],
)
def test_invalid_idempotency_key_is_rejected(client: Any, session: Session, key: str) -> None:
    response = client.post(REPORTS_URL, json=report_body(), headers={"Idempotency-Key": key})

    assert_error(response, 422, "validation_failed", {"Idempotency-Key"})
    assert count_rows(session) == (0, 0)


def test_idempotency_key_of_128_visible_characters_is_accepted(client: Any) -> None:
    key = ("!~" + "x" * 126)
    response = client.post(REPORTS_URL, json=report_body(), headers={"Idempotency-Key": key})

    assert response.status_code == 201


# --------------------------------------------------------------------------- validation

NO_CATEGORY = {k: v for k, v in report_body().items() if k != "category"}


def _without(*names: str) -> dict[str, Any]:
    return {k: v for k, v in report_body().items() if k not in names}


def _with(**changes: Any) -> dict[str, Any]:
    return {**report_body(), **changes}


VALIDATION_CASES = [
    # (id, body, expected field names)
    ("missing-category", _without("category"), {"category"}),
    ("missing-lat", _without("lat"), {"lat"}),
    ("missing-lon", _without("lon"), {"lon"}),
    ("missing-description", _without("description"), {"description"}),
    ("all-missing", {}, {"category", "lat", "lon", "description"}),
    ("lat-string", _with(lat="48.1"), {"lat"}),
    ("lon-true", _with(lon=True), {"lon"}),
    ("lat-null", _with(lat=None), {"lat"}),
    ("description-number", _with(description=42), {"description"}),
    ("description-null", _with(description=None), {"description"}),
    ("category-list", _with(category=["schild-fehlt"]), {"category"}),
    ("category-empty", _with(category=""), {"category"}),
    ("address-number", _with(address=5), {"address"}),
    ("lat-91", _with(lat=91), {"lat"}),
    ("lat-minus-91", _with(lat=-91), {"lat"}),
    ("lon-181", _with(lon=181), {"lon"}),
    ("lon-minus-181", _with(lon=-181), {"lon"}),
    ("unknown-category", _with(category="schild-weg"), {"category"}),
    ("unknown-category-and-bad-lat", _with(category="schild-weg", lat="x"),
     {"category", "lat"}),
    ("unknown-category-and-missing-description",
     {k: v for k, v in _with(category="laterne").items() if k != "description"},
     {"category", "description"}),
    ("description-4001", _with(description="a" * 4001), {"description"}),
    ("description-empty", _with(description=""), {"description"}),
    ("description-whitespace", _with(description=" \n\t "), {"description"}),
    ("address-301", _with(address="b" * 301), {"address"}),
    ("email-no-at", _with(email="not-an-email"), {"email"}),
    ("email-no-domain", _with(email="anna@"), {"email"}),
    ("email-space", _with(email="an na@example.org"), {"email"}),
    ("email-number", _with(email=7), {"email"}),
    ("unknown-field", _with(photo="x.jpg"), {"photo"}),
    ("status-cannot-be-set", _with(status="resolved"), {"status"}),
    ("priority-cannot-be-set", _with(priority="urgent"), {"priority"}),
    ("department-cannot-be-set", _with(department="verkehrstechnik"), {"department"}),
]


@pytest.mark.parametrize(("body", "fields"), [c[1:] for c in VALIDATION_CASES],
                         ids=[c[0] for c in VALIDATION_CASES])
def test_invalid_report_is_rejected_naming_each_field(
    client: Any, session: Session, body: dict[str, Any], fields: set[str]
) -> None:
    response = client.post(REPORTS_URL, json=body)

    assert_error(response, 422, "validation_failed", fields)
    assert count_rows(session) == (0, 0)


RAW_BODY_CASES = [
    # (id, raw bytes, status, code, fields or None)
    ("nan", b'{"category": "schild-fehlt", "lat": NaN, "lon": 11.5755, "description": "x"}',
     400, "malformed_request", None),
    ("infinity",
     b'{"category": "schild-fehlt", "lat": 48.1, "lon": Infinity, "description": "x"}',
     400, "malformed_request", None),
    ("minus-infinity",
     b'{"category": "schild-fehlt", "lat": -Infinity, "lon": 11.5, "description": "x"}',
     400, "malformed_request", None),
    ("overflow-1e400",
     b'{"category": "schild-fehlt", "lat": 1e400, "lon": 11.5755, "description": "x"}',
     422, "validation_failed", {"lat"}),
    ("not-json", b"category=schild-fehlt&lat=48.1", 400, "malformed_request", None),
    ("truncated-json", b'{"category": "schild-fehlt", "lat": 48.1', 400,
     "malformed_request", None),
    ("empty-body", b"", 400, "malformed_request", None),
    ("array", b'[{"category": "schild-fehlt"}]', 400, "malformed_request", None),
    ("string", b'"schild-fehlt"', 400, "malformed_request", None),
    ("null", b"null", 400, "malformed_request", None),
    ("invalid-utf8", b'{"description": "\xff\xfe"}', 400, "malformed_request", None),
]


@pytest.mark.parametrize(("raw", "status", "code", "fields"), [c[1:] for c in RAW_BODY_CASES],
                         ids=[c[0] for c in RAW_BODY_CASES])
def test_unreadable_body_is_rejected(
    client: Any, session: Session, raw: bytes, status: int, code: str, fields: set[str] | None
) -> None:
    response = client.post(REPORTS_URL, data=raw, content_type="application/json")

    assert_error(response, status, code, fields)
    assert count_rows(session) == (0, 0)


def test_integer_latitude_too_large_for_a_float_is_rejected_not_a_server_error(
    client: Any, session: Session
) -> None:
    # A JSON integer with 400 digits parses to a Python int that no float can hold.
    raw = (b'{"category": "schild-fehlt", "lat": 1' + b"0" * 400
           + b', "lon": 11.5755, "description": "x"}')
    response = client.post(REPORTS_URL, data=raw, content_type="application/json")

    assert_error(response, 422, "validation_failed", {"lat"})
    assert count_rows(session) == (0, 0)


@pytest.mark.parametrize("field", ["description", "address"])
def test_nul_character_in_text_is_never_a_server_error(
    client: Any, session: Session, field: str
) -> None:
    # Either refused as invalid input or stored and returned unchanged, the same on both backends.
    text = "Schild\u0000fehlt"
    response = client.post(REPORTS_URL, json=_with(**{field: text}))

    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert_error(response, 422, "validation_failed", {field})
        assert count_rows(session) == (0, 0)
    else:
        fetched = client.get(response.headers["Location"]).get_json()
        assert fetched[field] == text


def test_integer_coordinates_pass_type_validation(client: Any) -> None:
    # JSON has one number type: 48 is as good a latitude as 48.0 (it is just not in Munich).
    response = client.post(REPORTS_URL, json=_with(lat=48, lon=11))

    assert_error(response, 422, "outside_service_area")


def test_description_of_4000_characters_is_accepted(client: Any) -> None:
    text = "ä" * 4000
    body = create(client, description=text)

    assert body["description"] == text
    assert client.get(f"{REPORTS_URL}/{body['id']}").get_json()["description"] == text


def test_address_of_300_characters_is_accepted(client: Any) -> None:
    body = create(client, address="S" * 300)
    assert body["address"] == "S" * 300


def test_text_fields_are_trimmed_and_blank_optional_fields_become_null(
    client: Any, session: Session
) -> None:
    body = create(client, category=" schild-fehlt ", description="  Schild weg \n",
                  address="   ", email="  ")

    assert body["category"]["code"] == "schild-fehlt"
    assert body["description"] == "Schild weg"
    assert body["address"] is None
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert tracked["email_on_file"] is False


def test_valid_email_is_accepted(client: Any) -> None:
    body = create(client, email="anna.muster@example.org")
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert tracked["email_on_file"] is True


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/plain", 415), ("application/x-www-form-urlencoded", 415),
     ("application/xml", 415), (None, 415), ("application/json; charset=utf-8", 201)],
)
def test_only_json_content_type_is_accepted(
    client: Any, session: Session, content_type: str | None, status: int
) -> None:
    raw = json.dumps(report_body()).encode()
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post(REPORTS_URL, data=raw, **kwargs)

    if status == 201:
        assert response.status_code == 201
        assert count_rows(session) == (1, 1)
    else:
        assert_error(response, 415, "unsupported_media_type")
        assert count_rows(session) == (0, 0)


@pytest.mark.parametrize("size", [256 * 1024 + 1, 300 * 1024])
def test_body_over_256_kib_is_too_large(client: Any, session: Session, size: int) -> None:
    prefix = b'{"category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755, "description": "'
    raw = prefix + b"a" * (size - len(prefix) - 2) + b'"}'
    assert len(raw) == size
    response = client.post(REPORTS_URL, data=raw, content_type="application/json")

    assert_error(response, 413, "payload_too_large")
    assert count_rows(session) == (0, 0)


def test_body_just_under_the_limit_is_read_and_validated(client: Any) -> None:
    # 256 KiB exactly is read (then refused for the description's length, not the size).
    prefix = b'{"category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755, "description": "'
    raw = prefix + b"a" * (256 * 1024 - len(prefix) - 2) + b'"}'
    response = client.post(REPORTS_URL, data=raw, content_type="application/json")

    assert_error(response, 422, "validation_failed", {"description"})


# --------------------------------------------------------------------------- escaping

HOSTILE = "<script>alert(1)</script> & \"quotes\""


def test_html_in_description_is_kept_as_text_and_escaped_in_json(client: Any) -> None:
    response = client.post(REPORTS_URL, json=report_body(description=HOSTILE,
                                                         address="<b>Marienplatz</b>"))
    assert response.status_code == 201
    assert response.get_json()["description"] == HOSTILE

    fetched = client.get(response.headers["Location"])
    assert fetched.get_json()["description"] == HOSTILE
    assert fetched.get_json()["address"] == "<b>Marienplatz</b>"
    for raw in (response.get_data(), fetched.get_data()):
        assert b"<script>" not in raw
        assert b"</script>" not in raw
        assert b"<b>" not in raw
        assert b"\\u003cscript\\u003e" in raw
        assert b"\\u0026" in raw


def test_html_in_an_unknown_category_is_escaped_in_the_error(client: Any) -> None:
    response = client.post(REPORTS_URL, json=report_body(category="<img src=x onerror=1>"))

    assert_error(response, 422, "validation_failed", {"category"})
    assert b"<img" not in response.get_data()


# --------------------------------------------------------------------------- privacy


def test_email_and_tracking_secrets_never_appear_in_public_outputs(client: Any) -> None:
    email = "anna.muster@example.org"
    key = "device-key-4711"
    created = client.post(REPORTS_URL, json=report_body(email=email),
                          headers={"Idempotency-Key": key})
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    token = created.get_json()["tracking_token"]
    secrets = [email, "anna.muster", token, hashlib.sha256(token.encode()).hexdigest(), key]

    lon, lat = MARIENPLATZ
    outputs = {
        "report": client.get(f"{REPORTS_URL}/{report_id}"),
        "list": client.get(REPORTS_URL),
        "nearby": client.get(NEARBY_URL, query_string={
            "lat": lat, "lon": lon, "category": "schild-fehlt"}),
        "report-en": client.get(f"{REPORTS_URL}/{report_id}",
                                headers={"Accept-Language": "en"}),
    }
    for name, response in outputs.items():
        assert response.status_code == 200, name
        assert report_id in response.get_data(as_text=True), name
        for secret in secrets:
            assert secret not in response.get_data(as_text=True), (name, secret)

    tracked = client.get(f"/api/v1/track/{token}")
    assert tracked.status_code == 200
    assert tracked.get_json()["email_on_file"] is True
    assert email not in tracked.get_data(as_text=True)


def test_tracking_view_without_email_says_no_email_on_file(client: Any) -> None:
    body = create(client)
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert tracked["email_on_file"] is False


# --------------------------------------------------------------------------- language


GERMAN_NAMES = ("Verkehrszeichen fehlt", "Verkehrszeichen", "Bezirksinspektion Mitte")
ENGLISH_NAMES = ("Street sign missing", "Street sign", "District inspection Centre")
LANGUAGES = [
    # (Accept-Language or None, names of category, group and department)
    (None, GERMAN_NAMES), ("de", GERMAN_NAMES), ("fr", GERMAN_NAMES), ("en", ENGLISH_NAMES),
    ("en-GB,en;q=0.8", ENGLISH_NAMES), ("de;q=0.3, en;q=0.9", ENGLISH_NAMES),
]


def test_names_follow_accept_language(client: Any) -> None:
    def check(accept_language: str | None, names: tuple[str, str, str]) -> None:
        headers = {"Accept-Language": accept_language} if accept_language else {}
        created = client.post(REPORTS_URL, json=report_body(), headers=headers)
        assert created.status_code == 201
        fetched = client.get(created.headers["Location"], headers=headers)
        for body in (created.get_json(), fetched.get_json()):
            assert (body["category"]["name"], body["category"]["group"]["name"],
                    body["department"]["name"]) == names

    check_table([(str(al), al, names) for al, names in LANGUAGES], check)


def test_localized_report_responses_vary_on_accept_language(client: Any) -> None:
    # Names in these responses depend on Accept-Language, so a cache must key on it (RFC 9110
    # 12.5.5), as GET /api/v1/categories already says.
    created = client.post(REPORTS_URL, json=report_body(), headers={"Accept-Language": "en"})
    body = created.get_json()
    lon, lat = MARIENPLATZ
    urls = [
        ("report", f"{REPORTS_URL}/{body['id']}"),
        ("list", REPORTS_URL),
        ("nearby", f"{NEARBY_URL}?lat={lat}&lon={lon}&category=schild-fehlt"),
        ("track", f"/api/v1/track/{body['tracking_token']}"),
    ]

    def check(url: str) -> None:
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 200
        vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
        assert "accept-language" in vary, response.headers.get("Vary")

    check_table(urls, check)


def test_traffic_light_names_in_english(client: Any) -> None:
    created = client.post(REPORTS_URL, json=report_body("ampel-ausfall"),
                          headers={"Accept-Language": "en"})
    body = created.get_json()

    assert body["category"]["name"] == "Traffic light completely out"
    assert body["department"]["name"] == "Traffic engineering – traffic signals"
    assert body["priority"] == "urgent"


def test_report_nearby_point_within_district_is_still_routed(client: Any) -> None:
    # a few metres from Marienplatz is still Altstadt-Lehel
    body = create(client, point=offset(MARIENPLATZ, north_m=15, east_m=-10))
    assert body["district"]["number"] == "01"
