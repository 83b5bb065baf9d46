"""Web Push from the citizen's side in Chromium: "notify me" after sending a report, a status
change, the push through the loopback push service (tests/peers/push_service.py), and the
notification the app's service worker shows (the `push` handler in pwa/sw.js).

What is real and what is not:

- Real: the report form and its confirmation, the "notify me" button and push.js (the
  service worker registration, `Notification.requestPermission`, `getSubscription`, the
  subscription's JSON posted by the app to the server), the status change, the outbox row,
  the rq worker's Web Push request (VAPID-signed, aes128gcm-encrypted) to a push service
  speaking RFC 8030, its decryption with the subscription's private key (RFC 8291, what the
  browser does on arrival), the service worker's `push` event with exactly those bytes
  (DevTools' ServiceWorker.deliverPushMessage, the call behind DevTools' "Push" button)
  and the notification it shows, read back with `registration.getNotifications()`.
- Not real: `PushManager.subscribe` itself. Chromium subscribes only through Google's
  FCM (the endpoint prefix https://fcm.googleapis.com/fcm/send/ is compiled in; no switch
  names another push service). Measured on this machine (Chromium 156, headless): in a
  Playwright context (an off-the-record profile) subscribe() rejects at once with
  "AbortError: Registration failed - permission denied" even with notifications granted,
  as Chromium does in incognito; in a persistent profile it never settles (GCM check-in
  cannot reach Google: still pending after 45 s, also with --gcm-checkin-url/-registration-url
  pointed at loopback). So the test puts a subscription in its place whose keys are made
  as a browser makes them (P-256 key pair, 16-byte auth secret) and whose endpoint is the
  loopback push service; every other step above runs unchanged.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import PushSubscription
from backend.notify.texts import push_payload
from backend.services.workflow import StatusChange, change_status
from backend.workflow import Actor, Status
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.pwa.conftest import LiveServer, screenshot, server_session, wait_for_service_worker
from tests.pwa.report_form import fill_report_form
from workers.runner import make_worker

NOTE = "Die Ampelanlage wird heute Nachmittag repariert."
I18N = Path(__file__).resolve().parents[2] / "pwa" / "app" / "i18n"

# PushManager.subscribe answers with the loopback subscription; getSubscription finds it
# afterwards, as the browser would. Only these two methods are replaced.
STAND_IN = """(subscription) => {
  let current = null;
  const stand_in = {
    endpoint: subscription.endpoint, expirationTime: null,
    options: { userVisibleOnly: true },
    toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null,
                     keys: { p256dh: subscription.p256dh, auth: subscription.auth } }),
  };
  PushManager.prototype.subscribe = async function (options) {
    const key = options?.applicationServerKey;
    if (options?.userVisibleOnly !== true) throw new DOMException('visible', 'NotAllowedError');
    if (!(key instanceof Uint8Array) || key.length !== 65 || key[0] !== 4) {
      throw new DOMException('not an uncompressed P-256 key', 'InvalidAccessError');
    }
    window.__applicationServerKey = btoa(String.fromCharCode(...key));
    current = stand_in;
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
}"""


# The notifications of the page's service worker registration, once there are any (10 s at
# most). Playwright's wait_for_function does not await a promise (a pending one counts as
# true), so the waiting happens here, in the page, on the registration's own answer.
SHOWN_NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const deadline = Date.now() + 10000;
  let shown = await registration.getNotifications();
  while (!shown.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    shown = await registration.getNotifications();
  }
  return shown.map((n) => ({
    title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon }));
}"""


@pytest.fixture
def live_server(push_live_server: LiveServer) -> LiveServer:
    """A server whose push sender accepts the loopback push service."""
    return push_live_server


def _deliver_push(context: Any, origin: str, data: str) -> None:
    """Hand `data` to the origin's service worker as a push message (DevTools protocol)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not any(r["scopeURL"].startswith(origin) and not r["isDeleted"] for r in registrations):
        assert time.monotonic() < deadline, "no service worker registration"
        page.wait_for_timeout(50)  # lets Playwright dispatch the protocol events
    registration = next(r for r in registrations
                        if r["scopeURL"].startswith(origin) and not r["isDeleted"])
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": origin, "registrationId": registration["registrationId"], "data": data})
    cdp.detach()
    page.close()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_reporter_who_asks_for_push_gets_a_notification_from_the_service_worker(
    phone: Any, live_server: LiveServer, push_service: PushServiceReceiver, lang: str,
) -> None:
    """In German (the phone's language) and after switching the app to English: the
    notification speaks the language the report was made in."""
    texts = json.loads((I18N / f"{lang}.json").read_text())
    subscription, private_key = make_subscription(push_service, "reporter")
    phone.context.grant_permissions(["geolocation", "notifications"])
    phone.add_init_script(f"({STAND_IN})({json.dumps(subscription)})")
    phone.goto("/report")
    wait_for_service_worker(phone)
    if lang == "en":
        phone.select_option("#lang-switch", "en")
        phone.wait_for_function("document.documentElement.lang === 'en'")
    public_key = phone.request.get("/api/v1/config").json()["push_public_key"]
    assert public_key

    fill_report_form(phone, "ampel", "ampel-ausfall", "Die Ampel an der Kreuzung ist ganz dunkel.")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = phone.text_content("#confirmation-id").strip()

    # "Notify me": the app asks for permission, subscribes with the server's VAPID key and
    # registers the subscription for this report.
    phone.click("#enable-push")
    phone.wait_for_function("document.querySelector('#enable-push').hidden")
    assert phone.text_content("#push-result") == texts["push.enabled"]
    screenshot(phone, f"{lang}-push-enabled")
    sent_key = phone.evaluate("window.__applicationServerKey")
    padded = public_key + "=" * (-len(public_key) % 4)
    assert base64.b64decode(sent_key) == base64.urlsafe_b64decode(padded)
    for session in server_session(live_server):
        (stored,) = session.scalars(select(PushSubscription))
        assert stored.endpoint == subscription["endpoint"]

    # Staff start work, with a note for the reporter; the worker sends the push.
    for session in server_session(live_server):
        change_status(session, report_id, StatusChange(
            target=Status.IN_PROGRESS, actor=Actor.STAFF, actor_name="crew", public_note=NOTE),
            live_server.app.extensions["mm_jobs"])
    make_worker(live_server.app.extensions["mm_settings"]).work(burst=True)
    (record,) = push_service.wait_for("reporter", 1, timeout=10)
    assert record.status == 201 and record.vapid_error is None, record.vapid_error
    payload = decrypt(record, private_key, subscription["auth"])
    assert payload == push_payload(lang, report_id, "in_progress", NOTE)

    # The push arrives: the service worker shows the notification, grouped by report.
    assert phone.evaluate("navigator.serviceWorker.ready"
                          ".then((r) => r.getNotifications()).then((s) => s.length)") == 0
    _deliver_push(phone.context, live_server.url, json.dumps(payload))
    shown = phone.evaluate(SHOWN_NOTIFICATIONS)
    assert shown == [{
        "title": {"de": f"Ihre Meldung {report_id}", "en": f"Your report {report_id}"}[lang],
        "body": {"de": "Status: In Bearbeitung", "en": "Status: In progress"}[lang] + f"\n{NOTE}",
        "tag": f"report-{report_id}",
        "data": {"path": "/mine"},
        "icon": f"{live_server.url}/app/icons/icon-192.png",
    }]
