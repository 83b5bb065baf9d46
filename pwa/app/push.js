// Web Push: one subscription per browser, reused for every report and followed report.
export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function keyBytes(base64url) {
  const padded = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export class PushDenied extends Error {}

/** The PushSubscriptionJSON {endpoint, keys:{p256dh, auth}}; asks for permission if needed. */
export async function subscribePush(publicKey) {
  if (!pushSupported() || !publicKey) throw new Error('unsupported');
  if (Notification.permission === 'denied') throw new PushDenied('denied');
  const registration = await Promise.race([
    navigator.serviceWorker.ready,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no service worker')), 8000)),
  ]);
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') throw new PushDenied(permission);
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(publicKey),
    });
  }
  const json = subscription.toJSON();
  return { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } };
}
