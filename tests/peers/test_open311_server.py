"""The test Open311 system rejects what a real GeoReport v2 server rejects, so a forwarding
test that sends a wrong request fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.peers.open311_server import Open311Server


@pytest.fixture
def remote() -> Iterator[Open311Server]:
    server = Open311Server(api_key="k").start()
    yield server
    server.stop()


@pytest.mark.parametrize(("form", "problem"), [
    ({"api_key": "k", "lat": "48.1", "long": "11.5"}, "service_code"),
    ({"api_key": "k", "service_code": "S"}, "location"),
    ({"api_key": "k", "service_code": "S", "lat": "48.1"}, "lat and long"),
    ({"api_key": "k", "service_code": "S", "lat": "x", "long": "11.5"}, "lat and long"),
    ({"api_key": "k", "service_code": "S", "lat": "98.1", "long": "11.5"}, "range"),
])
def test_an_invalid_service_request_is_refused(remote: Open311Server, form: dict,
                                               problem: str) -> None:
    answer = requests.post(f"{remote.url}/requests.json", data=form, timeout=5)
    assert answer.status_code == 400
    assert problem in answer.json()[0]["description"]
    assert remote.created == 0


def test_json_is_not_a_form(remote: Open311Server) -> None:
    answer = requests.post(f"{remote.url}/requests.json", json={
        "api_key": "k", "service_code": "S", "lat": 48.1, "long": 11.5}, timeout=5)
    assert answer.status_code in (400, 403)
    assert remote.created == 0


def test_a_valid_request_is_created(remote: Open311Server) -> None:
    answer = requests.post(f"{remote.url}/requests.json", data={
        "api_key": "k", "service_code": "S", "address_string": "Marienplatz 1"}, timeout=5)
    assert answer.status_code == 200 and remote.created == 1
