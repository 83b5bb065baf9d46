"""GET /api/v1/places on both backends: register places with their district, the geocoder
behind it (a real tiny Photon server), bad queries in the error envelope, the rate limit,
and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from backend.services.addresses.importer import import_addresses
from backend.settings import Settings
from tests.backend.services.addresses.helpers import SAMPLE, empty_register
from tests.peers.geocoder import GeocoderPeer, KnownPlace

__all__ = ["empty_register"]
App = Callable[..., tuple[Flask, Settings]]


@pytest.fixture
def register(empty_register: str, session: Session) -> None:
    import_addresses(session, str(SAMPLE), place="München")


def test_an_address_is_found_with_its_district(register: None, client: Any) -> None:
    answer = client.get("/api/v1/places", query_string={"q": "marienplatz 1", "limit": 2})

    assert answer.status_code == 200
    assert answer.json["places"][0] == {
        "label": "Marienplatz 1, 80331 München", "lat": 48.1374, "lon": 11.5755,
        "kind": "address", "source": "register",
        "district": {"number": "01", "name": "Altstadt-Lehel"}}
    assert len(answer.json["places"]) == 1  # "marienplatz 1" is no prefix of "… 8"


def test_a_street_comes_before_its_houses(register: None, client: Any) -> None:
    answer = client.get("/api/v1/places?q=Leopoldstr.")

    assert [(p["kind"], p["label"]) for p in answer.json["places"]][:2] == [
        ("street", "Leopoldstraße, 80802 München"), ("address", "Leopoldstraße 1, 80802 München")]
    # The street sits at the middle of its houses (Leopoldstraße 12).
    assert answer.json["places"][0]["district"] == {"number": "12", "name": "Schwabing-Freimann"}


@pytest.mark.parametrize(("query", "message"), [
    ({}, "Missing data for required field."),
    ({"q": "ab"}, "Length must be between 3 and 100."),
    ({"q": "x" * 101}, "Length must be between 3 and 100."),
])
def test_too_short_or_long_queries_name_q(client: Any, query: dict, message: str) -> None:
    answer = client.get("/api/v1/places", query_string=query)

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_failed"
    assert answer.json["error"]["fields"] == {"q": [message]}


def test_the_geocoder_fills_up_and_drops_what_lies_outside_the_city(
        register: None, app_with: App) -> None:
    places = [KnownPlace("Tal", "12", "80331", "München", 11.5790, 48.1360),
              KnownPlace("Tal", "12", "82031", "Grünwald", 11.5300, 48.0390)]
    with GeocoderPeer(places) as peer:
        app, _ = app_with(geocoder_url=peer.url, geocoder_kind="photon")
        answer = app.test_client().get(
            "/api/v1/places?q=Tal%2012", headers={"User-Agent": "Citizen-Phone/1",
                                                  "Cookie": "mm_session=secret",
                                                  "X-Forwarded-For": "203.0.113.9"})

    assert [(p["label"], p["source"], p["district"]["number"])
            for p in answer.json["places"]] == [("Tal 12, 80331 München", "geocoder", "01")]
    [sent] = peer.requests
    assert sent.headers["user-agent"].startswith("Maengelmelder")
    assert "203.0.113.9" not in str(sent.headers) and "cookie" not in sent.headers


def test_a_dead_geocoder_still_answers_from_the_register(register: None,
                                                        app_with: App) -> None:
    app, _ = app_with(geocoder_url="http://127.0.0.1:9", geocoder_kind="nominatim",
                      geocoder_timeout_ms=300)

    answer = app.test_client().get("/api/v1/places?q=Platzl")

    assert answer.status_code == 200
    assert [p["source"] for p in answer.json["places"]] == ["register", "register"]


def test_searches_are_rate_limited(app_with: App) -> None:
    app, _ = app_with(rate_limits_enabled=True, rate_limit_places="2/minute")
    client = app.test_client()

    codes = [client.get("/api/v1/places?q=Tal").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_the_openapi_document_describes_places(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").json

    operation = document["paths"]["/api/v1/places"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "limit"}
    assert "PlaceList" in document["components"]["schemas"]
