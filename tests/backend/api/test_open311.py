"""Open311 GeoReport v2: schema-valid JSON, the same content as well-formed XML, filters that
filter, keys, errors in the spec's format, and requests routed like our own reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from jsonschema import Draft7Validator
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Report
from backend.services.api_keys import create_api_key
from tests.backend.api.helpers import ALLIANZ_ARENA, MARIENPLATZ, create
from tests.backend.api.open311_helpers import BASE, assert_valid, open311_validators
from tests.backend.api.staff_helpers import QUEUE_URL, make_user, token_for
from tests.shared_data import shared_data_dir


@pytest.fixture(scope="module")
def schemas() -> dict[str, Draft7Validator]:
    return open311_validators()


def _post(client: Any, **fields: Any) -> Any:
    return client.post(f"{BASE}/requests.json", data=fields)


def _marienplatz(api_key: str, **extra: Any) -> dict[str, Any]:
    lon, lat = MARIENPLATZ
    return {"api_key": api_key, "service_code": "schild-fehlt", "lat": lat, "long": lon,
            "description": "Schild fehlt", **extra}


def _xml(response: Any) -> ET.Element:
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)  # well formed, or this raises


def test_discovery_names_both_formats(client: Any) -> None:
    body = client.get(f"{BASE}/discovery.json").get_json()
    assert body["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(body["endpoints"][0]["formats"]) == {"application/json", "text/xml"}
    assert _xml(client.get(f"{BASE}/discovery.xml")).find("endpoints/endpoint/url") is not None


def test_services_validate_and_the_xml_says_the_same(client: Any, schemas: dict) -> None:
    services = client.get(f"{BASE}/services.json").get_json()
    assert_valid(schemas["services.json"], services)
    codes = [s["service_code"] for s in services]
    assert codes[:2] == ["ampel-ausfall", "ampel-lampe"] and "schild-fehlt" in codes
    ampel = services[0]
    assert ampel["group"] == "Ampel" and ampel["metadata"] is True and ampel["type"] == "realtime"
    assert "Lichtsignalanlage" in ampel["keywords"]
    root = _xml(client.get(f"{BASE}/services.xml"))
    xml_services = root.findall("service")
    assert [s.findtext("service_code") for s in xml_services] == codes
    assert [s.findtext("service_name") for s in xml_services] == [
        s["service_name"] for s in services]
    assert xml_services[0].findtext("metadata") == "true"
    english = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).get_json()
    assert english[0]["service_name"] == "Traffic light completely out"


def test_a_service_definition_has_the_spec_datatypes(client: Any, schemas: dict) -> None:
    body = client.get(f"{BASE}/services/ampel-ausfall.json").get_json()
    assert_valid(schemas["service-definition.json"], body)
    attribute, asset = body["attributes"]  # the configured question, then the asset id
    assert attribute["code"] == "ampel_art" and attribute["datatype"] == "singlevaluelist"
    assert asset["code"] == "asset_id" and asset["datatype"] == "number"
    assert [v["key"] for v in attribute["values"]] == ["fahrzeug", "fussgaenger", "beide"]
    root = _xml(client.get(f"{BASE}/services/ampel-ausfall.xml"))
    assert root.tag == "service_definition"
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")] == [
        "fahrzeug", "fussgaenger", "beide"]
    plain = client.get(f"{BASE}/services/sonstiges.json").get_json()
    assert plain == {"service_code": "sonstiges", "attributes": []}
    missing = client.get(f"{BASE}/services/nope.json")
    assert missing.status_code == 404
    assert missing.get_json()[0]["code"] == 404


def test_a_posted_request_lands_in_the_right_queue_like_our_own(
    app: Flask, client: Any, api_key: str, schemas: dict,
) -> None:
    response = _post(client, **_marienplatz(api_key, email="melder@example.org",
                                           first_name="Rita", last_name="Meier",
                                           phone="0171 1234567", device_id="abc"))
    assert response.status_code == 201, response.get_data(as_text=True)
    [created] = response.get_json()
    request_id = created["service_request_id"]
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    queue = client.get(QUEUE_URL, headers=token_for(app, "anna")).get_json()
    assert request_id in [f["id"] for f in queue["features"]]
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.public_id == request_id))
        assert (report.reporter_email, report.reporter_name, report.reporter_phone) == (
            "melder@example.org", "Rita Meier", "0171 1234567")
        assert report.source == "open311" and report.api_key_id is not None
    shown = client.get(f"{BASE}/requests/{request_id}.json").get_json()
    assert_valid(schemas["requests.json"], shown)
    assert shown[0]["status"] == "open" and shown[0]["service_code"] == "schild-fehlt"
    assert shown[0]["agency_responsible"] == "Bezirksinspektion Mitte"
    text = json.dumps(shown) + client.get(f"{BASE}/requests/{request_id}.xml").get_data(
        as_text=True)
    for private in ("melder@example.org", "Rita", "Meier", "0171"):
        assert private not in text
    token = client.get(f"{BASE}/tokens/{request_id}.json").get_json()
    assert token == [{"service_request_id": request_id, "token": request_id}]


def test_attributes_are_checked_against_the_definition(app: Flask, client: Any,
                                                       api_key: str) -> None:
    ok = _post(client, **_marienplatz(api_key, service_code="ampel-ausfall",
                                      **{"attribute[ampel_art]": "fussgaenger"}))
    assert ok.status_code == 201
    with app.app_context():
        stored = db.session.scalar(select(Report.attributes).where(
            Report.public_id == ok.get_json()[0]["service_request_id"]))
    assert stored == {"ampel_art": "fussgaenger"}
    bad = _post(client, **_marienplatz(api_key, service_code="ampel-ausfall",
                                       **{"attribute[ampel_art]": "rakete",
                                          "attribute[farbe]": "rot"}))
    assert bad.status_code == 400
    assert "attribute[ampel_art]" in bad.get_json()[0]["description"]
    assert "attribute[farbe]" in bad.get_json()[0]["description"]


@pytest.mark.parametrize("key", [None, "", "o311_wrong"])
def test_without_a_valid_key_nothing_is_created(app: Flask, client: Any, key: str | None,
                                                api_key: str) -> None:
    fields = _marienplatz(api_key)
    if key is None:
        del fields["api_key"]
    else:
        fields["api_key"] = key
    response = _post(client, **fields)
    assert response.status_code == 403
    assert response.get_json()[0]["code"] == 403
    with app.app_context():
        assert db.session.scalar(select(Report.id)) is None


def test_bad_requests_get_the_spec_error_format(app: Flask, client: Any, api_key: str) -> None:
    unknown = _post(client, **_marienplatz(api_key, service_code="nope"))
    assert unknown.status_code == 404
    no_place = _post(client, api_key=api_key, service_code="schild-fehlt",
                     address_string="Marienplatz 1")
    assert no_place.status_code == 400
    assert "lat" in no_place.get_json()[0]["description"]
    outside = _post(client, **_marienplatz(api_key, lat=48.0, long=11.0))
    assert outside.status_code == 400
    too_long = _post(client, **_marienplatz(api_key, description="x" * 4001))
    assert too_long.status_code == 400
    xml_error = client.post(f"{BASE}/requests.xml", data=_marienplatz("o311_wrong"))
    root = _xml(xml_error)
    assert root.tag == "errors" and root.findtext("error/code") == "403"
    wrong_city = client.get(f"{BASE}/services.json?jurisdiction_id=berlin")
    assert wrong_city.status_code == 404
    assert client.get(f"{BASE}/services.json?jurisdiction_id=muenchen").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Report.id)) is None


def test_every_filter_filters(app: Flask, client: Any, schemas: dict) -> None:
    sign = create(client)
    light = create(client, category="ampel-ausfall", point=ALLIANZ_ARENA)
    old = create(client)
    done = create(client)
    with app.app_context():
        db.session.execute(update(Report).where(Report.public_id == old["id"]).values(
            created_at=datetime.now(UTC) - timedelta(days=120),
            updated_at=datetime.now(UTC) - timedelta(days=120)))
        db.session.execute(update(Report).where(Report.public_id == done["id"]).values(
            status="closed"))
        db.session.commit()

    def ids(query: str = "") -> set[str]:
        response = client.get(f"{BASE}/requests.json{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert_valid(schemas["requests.json"], body) if body else None
        return {r["service_request_id"] for r in body}

    assert ids() == {sign["id"], light["id"], done["id"]}  # the last 90 days
    assert ids("?service_code=ampel-ausfall") == {light["id"]}
    assert ids("?service_code=ampel-ausfall,schild-fehlt&status=open") == {
        sign["id"], light["id"]}
    assert ids("?status=closed") == {done["id"]}
    lon, lat = ALLIANZ_ARENA
    assert ids(f"?bbox={lon - .01},{lat - .01},{lon + .01},{lat + .01}") == {light["id"]}
    start = (datetime.now(UTC) - timedelta(days=130)).isoformat()
    end = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    assert ids(f"?start_date={start}&end_date={end}".replace("+", "%2B")) == {old["id"]}
    assert ids(f"?service_request_id={old['id']},{light['id']}&status=closed") == {
        old["id"], light["id"]}  # ids override every other filter
    after = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"?updated_after={after}") == {sign["id"], light["id"], done["id"]}
    assert ids(f"?updated_before={after}") == set()
    paged = [client.get(f"{BASE}/requests.json?page={n}&page_size=2").get_json()
             for n in (1, 2)]
    assert len(paged[0]) == 2 and len(paged[1]) == 1
    extended = client.get(f"{BASE}/requests.json?extensions=true&service_code=schild-fehlt"
                          ).get_json()
    assert {r["extended_attributes"]["department"] for r in extended} == {
        "bezirksinspektion-mitte"}
    too_wide = client.get(f"{BASE}/requests.json?start_date=2026-01-01T00:00:00Z"
                          "&end_date=2026-06-01T00:00:00Z")
    assert too_wide.status_code == 400 and too_wide.get_json()[0]["code"] == 400


def test_requests_xml_carries_the_same_content(client: Any) -> None:
    create(client)
    create(client, category="ampel-ausfall")
    data = client.get(f"{BASE}/requests.json").get_json()
    root = _xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    for item, element in zip(data, root.findall("request"), strict=True):
        for key, value in item.items():
            text = element.findtext(key)
            assert (text or None) == (None if value is None else str(value)), key


def test_service_request_updates_list_public_status_changes(app: Flask, client: Any) -> None:
    report = create(client)
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    client.post(f"/api/v1/staff/reports/{report['id']}/status", headers=token_for(app, "anna"),
                json={"status": "in_progress", "public_note": "Wir kommen."})
    body = client.get(f"{BASE}/servicerequestupdates.json").get_json()
    assert [(u["service_request_id"], u["status"], u["extended_status"], u["description"])
            for u in body] == [(report["id"], "open", "in_progress", "Wir kommen.")]
    assert _xml(client.get(f"{BASE}/servicerequestupdates.xml")).find(
        "request_update/update_id") is not None


class _Images:
    """A loopback web server with one photo, counting what it was asked for."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
        self.hits: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                owner.hits.append(self.path)
                body, kind = (photo, "image/jpeg") if self.path == "/photo.jpg" else (
                    b"<html></html>", "text/html")
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_media_urls_load_only_from_configured_hosts_through_the_photo_pipeline(
    app_with: Any,
) -> None:
    from backend.models import Photo

    images = _Images()
    try:
        closed, _ = app_with()
        strict, _ = app_with(open311_media_hosts="media.example.org")
        open_app, _ = app_with(open311_media_hosts=images.host)
        url = f"http://{images.host}/photo.jpg"
        for app in (closed, strict):
            with app.app_context():
                key = create_api_key(db.session, "client")
            response = app.test_client().post(f"{BASE}/requests.json",
                                              data=_marienplatz(key, media_url=url))
            assert response.status_code == 201
            assert "not fetched" in response.get_json()[0]["service_notice"]
        assert images.hits == []  # nothing was requested from a host nobody allowed
        with open_app.app_context():
            key = create_api_key(db.session, "client")
        client = open_app.test_client()
        loaded = client.post(f"{BASE}/requests.json", data=_marienplatz(key, media_url=url))
        assert loaded.status_code == 201 and loaded.get_json()[0]["service_notice"] is None
        page = client.post(f"{BASE}/requests.json",
                           data=_marienplatz(key, media_url=f"http://{images.host}/page"))
        assert "not an image" in page.get_json()[0]["service_notice"]
        assert images.hits == ["/photo.jpg", "/page"]
        with open_app.app_context():
            photos = db.session.scalars(select(Photo)).all()
        assert len(photos) == 1 and photos[0].status == "pending"  # into the photo pipeline
    finally:
        images.stop()
