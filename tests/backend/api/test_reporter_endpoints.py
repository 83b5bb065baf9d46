"""The reporter's and followers' endpoints: tracking, push, "is it fixed?", following, unsubscribe.

Every test runs on SpatiaLite and PostGIS. Reports are made through the API; staff moves them
with `change_status` directly, as the staff tools will.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.models import PushSubscription, Recipient, Report, ReportEvent
from backend.models.base import utcnow
from backend.services.recipients import unsubscribe_token
from backend.services.workflow import StatusChange, change_status
from backend.settings import Settings
from backend.workflow import Actor, Status
from tests.backend.api.helpers import REPORTS_URL, assert_error, report_body
from tests.peers.push_service import PushServiceReceiver, make_subscription

PUBLIC_KEY_URL = "/api/v1/push/public-key"
PUSH_ENDPOINT = "https://push.example.org/abc"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _keys() -> dict[str, str]:
    """Browser-like subscription keys: an uncompressed P-256 point and a 16-byte secret."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": _b64url(point), "auth": _b64url(os.urandom(16))}


def _subscription(endpoint: str = PUSH_ENDPOINT) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": _keys()}


def _create(client: Any, locale: str = "de", **extra: Any) -> dict[str, Any]:
    """A new report made through the API by a reporter speaking `locale`."""
    response = client.post(REPORTS_URL, json=report_body(**extra),
                           headers={"Accept-Language": locale})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _staff(engine: Engine, public_id: str, target: Status) -> None:
    with Session(engine) as session:
        change_status(session, public_id, StatusChange(
            target=target, actor=Actor.STAFF, actor_name="crew-7", public_note="Erledigt"))


def _resolved(client: Any, engine: Engine, locale: str = "de") -> dict[str, Any]:
    """A report that staff has resolved."""
    created = _create(client, locale)
    _staff(engine, created["id"], Status.RESOLVED)
    return created


def _report(engine: Engine, public_id: str) -> Report:
    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        assert report is not None
        session.expunge(report)
        return report


def _status(engine: Engine, public_id: str) -> str:
    return _report(engine, public_id).status


def _events(engine: Engine, public_id: str) -> list[ReportEvent]:
    with Session(engine) as session:
        return list(session.scalars(
            select(ReportEvent).join(Report, Report.id == ReportEvent.report_id)
            .where(Report.public_id == public_id).order_by(ReportEvent.id)))


def _subscriptions(engine: Engine) -> list[PushSubscription]:
    with Session(engine) as session:
        return list(session.scalars(select(PushSubscription).order_by(PushSubscription.id)))


def _recipients(engine: Engine) -> list[Recipient]:
    with Session(engine) as session:
        return list(session.scalars(select(Recipient).order_by(Recipient.id)))


def _resolved_days_ago(engine: Engine, public_id: str, days: int) -> None:
    with Session(engine) as session:
        session.execute(update(Report).where(Report.public_id == public_id).values(
            resolved_at=utcnow() - timedelta(days=days)))
        session.commit()


# --- 1. GET /api/v1/track/{token} -----------------------------------------------------------


def test_the_tracking_view_has_an_etag_and_is_neither_cached_nor_shared(
    client: Any,
) -> None:
    created = _create(client)
    response = client.get(f"/api/v1/track/{created['tracking_token']}")
    assert response.status_code == 200
    assert response.get_json()["id"] == created["id"]
    etag = response.headers.get("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    cache_control = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


def test_sending_the_etag_back_gives_304_without_a_body(client: Any) -> None:
    url = f"/api/v1/track/{_create(client)['tracking_token']}"
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert "no-store" in again.headers["Cache-Control"]


def test_a_weak_copy_of_the_etag_still_gives_304(client: Any) -> None:
    # A compressing proxy (nginx gzip) turns the ETag into W/"..."; If-None-Match uses the
    # weak comparison (RFC 9110 §13.1.2), so the browser's W/ copy must still match.
    url = f"/api/v1/track/{_create(client)['tracking_token']}"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_a_status_change_changes_the_etag_and_the_view_comes_back(
    client: Any, engine: Engine,
) -> None:
    created = _create(client)
    url = f"/api/v1/track/{created['tracking_token']}"
    old = client.get(url).headers["ETag"]
    _staff(engine, created["id"], Status.ACKNOWLEDGED)
    response = client.get(url, headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.headers["ETag"] != old
    assert response.get_json()["status"] == "acknowledged"
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_an_unknown_tracking_token_is_404(client: Any) -> None:
    assert_error(client.get("/api/v1/track/not-a-real-token"), 404, "not_found")


# --- 2. POST /api/v1/track/{token}/push-subscriptions ---------------------------------------


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1/push/abc",
    "https://localhost/push/abc",
    "https://10.0.0.1/push/abc",
])
def test_push_endpoints_on_private_hosts_or_without_https_are_refused(
    client: Any, engine: Engine, endpoint: str,
) -> None:
    token = _create(client)["tracking_token"]
    response = client.post(f"/api/v1/track/{token}/push-subscriptions",
                           json=_subscription(endpoint))
    assert_error(response, 422, "validation_failed", {"endpoint"})
    assert _subscriptions(engine) == []


@pytest.mark.parametrize("endpoint", [
    "https://2130706433/push/abc",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/push/abc",  # 127.0.0.1 in hex
])
def test_loopback_addresses_written_as_numbers_are_refused_too(
    client: Any, engine: Engine, endpoint: str,
) -> None:
    # getaddrinfo() (and so requests) connects these to 127.0.0.1.
    token = _create(client)["tracking_token"]
    response = client.post(f"/api/v1/track/{token}/push-subscriptions",
                           json=_subscription(endpoint))
    assert_error(response, 422, "validation_failed", {"endpoint"})
    assert _subscriptions(engine) == []


def _name_of_this_machine() -> str:
    """A host name (not an address, not "localhost") that resolves to this machine: from
    /etc/hosts, or the machine's own name."""
    for line in Path("/etc/hosts").read_text().splitlines():
        address, *names = line.split("#")[0].split() or [""]
        for name in names:
            if address.startswith("127.") and "localhost" not in name:
                return name
    return socket.gethostname()


def test_a_host_name_that_resolves_into_a_private_network_is_refused(
    client: Any, engine: Engine,
) -> None:
    name = _name_of_this_machine()
    token = _create(client)["tracking_token"]
    response = client.post(f"/api/v1/track/{token}/push-subscriptions",
                           json=_subscription(f"https://{name}/push/abc"))
    assert_error(response, 422, "validation_failed", {"endpoint"})
    assert _subscriptions(engine) == []


def test_a_public_https_push_endpoint_is_stored_for_the_reporter(
    client: Any, engine: Engine,
) -> None:
    created = _create(client)
    body = _subscription()
    response = client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions",
                           json=body)
    assert response.status_code == 201, response.get_json()
    sub_id = response.get_json()["id"]
    assert isinstance(sub_id, int)
    [row] = _subscriptions(engine)
    assert row.id == sub_id and row.endpoint == PUSH_ENDPOINT and row.removed_at is None
    assert (row.p256dh, row.auth) == (body["keys"]["p256dh"], body["keys"]["auth"])
    [recipient] = _recipients(engine)
    assert recipient.id == row.recipient_id and recipient.role == "reporter"
    assert recipient.report_id == _report(engine, created["id"]).id


def test_subscribing_the_same_endpoint_again_revives_the_one_row(
    client: Any, engine: Engine,
) -> None:
    url = f"/api/v1/track/{_create(client)['tracking_token']}/push-subscriptions"
    first = client.post(url, json=_subscription())
    assert first.status_code == 201
    with Session(engine) as session:  # the push service said it is gone
        session.execute(update(PushSubscription).values(removed_at=utcnow()))
        session.commit()
    renewed = _subscription()
    second = client.post(url, json=renewed)
    assert second.status_code == 201
    assert second.get_json()["id"] == first.get_json()["id"]
    [row] = _subscriptions(engine)
    assert row.removed_at is None
    assert (row.p256dh, row.auth) == (renewed["keys"]["p256dh"], renewed["keys"]["auth"])
    assert len(_recipients(engine)) == 1


def test_a_subscription_without_its_auth_secret_is_refused(client: Any, engine: Engine) -> None:
    token = _create(client)["tracking_token"]
    body = _subscription()
    del body["keys"]["auth"]
    response = client.post(f"/api/v1/track/{token}/push-subscriptions", json=body)
    error = assert_error(response, 422, "validation_failed", {"keys"})
    assert "auth" in error["fields"]["keys"]
    assert _subscriptions(engine) == []


def test_subscribing_with_an_unknown_tracking_token_is_404(client: Any, engine: Engine) -> None:
    _create(client)
    response = client.post("/api/v1/track/not-a-real-token/push-subscriptions",
                           json=_subscription())
    assert_error(response, 404, "not_found")
    assert _subscriptions(engine) == []


def test_a_loopback_push_service_is_accepted_when_insecure_endpoints_are_allowed(
    app_with: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    engine: Engine,
) -> None:
    app, _ = app_with(push_allow_insecure_endpoints=True)
    client = app.test_client()
    token = _create(client)["tracking_token"]
    subscription, _ = make_subscription(push_service, "x")
    response = client.post(f"/api/v1/track/{token}/push-subscriptions", json={
        "endpoint": subscription["endpoint"],
        "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}})
    assert response.status_code == 201, response.get_json()
    assert [s.endpoint for s in _subscriptions(engine)] == [push_service.endpoint("x")]


# --- 3. POST /api/v1/track/{token}/fixed ----------------------------------------------------


def test_yes_it_is_fixed_closes_a_resolved_report_with_a_history_entry(
    client: Any, engine: Engine,
) -> None:
    created = _resolved(client, engine)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed",
                           json={"fixed": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "closed" and body["open311_status"] == "closed"
    assert [h["status"] for h in body["history"]][-2:] == ["resolved", "closed"]
    assert _status(engine, created["id"]) == "closed"
    last = _events(engine, created["id"])[-1]
    assert (last.from_status, last.to_status, last.actor) == ("resolved", "closed", "reporter")


def test_no_it_is_not_fixed_reopens_a_resolved_report(client: Any, engine: Engine) -> None:
    created = _resolved(client, engine)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed",
                           json={"fixed": False, "note": "Still broken"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "reopened" and body["open311_status"] == "open"
    last = body["history"][-1]
    assert (last["status"], last["note"]) == ("reopened", "Still broken")
    assert _status(engine, created["id"]) == "reopened"


@pytest.mark.parametrize("fixed", [True, False])
def test_answering_for_a_report_that_is_not_resolved_is_a_conflict(
    client: Any, engine: Engine, fixed: bool,
) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed",
                           json={"fixed": fixed})
    assert_error(response, 409, "conflict")
    assert _status(engine, created["id"]) == "submitted"
    assert len(_events(engine, created["id"])) == 1


def test_a_string_is_not_a_fixed_answer(client: Any, engine: Engine) -> None:
    created = _resolved(client, engine)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed",
                           json={"fixed": "yes"})
    assert_error(response, 422, "validation_failed", {"fixed"})
    assert _status(engine, created["id"]) == "resolved"


def test_answering_with_an_unknown_tracking_token_is_404(client: Any) -> None:
    response = client.post("/api/v1/track/not-a-real-token/fixed", json={"fixed": True})
    assert_error(response, 404, "not_found")


def test_after_14_days_the_reporter_can_still_close_but_no_longer_reopen(
    client: Any, engine: Engine,
) -> None:
    created = _resolved(client, engine)
    _resolved_days_ago(engine, created["id"], 15)
    url = f"/api/v1/track/{created['tracking_token']}/fixed"
    error = assert_error(client.post(url, json={"fixed": False}), 409, "conflict")
    assert "status" in error["fields"]
    assert _status(engine, created["id"]) == "resolved"
    response = client.post(url, json={"fixed": True})
    assert response.status_code == 200, response.get_json()
    assert _status(engine, created["id"]) == "closed"


def test_within_14_days_the_reporter_can_reopen(client: Any, engine: Engine) -> None:
    created = _resolved(client, engine)
    _resolved_days_ago(engine, created["id"], 13)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed",
                           json={"fixed": False})
    assert response.status_code == 200, response.get_json()
    assert _status(engine, created["id"]) == "reopened"


# --- 4. The e-mail's /fixed/yes and /fixed/no pages -----------------------------------------


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_opening_the_mail_link_shows_a_form_and_changes_nothing(
    client: Any, engine: Engine, answer: str,
) -> None:
    created = _resolved(client, engine)
    response = client.get(f"/api/v1/track/{created['tracking_token']}/fixed/{answer}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<form" in page and 'method="post"' in page and created["id"] in page
    assert _status(engine, created["id"]) == "resolved"
    assert len(_events(engine, created["id"])) == 2


@pytest.mark.parametrize(("answer", "status"), [("yes", "closed"), ("no", "reopened")])
def test_confirming_the_mail_link_changes_the_status(
    client: Any, engine: Engine, answer: str, status: str,
) -> None:
    created = _resolved(client, engine)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed/{answer}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Danke" in response.get_data(as_text=True)
    assert _status(engine, created["id"]) == status
    assert _events(engine, created["id"])[-1].actor == "reporter"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_answer_other_than_yes_or_no_is_404(
    client: Any, engine: Engine, method: str,
) -> None:
    created = _resolved(client, engine)
    response = client.open(f"/api/v1/track/{created['tracking_token']}/fixed/maybe",
                           method=method)
    assert response.status_code == 404
    assert _status(engine, created["id"]) == "resolved"


def test_a_german_reporter_gets_the_german_page(client: Any, engine: Engine) -> None:
    created = _resolved(client, engine, locale="de")
    page = client.get(f"/api/v1/track/{created['tracking_token']}/fixed/yes").get_data(
        as_text=True)
    assert '<html lang="de"' in page
    assert "Bestätigen" in page and "Confirm" not in page


def test_an_english_reporter_gets_the_english_page(client: Any, engine: Engine) -> None:
    created = _resolved(client, engine, locale="en")
    page = client.get(f"/api/v1/track/{created['tracking_token']}/fixed/no").get_data(
        as_text=True)
    assert '<html lang="en"' in page
    assert "Confirm" in page and "Bestätigen" not in page


def test_an_english_reporters_thank_you_page_is_marked_english(
    client: Any, engine: Engine,
) -> None:
    created = _resolved(client, engine, locale="en")
    response = client.post(f"/api/v1/track/{created['tracking_token']}/fixed/yes")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thank you" in page
    assert '<html lang="en"' in page  # screen readers read the page in its declared language


# --- 5. POST /api/v1/reports/{id}/followers -------------------------------------------------


def test_following_by_email_stores_a_follower(client: Any, engine: Engine) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers",
                           json={"email": "fan@example.org"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.get_json()
    [follower] = _recipients(engine)
    assert follower.id == response.get_json()["id"]
    assert (follower.role, follower.email, follower.locale) == ("follower", "fan@example.org",
                                                                "en")
    assert follower.report_id == _report(engine, created["id"]).id


@pytest.mark.parametrize("body", [{}, {"email": None, "push_subscription": None}])
def test_following_needs_an_email_or_a_push_subscription(
    client: Any, engine: Engine, body: dict[str, Any],
) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers", json=body)
    assert_error(response, 422, "validation_failed", {"email"})
    assert _recipients(engine) == []


def test_following_an_unknown_report_is_404(client: Any, engine: Engine) -> None:
    response = client.post("/api/v1/reports/zzzzzzzz/followers", json={"email": "a@example.org"})
    assert_error(response, 404, "not_found")
    assert _recipients(engine) == []


def test_following_with_an_invalid_email_is_refused(client: Any, engine: Engine) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers",
                           json={"email": "not-an-address"})
    assert_error(response, 422, "validation_failed", {"email"})
    assert _recipients(engine) == []


def test_following_with_a_loopback_push_endpoint_is_refused_by_default(
    client: Any, engine: Engine,
) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers", json={
        "push_subscription": _subscription("http://127.0.0.1/push/abc")})
    assert_error(response, 422, "validation_failed", {"endpoint"})
    assert _recipients(engine) == [] and _subscriptions(engine) == []


def test_following_with_a_push_subscription_stores_it(client: Any, engine: Engine) -> None:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers",
                           json={"push_subscription": _subscription()})
    assert response.status_code == 201, response.get_json()
    [sub] = _subscriptions(engine)
    assert sub.recipient_id == response.get_json()["id"] and sub.endpoint == PUSH_ENDPOINT
    [follower] = _recipients(engine)
    assert follower.role == "follower" and follower.email is None


# --- 6. GET /api/v1/push/public-key ---------------------------------------------------------


def test_the_vapid_public_key_is_an_uncompressed_p256_point_and_stable(
    app_with: Callable[..., tuple[Flask, Settings]],
) -> None:
    client = app_with()[0].test_client()
    response = client.get(PUBLIC_KEY_URL)
    assert response.status_code == 200
    key = response.get_json()["public_key"]
    assert len(key) == 87
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(key + "=")
    assert len(raw) == 65 and raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a point on the curve
    assert client.get(PUBLIC_KEY_URL).get_json()["public_key"] == key
    # Kept in the database: another process (a restart) hands out the same key.
    assert app_with()[0].test_client().get(PUBLIC_KEY_URL).get_json()["public_key"] == key


# --- 7. /api/v1/unsubscribe/{token} ---------------------------------------------------------


def _follower(client: Any, engine: Engine) -> int:
    created = _create(client)
    response = client.post(f"/api/v1/reports/{created['id']}/followers",
                           json={"email": "fan@example.org"})
    assert response.status_code == 201
    return response.get_json()["id"]


def _unsubscribed_at(engine: Engine, recipient_id: int) -> Any:
    with Session(engine) as session:
        return session.scalar(select(Recipient.email_unsubscribed_at).where(
            Recipient.id == recipient_id))


def test_opening_the_unsubscribe_link_shows_a_form_and_changes_nothing(
    client: Any, engine: Engine, settings: Settings,
) -> None:
    recipient_id = _follower(client, engine)
    token = unsubscribe_token(settings.secret_key, recipient_id)
    response = client.get(f"/api/v1/unsubscribe/{token}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<form" in page and 'method="post"' in page
    assert _unsubscribed_at(engine, recipient_id) is None


def test_unsubscribing_stops_emails_and_may_be_repeated(
    client: Any, engine: Engine, settings: Settings,
) -> None:
    recipient_id = _follower(client, engine)
    url = f"/api/v1/unsubscribe/{unsubscribe_token(settings.secret_key, recipient_id)}"
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    first = _unsubscribed_at(engine, recipient_id)
    assert first is not None
    again = client.post(url)
    assert again.status_code == 200
    assert _unsubscribed_at(engine, recipient_id) == first


def test_a_tampered_unsubscribe_link_is_404(
    client: Any, engine: Engine, settings: Settings,
) -> None:
    recipient_id = _follower(client, engine)
    token = unsubscribe_token(settings.secret_key, recipient_id)
    rid, _, signature = token.partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (f"{rid}.{flipped}", f"{rid}.x{signature}", f"{recipient_id + 1}.{signature}",
                rid):
        assert_error(client.post(f"/api/v1/unsubscribe/{bad}"), 404, "not_found")
    assert _unsubscribed_at(engine, recipient_id) is None


def test_a_correctly_signed_link_for_a_recipient_that_does_not_exist_is_404(
    client: Any, settings: Settings,
) -> None:
    token = unsubscribe_token(settings.secret_key, 987654)
    assert_error(client.post(f"/api/v1/unsubscribe/{token}"), 404, "not_found")


@pytest.mark.parametrize("token", ["abc.def", "abc", "-1.def", ".def"])
def test_a_non_numeric_unsubscribe_link_is_404(client: Any, token: str) -> None:
    assert_error(client.post(f"/api/v1/unsubscribe/{token}"), 404, "not_found")


@pytest.mark.parametrize("token", [
    "1.%C3%A4",  # 1.ä: a mangled signature
    "%C2%B2.abc",  # ²: str.isdigit() says yes, int() says no
])
def test_an_unsubscribe_link_with_non_ascii_characters_is_404(
    client: Any, engine: Engine, token: str,
) -> None:
    _follower(client, engine)
    assert_error(client.post(f"/api/v1/unsubscribe/{token}"), 404, "not_found")


# --- 8. Privacy -----------------------------------------------------------------------------


def test_the_public_view_never_shows_followers_or_push_subscriptions(
    client: Any, engine: Engine,
) -> None:
    created = _create(client, email="rita@example.org")
    reporter_sub = _subscription("https://push.example.org/reporter-endpoint-123")
    assert client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions",
                       json=reporter_sub).status_code == 201
    follower_sub = _subscription("https://push.example.org/follower-endpoint-456")
    assert client.post(f"/api/v1/reports/{created['id']}/followers", json={
        "email": "fan@example.org", "push_subscription": follower_sub}).status_code == 201
    _staff(engine, created["id"], Status.ACKNOWLEDGED)

    secrets = ["fan@example.org", "rita@example.org", created["tracking_token"], "push.example",
               "endpoint-123", "endpoint-456"]
    for sub in (reporter_sub, follower_sub):
        secrets += [sub["keys"]["p256dh"], sub["keys"]["auth"]]
    for url in (f"{REPORTS_URL}/{created['id']}", REPORTS_URL):
        response = client.get(url)
        assert response.status_code == 200
        raw = response.get_data(as_text=True)
        assert created["id"] in raw
        leaked = [s for s in secrets if s in raw]
        assert not leaked, (url, leaked)


def test_following_and_subscribing_leave_one_reporter_and_one_follower(
    client: Any, engine: Engine,
) -> None:
    created = _create(client, email="rita@example.org")
    client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions",
                json=_subscription())
    client.post(f"/api/v1/reports/{created['id']}/followers", json={"email": "fan@example.org"})
    with Session(engine) as session:
        roles = dict(session.execute(select(Recipient.role, func.count()).group_by(
            Recipient.role)).all())
    assert roles == {"reporter": 1, "follower": 1}
