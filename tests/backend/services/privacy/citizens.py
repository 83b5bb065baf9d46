"""Citizens' data for the privacy tests: reports filed through the API, with a photo and a
push subscription, on an app that keeps photo originals."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from backend.settings import Settings
from tests.peers.push_service import PushServiceReceiver, make_subscription
from tests.shared_data import shared_data_dir

EMAIL = "Rita_Meier@example.org"
PHOTO = shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"


def privacy_app(app_with: Any, **overrides: Any) -> tuple[Flask, Settings]:
    """An app whose push subscriptions may point at the test's push service and that keeps
    photo originals (so there are originals to remove)."""
    return app_with(push_allow_insecure_endpoints=True, vapid_subject="mailto:o@mm.test",
                    keep_photo_originals=True, **overrides)


def file_report(app: Flask, push_service: PushServiceReceiver, email: str = EMAIL,
                description: str = "Schild fehlt") -> dict:
    """A report with a photo and the reporter's push subscription; its API answer."""
    client = app.test_client()
    created = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
        "description": description, "email": email,
        "photos": (io.BytesIO(PHOTO.read_bytes()), "a.jpg")},
        content_type="multipart/form-data").get_json()
    subscription, _ = make_subscription(push_service, f"p{created['id']}")
    assert client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions", json={
        "endpoint": subscription["endpoint"], "keys": {"p256dh": subscription["p256dh"],
                                                       "auth": subscription["auth"]}}
    ).status_code == 201
    return created


def follow(app: Flask, report: dict, email: str) -> None:
    """Follow a report by e-mail."""
    answer = app.test_client().post(f"/api/v1/reports/{report['id']}/followers",
                                    json={"email": email})
    assert answer.status_code in (200, 201), answer.get_json()
