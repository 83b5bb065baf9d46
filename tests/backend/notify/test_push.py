"""Web Push over a real push service on loopback: encryption, VAPID, headers, outcomes."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import http_ece
import pytest
import requests

from backend.notify.errors import (
    DeliveryError,
    GoneSubscription,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from backend.notify.push import (
    PAYLOAD_LIMIT_BYTES,
    PushSubscriptionInfo,
    parse_retry_after,
    send_push,
)
from backend.notify.texts import push_payload
from backend.notify.vapid import generate_vapid_keys, public_key_from_private
from tests.peers.push_service import (
    PushServiceReceiver,
    decrypt,
    make_subscription,
    verify_vapid,
)
from tests.servers import free_port

SUBJECT = "mailto:verkehr@muenchen.example"


@pytest.fixture(scope="module")
def vapid_pem() -> str:
    return generate_vapid_keys()[0]


def _send(
    sub: dict[str, str],
    payload: dict[str, Any],
    pem: str,
    *,
    topic: str | None = None,
    ttl_s: int = 86400,
    timeout_s: float = 10.0,
) -> int:
    return send_push(
        PushSubscriptionInfo(**sub), payload, vapid_private_pem=pem, vapid_subject=SUBJECT,
        topic=topic, ttl_s=ttl_s, timeout_s=timeout_s,
        allow_private=True,  # the push service of the tests listens on loopback
    )


def test_push_decrypts_to_exactly_the_payload(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, browser_key = make_subscription(push_service, "anna")
    payload = push_payload("de", "k7p3xr9q", "reopened", "Schild an der Isarbrücke schief")

    assert _send(sub, payload, vapid_pem) == 201

    (record,) = push_service.wait_for("anna", 1)
    assert decrypt(record, browser_key, sub["auth"]) == payload


def test_plaintext_is_compact_utf8_json(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, browser_key = make_subscription(push_service, "anna")
    _send(sub, {"a": "Straße", "b": [1, 2]}, vapid_pem)

    (record,) = push_service.received("anna")
    auth = base64.urlsafe_b64decode(sub["auth"] + "==")
    plaintext = http_ece.decrypt(
        record.body, private_key=browser_key, auth_secret=auth, version="aes128gcm"
    )
    assert plaintext == '{"a":"Straße","b":[1,2]}'.encode()


def test_vapid_jwt_is_signed_for_the_push_service_origin(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    _send(sub, {"x": 1}, vapid_pem)

    (record,) = push_service.received("anna")
    assert record.vapid_error is None and record.vapid is not None
    assert record.headers["authorization"].startswith("vapid t=")
    assert record.vapid.key == public_key_from_private(vapid_pem)
    claims = record.vapid.claims
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    # The same token must not be accepted by another push service.
    with pytest.raises(ValueError, match="aud"):
        verify_vapid(record.headers["authorization"], "https://push.other.example")


def test_a_token_signed_by_another_key_is_refused(push_service: PushServiceReceiver) -> None:
    sub, _ = make_subscription(push_service, "anna")
    _send(sub, {"x": 1}, generate_vapid_keys()[0])
    (record,) = push_service.received("anna")
    forged = record.headers["authorization"].split(",k=")[0] + ",k=" + generate_vapid_keys()[1]
    with pytest.raises(ValueError, match="signature"):
        verify_vapid(forged, push_service.origin)


def test_headers_carry_encoding_ttl_urgency_and_topic(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    _send(sub, {"x": 1}, vapid_pem, topic="n42", ttl_s=600)
    _send(sub, {"x": 2}, vapid_pem)

    with_topic, without_topic = push_service.received("anna")
    assert with_topic.headers["content-encoding"] == "aes128gcm"
    assert with_topic.headers["urgency"] == "normal"
    assert with_topic.headers["topic"] == "n42"
    assert with_topic.headers["ttl"] == "600"
    assert "topic" not in without_topic.headers
    assert without_topic.headers["ttl"] == "86400"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (410, GoneSubscription),
        (404, GoneSubscription),
        (429, TransientDeliveryError),
        (500, TransientDeliveryError),
        (502, TransientDeliveryError),
        (503, TransientDeliveryError),
        (408, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (401, PermanentDeliveryError),
        (403, PermanentDeliveryError),
        (413, PermanentDeliveryError),
    ],
)
def test_push_service_answer_maps_to_delivery_error(
    push_service: PushServiceReceiver, vapid_pem: str, status: int, error: type[DeliveryError]
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    push_service.set_response("anna", status)

    with pytest.raises(error) as caught:
        _send(sub, {"x": 1}, vapid_pem)

    assert type(caught.value) is error
    assert caught.value.status == status
    assert str(status) in caught.value.reason
    # The service answers normally again afterwards, and so does a retry.
    assert _send(sub, {"x": 1}, vapid_pem) == 201


def test_503_with_retry_after_tells_when_to_retry(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    push_service.set_response("anna", 503, retry_after=120, times=2)

    for _ in range(2):
        with pytest.raises(TransientDeliveryError) as caught:
            _send(sub, {"x": 1}, vapid_pem)
        assert caught.value.retry_after_s == 120.0
    assert _send(sub, {"x": 1}, vapid_pem) == 201


def test_429_without_retry_after_leaves_the_back_off_to_the_caller(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    push_service.set_response("anna", 429)
    with pytest.raises(TransientDeliveryError) as caught:
        _send(sub, {"x": 1}, vapid_pem)
    assert caught.value.retry_after_s is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == seconds


def test_closed_port_is_transient(push_service: PushServiceReceiver, vapid_pem: str) -> None:
    sub, _ = make_subscription(push_service, "anna")
    sub["endpoint"] = f"http://127.0.0.1:{free_port()}/push/anna"
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        _send(sub, {"x": 1}, vapid_pem)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/push/anna"


def test_a_push_service_that_does_not_answer_times_out_as_transient(
    push_service: PushServiceReceiver, vapid_pem: str, silent_endpoint: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    sub["endpoint"] = silent_endpoint
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError):
        _send(sub, {"x": 1}, vapid_pem, timeout_s=0.3)
    assert time.monotonic() - started < 3


def test_too_large_payload_is_refused_before_sending(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    with pytest.raises(PermanentDeliveryError, match="bytes"):
        _send(sub, {"note": "x" * PAYLOAD_LIMIT_BYTES}, vapid_pem)
    assert push_service.received("anna") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("p256dh", "AAAA"),  # too short
        ("p256dh", "BAAA" + "A" * 83),  # 65 bytes, but not a point on the curve
        ("auth", "AAAA"),  # not 16 bytes
        ("auth", "***"),  # not base64url
        ("endpoint", "ftp://push.example/x"),
    ],
)
def test_unusable_subscription_is_permanent_and_nothing_is_sent(
    push_service: PushServiceReceiver, vapid_pem: str, field: str, value: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    sub[field] = value
    with pytest.raises(PermanentDeliveryError):
        _send(sub, {"x": 1}, vapid_pem)
    assert push_service.received("anna") == []


def test_invalid_topic_or_subject_is_a_programming_error(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    sub, _ = make_subscription(push_service, "anna")
    with pytest.raises(ValueError, match="topic"):
        _send(sub, {"x": 1}, vapid_pem, topic="status change #7")
    with pytest.raises(ValueError, match="VAPID"):
        send_push(PushSubscriptionInfo(**sub), {"x": 1}, vapid_private_pem=vapid_pem,
                  vapid_subject="verkehr@muenchen.example", allow_private=True)
    assert push_service.received("anna") == []


def test_each_subscription_decrypts_only_its_own_message(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    anna, anna_key = make_subscription(push_service, "anna")
    ben, ben_key = make_subscription(push_service, "ben")
    _send(anna, {"to": "anna"}, vapid_pem)
    _send(ben, {"to": "ben"}, vapid_pem)
    assert decrypt(push_service.wait_for("anna", 1)[0], anna_key, anna["auth"]) == {"to": "anna"}
    assert decrypt(push_service.wait_for("ben", 1)[0], ben_key, ben["auth"]) == {"to": "ben"}
    with pytest.raises(http_ece.ECEException):
        decrypt(push_service.received("ben")[0], anna_key, anna["auth"])


def test_the_peer_refuses_a_push_without_vapid_like_a_real_service(
    push_service: PushServiceReceiver,
) -> None:
    response = requests.post(
        push_service.endpoint("anna"), data=b"x",
        headers={"TTL": "60", "Content-Encoding": "aes128gcm"}, timeout=5,
    )
    assert response.status_code == 401
    (record,) = push_service.received("anna")
    assert record.vapid is None and "scheme" in (record.vapid_error or "")


def test_an_endpoint_that_resolves_into_a_private_network_is_never_posted_to(
    push_service: PushServiceReceiver, vapid_pem: str
) -> None:
    # A name that passed the check when it was stored may point inside later (DNS changes);
    # (send_push itself does not judge names, only where they lead.)
    sub, _ = make_subscription(push_service, "anna")
    inside = {**sub, "endpoint": sub["endpoint"].replace("127.0.0.1", "localhost")}
    with pytest.raises(PermanentDeliveryError, match="private address"):
        send_push(PushSubscriptionInfo(**inside), {"x": 1}, vapid_private_pem=vapid_pem,
                  vapid_subject=SUBJECT)
    assert push_service.received("anna") == []
