"""The most-reported assets for analysts: counts, open reports, median hours to fix and the
last report against figures worked out by hand; permissions and bad input (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.backend.api.asset_helpers import point_at, signals
from tests.backend.api.helpers import assert_error, create
from tests.backend.api.staff_helpers import make_user, token_for

URL = "/api/v1/analytics/assets"
T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def _reports(app: Flask, client: Any) -> tuple[int, int]:
    """Signal A: fixed in 2 h, fixed in 6 h, one open; signal B: fixed in 10 h; one report
    without an asset; one of A's before the window tested below."""
    a, b = signals(app)
    plan: list[tuple[int | None, timedelta, float | None]] = [
        (a.id, timedelta(0), 2), (a.id, timedelta(days=1), 6), (a.id, timedelta(days=2), None),
        (b.id, timedelta(days=3), 10), (None, timedelta(days=1), None)]
    for asset_id, after, hours in plan:
        public_id = create(client, "ampel-lampe")["id"]
        values: dict[str, Any] = {"created_at": T0 + after}
        if hours is not None:
            values.update(status="resolved", resolved_at=T0 + after + timedelta(hours=hours))
        point_at(app, public_id, asset_id, **values)
    return a.id, b.id


def _figures(body: dict[str, Any]) -> list[tuple]:
    return [(e["asset"]["id"], e["reports"], e["open"], e["median_hours_to_fix"],
             e["last_report_at"][:19]) for e in body["assets"]]


def test_the_most_reported_assets_match_the_hand_computed_figures(app: Flask,
                                                                   client: Any) -> None:
    make_user(app, "ali", "analyst", (), password=None)
    headers = token_for(app, "ali")
    a, b = _reports(app, client)
    body = client.get(URL, headers=headers).get_json()
    assert _figures(body) == [(a, 3, 1, 4.0, "2026-05-06T08:00:00"),
                              (b, 1, 0, 10.0, "2026-05-07T08:00:00")]
    assert body["assets"][0]["asset"]["layer"] == "lsa-osm"
    window = client.get(URL, headers=headers, query_string={
        "from": "2026-05-05", "to": "2026-05-07T08:00:00Z"}).get_json()
    assert _figures(window) == [(a, 2, 1, 6.0, "2026-05-06T08:00:00")]
    top = client.get(URL, headers=headers, query_string={"limit": 1}).get_json()
    assert _figures(top) == _figures(body)[:1]
    signals_only = client.get(URL, headers=headers, query_string={"type": "traffic_signal"})
    assert _figures(signals_only.get_json()) == _figures(body)
    posts = client.get(URL, headers=headers, query_string={"type": "sign_post"}).get_json()
    assert posts["assets"] == []


def test_only_analysts_dispatchers_and_admins_and_bad_input_is_named(app: Flask,
                                                                     client: Any) -> None:
    make_user(app, "vera", "crew", ("verkehrstechnik",), password=None)
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    assert_error(client.get(URL), 401, "not_authenticated")
    assert_error(client.get(URL, headers=token_for(app, "vera")), 403, "forbidden")
    headers = token_for(app, "dora")
    assert client.get(URL, headers=headers).get_json()["assets"] == []
    for query, field in (({"type": "nope"}, "type"), ({"limit": 0}, "limit"),
                         ({"limit": "x"}, "limit"), ({"from": "gestern"}, "from"),
                         ({"from": "2026-05-05", "to": "2026-05-01"}, "to")):
        assert_error(client.get(URL, headers=headers, query_string=query), 422,
                     "validation_failed", {field})
