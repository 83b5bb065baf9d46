"""The OpenAPI document is valid, complete, and true: real responses validate against it."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.backend.api.helpers import (
    MARIENPLATZ,
    NEARBY_URL,
    REPORTS_URL,
    create,
    offset,
    report_body,
)

SPEC_URI = "urn:mm:openapi"

PHOTO = "/api/v1/staff/reports/{report_id}/photos/{photo_id}"
OPERATIONS = {
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports/nearby"),
    ("get", "/api/v1/reports/clusters"),
    ("get", "/api/v1/reports/{public_id}"),
    ("get", "/api/v1/track/{token}"),
    ("post", "/api/v1/reports/{public_id}/photos"),
    ("post", "/api/v1/photo-previews"),
    ("post", "/api/v1/track/{token}/push-subscriptions"),
    ("post", "/api/v1/track/{token}/fixed"),
    ("post", "/api/v1/track/code"),  # a service-desk slip's short code (issue 20.4)
    ("get", "/api/v1/push/public-key"),
    ("post", "/api/v1/reports/{public_id}/followers"),
    ("get", "/api/v1/config"),
    ("get", "/api/v1/districts"),
    ("get", "/api/v1/districts/outlines"),
    ("get", "/api/v1/departments"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/staff/queue"),
    ("get", "/api/v1/staff/reports/{public_id}"),
    ("get", "/api/v1/staff/reports/{public_id}/reporter"),
    *(("post", f"/api/v1/staff/reports/{{public_id}}/{action}") for action in (
        "claim", "assign", "status", "resolve", "forward", "duplicate", "notes")),
    ("put", "/api/v1/staff/reports/{public_id}/asset"),
    ("get", f"{PHOTO}/preview"),
    *(("post", f"{PHOTO}/{action}") for action in (
        "hide", "unhide", "rotate", "regions", "restore", "release")),
    ("delete", f"{PHOTO}/regions/{{index}}"),
    ("get", "/api/v1/staff/assets/{asset_id}/reports"),
    ("get", "/api/v1/staff/search"),
    ("post", "/api/v1/staff/reports"),  # on behalf of a caller (issue 20.4)
    ("get", "/api/v1/staff/reports/{public_id}/templates"),  # response templates (20.1)
    ("get", "/api/v1/admin/templates"),
    ("post", "/api/v1/admin/templates"),
    ("patch", "/api/v1/admin/templates/{template_id}"),
    ("get", "/api/v1/admin/city"),
    ("put", "/api/v1/admin/routing-rules"),
    ("post", "/api/v1/admin/categories"),
    ("patch", "/api/v1/admin/categories/{code}"),
    ("post", "/api/v1/admin/departments"),
    ("patch", "/api/v1/admin/departments/{code}"),
    ("get", "/api/v1/admin/users"),
    ("post", "/api/v1/admin/users"),
    ("patch", "/api/v1/admin/users/{username}"),
    ("get", "/api/v1/admin/deliveries/failed"),
    ("get", "/api/v1/admin/deliveries/circuits"),
    ("post", "/api/v1/admin/deliveries/failed/{kind}/{item_id}/retry"),
    ("get", "/api/v1/analytics/heatmap"),
    ("get", "/api/v1/analytics/exports/{name}"),
    ("get", "/api/v1/analytics/summary"),
    ("get", "/api/v1/analytics/assets"),
    ("get", "/api/v1/opendata/reports.csv"),
    ("get", "/api/v1/opendata/reports.geojson"),
    ("get", "/api/v1/opendata/metadata.json"),
    ("get", "/api/v1/assets"),
    ("get", "/api/v1/places"),
    ("get", "/api/v1/assets/nearest"),
    ("get", "/api/v1/assets/lookup"),
    ("get", "/api/v1/assets/{asset_id}"),
    ("get", "/api/v1/asset-layers"),
}


def _spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects to JSON Schema 2020-12: `nullable: true` admits null."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        elif "$ref" in out or "allOf" in out or "anyOf" in out or "oneOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


class SpecValidators:
    """JSON-Schema validators for the schemas an operation documents."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        converted = _to_json_schema(copy.deepcopy(spec))
        resource = Resource(contents=converted, specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    def _validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def component(self, name: str) -> Draft202012Validator:
        assert name in self.spec["components"]["schemas"], name
        return self._validator(f"/components/schemas/{name}")

    def response(self, method: str, path: str, status: int, mimetype: str
                 ) -> Draft202012Validator:
        responses = self.spec["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method} {path} does not document {status}"
        documented = responses[str(status)]
        pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") \
            + f"/{method}/responses/{status}"
        if "$ref" in documented:
            pointer = documented["$ref"].removeprefix("#")
            documented = self.spec["components"]["responses"][pointer.rsplit("/", 1)[-1]]
        assert mimetype in documented["content"], (method, path, status, mimetype)
        return self._validator(f"{pointer}/content/{mimetype.replace('/', '~1')}/schema")

    def check(self, method: str, path: str, response: Any) -> None:
        validator = self.response(method, path, response.status_code, response.mimetype)
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in validator.iter_errors(response.get_json())]
        assert not errors, errors


@pytest.fixture
def validators(client: Any) -> SpecValidators:
    return SpecValidators(_spec(client))


# --------------------------------------------------------------------------- the document


def test_openapi_document_is_valid_openapi_3(client: Any) -> None:
    spec = _spec(client)
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_openapi_document_lists_every_operation(client: Any) -> None:
    spec = _spec(client)
    operations = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert operations == OPERATIONS
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            assert any(code.startswith("2") for code in op["responses"]), (method, path)


def test_openapi_documents_the_create_body_and_its_limits(client: Any) -> None:
    spec = _spec(client)
    body = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]
    assert body["required"] is True
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(schema["required"]) == {"category", "lat", "lon", "description"}
    assert schema["properties"]["description"]["maxLength"] == 4000
    assert schema["properties"]["address"]["maxLength"] == 300
    assert schema["properties"]["lat"]["minimum"] == -90
    assert schema["properties"]["lat"]["maximum"] == 90
    assert schema["properties"]["lon"]["minimum"] == -180
    assert schema["properties"]["lon"]["maximum"] == 180
    assert schema["additionalProperties"] is False


def test_public_report_schema_never_documents_secrets(client: Any) -> None:
    schemas = _spec(client)["components"]["schemas"]
    for name in ("Report", "TrackedReport", "ReportFeatureProperties"):
        properties = set(schemas[name]["properties"])
        assert not properties & {"email", "reporter_email", "tracking_token",
                                 "tracking_token_hash", "idempotency_key"}, name


# --------------------------------------------------------------------------- real responses


def test_create_response_matches_the_document(client: Any, validators: SpecValidators) -> None:
    response = client.post(REPORTS_URL, json=report_body(address="Marienplatz 1"))
    assert response.status_code == 201
    validators.check("post", "/api/v1/reports", response)
    replay_headers = {"Idempotency-Key": "spec-1"}
    client.post(REPORTS_URL, json=report_body(), headers=replay_headers)
    replayed = client.post(REPORTS_URL, json=report_body(), headers=replay_headers)
    assert replayed.status_code == 201
    validators.check("post", "/api/v1/reports", replayed)


def test_report_and_tracking_responses_match_the_document(
    client: Any, validators: SpecValidators
) -> None:
    created = create(client, email="anna@example.org")
    report = client.get(f"{REPORTS_URL}/{created['id']}")
    tracked = client.get(f"/api/v1/track/{created['tracking_token']}")

    assert report.status_code == tracked.status_code == 200
    validators.check("get", "/api/v1/reports/{public_id}", report)
    validators.check("get", "/api/v1/track/{token}", tracked)
    # the district really is a DistrictRef (the document's anyOf also admits any object)
    validators.component("DistrictRef").validate(report.get_json()["district"])


def test_list_and_nearby_responses_match_the_document(
    client: Any, validators: SpecValidators
) -> None:
    for north in (0, 10, 20):
        create(client, point=offset(MARIENPLATZ, north_m=north))
    listed = client.get(REPORTS_URL, query_string={"limit": 2})
    last = client.get(REPORTS_URL, query_string={"limit": 2,
                                                 "cursor": listed.get_json()["next_cursor"]})
    nearby = client.get(NEARBY_URL, query_string={
        "lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0], "category": "schild-fehlt"})

    assert listed.get_json()["next_cursor"] is not None
    assert last.get_json()["next_cursor"] is None
    assert len(nearby.get_json()["features"]) == 3
    validators.check("get", "/api/v1/reports", listed)
    validators.check("get", "/api/v1/reports", last)
    validators.check("get", "/api/v1/reports/nearby", nearby)
    clusters = client.get("/api/v1/reports/clusters", query_string={
        "bbox": "11.36,48.06,11.73,48.25", "zoom": 12})
    assert clusters.get_json()["total"] == 3
    validators.check("get", "/api/v1/reports/clusters", clusters)


def test_categories_response_matches_the_document(
    client: Any, validators: SpecValidators
) -> None:
    for accept_language in ("de", "en"):
        response = client.get("/api/v1/categories", headers={"Accept-Language": accept_language})
        validators.check("get", "/api/v1/categories", response)


ERROR_CASES = [
    # (id, method, documented path, request kwargs)
    ("create-422", "post", "/api/v1/reports", {"json": {}}),
    ("create-422-outside", "post", "/api/v1/reports",
     {"json": report_body(point=(11.0, 48.0))}),
    ("create-400", "post", "/api/v1/reports",
     {"data": b"[1]", "content_type": "application/json"}),
    ("create-415", "post", "/api/v1/reports", {"data": b"{}", "content_type": "text/plain"}),
    ("create-413", "post", "/api/v1/reports",
     {"data": b'{"a": "' + b"x" * 300_000 + b'"}', "content_type": "application/json"}),
    ("list-422", "get", "/api/v1/reports", {"query_string": {"bbox": "x"}}),
    ("nearby-422", "get", "/api/v1/reports/nearby", {"query_string": {"lat": "1"}}),
    ("clusters-422", "get", "/api/v1/reports/clusters", {"query_string": {"zoom": "99"}}),
    ("report-404", "get", "/api/v1/reports/{public_id}", {}),
    ("track-404", "get", "/api/v1/track/{token}", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])
def test_error_responses_are_documented_and_match_the_envelope(
    client: Any, validators: SpecValidators, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    url = path.replace("{public_id}", "zzzzzzzz").replace("{token}", "nope")
    response = client.open(url, method=method.upper(), **kwargs)

    assert 400 <= response.status_code < 500
    validators.check(method, path, response)


def test_idempotency_conflict_is_documented_and_matches_the_envelope(
    client: Any, validators: SpecValidators
) -> None:
    headers = {"Idempotency-Key": "spec-409"}
    client.post(REPORTS_URL, json=report_body(), headers=headers)
    conflict = client.post(REPORTS_URL, json=report_body(description="anders"), headers=headers)

    assert conflict.status_code == 409
    validators.check("post", "/api/v1/reports", conflict)


def test_validators_reject_what_the_document_forbids(
    client: Any, validators: SpecValidators
) -> None:
    body = client.get(f"{REPORTS_URL}/{create(client)['id']}").get_json()
    report = validators.component("Report")
    report.validate(body)

    broken = [
        {k: v for k, v in body.items() if k != "id"},
        {**body, "reporter_email": "anna@example.org"},
        {**body, "status": "lost"},
        {**body, "created_at": "yesterday"},
        {**body, "description": None},
    ]
    for candidate in broken:
        with pytest.raises(ValidationError):
            report.validate(candidate)
    report.validate({**body, "address": None})
    with pytest.raises(ValidationError):
        validators.component("Error").validate({"error": {"code": "x", "message": "y"}})


# --------------------------------------------------------------------------- docs page


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "data", "poster") and value:
                self.urls.append((tag, name, value))


def test_docs_page_mentions_every_path_and_loads_nothing_from_other_hosts(client: Any) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path in {path for _, path in OPERATIONS}:
        assert path in html, path
    assert "/api/v1/openapi.json" in html

    parser = _Links()
    parser.feed(html)
    assert parser.urls, "the page links at least to the JSON document"
    for tag, attr, url in parser.urls:
        assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", url, re.IGNORECASE), (tag, attr, url)
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s\"'<>]+", html)
    assert "<script src" not in html.lower()
    assert "@import" not in html
