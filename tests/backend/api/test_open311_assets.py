"""Open311 and assets: `attribute[asset_id]` on POST checked like our app's intake, and the
asset in `extended_attributes` of requests, schema-valid (both backends)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from jsonschema import Draft7Validator
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Report
from tests.backend.api.asset_helpers import point_at, signals
from tests.backend.api.helpers import MARIENPLATZ, create
from tests.backend.api.open311_helpers import BASE, assert_valid, open311_validators


@pytest.fixture(scope="module")
def requests_schema() -> Draft7Validator:
    return open311_validators()["requests.json"]


def _form(api_key: str, service_code: str = "ampel-lampe", **extra: Any) -> dict[str, Any]:
    lon, lat = MARIENPLATZ
    return {"api_key": api_key, "service_code": service_code, "lat": lat, "long": lon,
            "description": "Rotlicht dunkel", **extra}


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Report))


def test_a_posted_request_with_an_asset_points_at_it(app: Flask, client: Any,
                                                     api_key: str) -> None:
    [signal] = signals(app, 1)
    response = client.post(f"{BASE}/requests.json",
                           data=_form(api_key, **{"attribute[asset_id]": str(signal.id)}))
    assert response.status_code == 201, response.get_data(as_text=True)
    request_id = response.get_json()[0]["service_request_id"]
    with app.app_context():
        stored = db.session.execute(select(Report.asset_id, Report.attributes)
                                    .where(Report.public_id == request_id)).one()
    assert stored == (signal.id, None)  # the asset, not a service attribute


@pytest.mark.parametrize(("service_code", "value"), [
    ("ampel-lampe", "abc"), ("ampel-lampe", "-3"), ("ampel-lampe", "1.5"),
    ("ampel-lampe", "999999999"), ("schild-fehlt", "SIGNAL")])
def test_a_bad_asset_attribute_is_named_and_nothing_is_created(
    app: Flask, client: Any, api_key: str, service_code: str, value: str,
) -> None:
    [signal] = signals(app, 1)
    value = str(signal.id) if value == "SIGNAL" else value  # a signal for a sign: wrong type
    response = client.post(f"{BASE}/requests.json", data=_form(
        api_key, service_code, **{"attribute[asset_id]": value}))
    assert response.status_code == 400, response.get_data(as_text=True)
    [error] = response.get_json()
    assert error["code"] == 400 and "attribute[asset_id]" in error["description"]
    assert _count(app) == 0


def test_requests_carry_the_asset_in_their_extended_attributes(
    app: Flask, client: Any, requests_schema: Draft7Validator,
) -> None:
    [signal] = signals(app, 1)
    with_asset = create(client, "ampel-lampe")["id"]
    without = create(client, "ampel-lampe")["id"]
    point_at(app, with_asset, signal.id)
    listed = client.get(f"{BASE}/requests.json?extensions=true").get_json()
    one = client.get(f"{BASE}/requests/{with_asset}.json?extensions=true").get_json()
    plain = client.get(f"{BASE}/requests.json").get_json()
    for body in (listed, one, plain):
        assert_valid(requests_schema, body)
    shown = {r["service_request_id"]: r["extended_attributes"] for r in listed}
    assert shown[without]["asset"] is None
    asset = shown[with_asset]["asset"]
    assert (asset["id"], asset["layer"], asset["type"], asset["external_id"]) == (
        signal.id, "lsa-osm", "traffic_signal", signal.external_id)
    assert one[0]["extended_attributes"]["asset"] == asset
    assert all("extended_attributes" not in r for r in plain)
    root = ET.fromstring(client.get(f"{BASE}/requests/{with_asset}.xml?extensions=true").data)
    assert root.findtext("request/extended_attributes/asset/id") == str(signal.id)
    assert root.findtext("request/extended_attributes/asset/layer") == "lsa-osm"


@pytest.mark.parametrize("locale", ["de", "en"])
def test_service_definitions_list_the_asset_attribute_where_the_group_has_assets(
    client: Any, locale: str,
) -> None:
    validators = open311_validators()
    language = {"Accept-Language": locale}
    services = client.get(f"{BASE}/services.json", headers=language).get_json()
    assert_valid(validators["services.json"], services)
    metadata = {s["service_code"]: s["metadata"] for s in services}
    # Traffic signals and sign posts have asset types in the demo; "Sonstiges" has none.
    assert metadata["ampel-lampe"] is metadata["schild-fehlt"] is True
    assert metadata["sonstiges"] is False

    signal = client.get(f"{BASE}/services/ampel-ausfall.json", headers=language).get_json()
    assert_valid(validators["service-definition.json"], signal)
    codes = [a["code"] for a in signal["attributes"]]
    assert codes == ["ampel_art", "asset_id"]  # the configured question first, then ours
    asset = signal["attributes"][-1]
    assert asset["variable"] is True and asset["required"] is False
    assert asset["datatype"] == "number" and asset["order"] == 2 and asset["values"] == []
    assert ("Traffic signal" if locale == "en" else "Ampel/Lichtsignalanlage") in \
        asset["description"]

    other = client.get(f"{BASE}/services/sonstiges.json").get_json()
    assert_valid(validators["service-definition.json"], other)
    assert other["attributes"] == []
    xml = ET.fromstring(client.get(f"{BASE}/services/schild-fehlt.xml").get_data())
    assert [a.findtext("code") for a in xml.iter("attribute")] == ["asset_id"]


def test_a_category_question_may_not_be_called_asset_id() -> None:
    from marshmallow import ValidationError

    from backend.city.config import AttributeSchema
    with pytest.raises(ValidationError) as refused:
        AttributeSchema().load({"code": "asset_id", "datatype": "string",
                                "description": {"de": "x", "en": "x"}})
    assert "reserved" in str(refused.value.messages["code"])
