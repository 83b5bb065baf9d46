"""The compose stack, started for real with podman, used as a citizen, a crew member, an
Open311 client and an operator would use it: every request goes through the proxy (TLS)."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.deploy.containers.stack import Stack, elapsed
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.polling import wait_until
from tests.shared_data import shared_data_dir

pytestmark = pytest.mark.slow
HEIC = shared_data_dir() / "photos" / "mobile" / "IMG_5195.HEIC"


def test_every_process_runs_unprivileged_and_the_stack_is_ready(stack: Stack) -> None:
    stack.wait_ready(timeout=60)
    assert len(stack.containers("web")) >= 2
    for service in ("proxy", "web", "worker", "worker-urgent", "scheduler", "db", "redis"):
        users = stack.podman("top", stack.container(service), "user").stdout.split()[1:]
        assert users and "root" not in users, (service, users)
    # No secret is baked into an image: they come from .env at run time.
    secrets = {line.split("=", 1)[1] for line in (stack.dir / ".env").read_text().splitlines()
               if re.match(r"MM_(SECRET_KEY|DB_PASSWORD|METRICS_TOKEN)=", line)}
    for image in ("maengelmelder", "maengelmelder-proxy"):
        config = stack.podman("image", "inspect", "--format", "{{json .Config.Env}}",
                              f"localhost/{image}:test").stdout
        assert "SECRET" not in config and "PASSWORD" not in config, config
        assert not any(secret in config for secret in secrets)
    assert stack.http().get(f"{stack.url.replace('https', 'http').replace('18443', '18080')}/x",
                            allow_redirects=False, timeout=10).status_code == 301


def test_a_heic_report_is_processed_pushed_resolved_and_tracked(stack: Stack) -> None:
    http = stack.http()
    started = time.monotonic()
    with PushServiceReceiver(host=stack.gateway()) as push:
        subscription, private_key = make_subscription(push, "phone")
        with HEIC.open("rb") as photo:
            created = http.post(f"{stack.url}/api/v1/reports", timeout=60, data={
                "category": "ampel-ausfall", "lat": "48.1374", "lon": "11.5755",
                "description": "Ampel dunkel (Container-Test)"},
                files={"photos": ("IMG_5195.HEIC", photo, "image/heic")},
                headers={"Idempotency-Key": uuid.uuid4().hex})
        assert created.status_code == 201, created.text
        report = created.json()
        track = f"{stack.url}/api/v1/track/{report['tracking_token']}"
        subscribed = http.post(f"{track}/push-subscriptions", timeout=10, json={
            "endpoint": subscription["endpoint"],
            "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}})
        assert subscribed.status_code == 201, subscribed.text

        # The worker container made the photo's web sizes (HEIC → JPEG/WebP).
        photos = wait_until(lambda: http.get(track, timeout=10).json()["photos"],
                            "the HEIC photo's web sizes", timeout=90)
        assert photos[0]["display"]["jpeg"].startswith(stack.url)
        image = http.get(photos[0]["display"]["jpeg"], timeout=10)
        assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
        photo_s = elapsed(started)

        # A crew member of the department it was routed to resolves it.
        crew = stack.staff("crew", "verkehrstechnik")
        resolved = crew.post(f"{stack.url}/api/v1/staff/reports/{report['id']}/status",
                             timeout=10, json={"status": "resolved",
                                               "public_note": "Signal repariert."})
        assert resolved.status_code == 200, resolved.text
        changed = time.time()
        [record] = push.wait_for("phone", 1, timeout=60)
        message = decrypt(record, private_key, subscription["auth"])
        assert report["id"] in str(message) and "resolved" in str(message), message
        push_s = round(record.at - changed, 2)
        time.sleep(2)  # a second delivery of the same change would arrive by now
        assert len(push.received("phone")) == 1

    shown = http.get(track, timeout=10).json()
    assert shown["status"] == "resolved", shown
    print(f"\n    HEIC photo ready {photo_s} s after posting; push {push_s} s after resolving")


def test_open311_clients_read_and_post_with_a_key(stack: Stack) -> None:
    http = stack.http()
    services = http.get(f"{stack.url}/open311/v2/services.json", timeout=10)
    assert services.status_code == 200 and services.json()[0]["service_code"]
    key = stack.exec("web", "maengelmelder", "apikeys", "create", "smoke").split()[-1]
    posted = http.post(f"{stack.url}/open311/v2/requests.json", timeout=30, data={
        "api_key": key, "service_code": "schild-fehlt", "lat": "48.14", "long": "11.57",
        "description": "Schild fehlt (Open311-Test)"})
    assert posted.status_code in (200, 201), posted.text
    request_id = posted.json()[0]["service_request_id"]
    read = http.get(f"{stack.url}/open311/v2/requests/{request_id}.json", timeout=10)
    assert read.status_code == 200
    assert read.json()[0]["description"] == "Schild fehlt (Open311-Test)"


def test_metrics_are_private_behind_the_proxy(stack: Stack) -> None:
    assert stack.http().get(f"{stack.url}/metrics", timeout=10).status_code == 404
    inside = stack.exec("web", "python3", "-c", f"""
import urllib.request
r = urllib.request.Request('http://127.0.0.1:8000/metrics',
                           headers={{'Authorization': 'Bearer {stack.metrics_token}'}})
print(urllib.request.urlopen(r).read().decode())""")
    assert "mm_http_requests_total" in inside or "mm_" in inside
