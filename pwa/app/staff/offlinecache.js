// On logout, nothing of the staff's work stays readable on the device: the service worker's
// copies of staff and admin answers go, and so do this user's unsent actions.
import * as actions from './actionqueue.js';

const STAFF_API = /^\/api\/v1\/(staff|admin)\//;

export async function forgetStaffData(username) {
  try {
    for (const name of await caches.keys()) {
      if (!name.startsWith('mm-api-')) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (STAFF_API.test(new URL(request.url).pathname)) await cache.delete(request);
      }
    }
  } catch { /* no Cache API (not a secure context) */ }
  if (!username) return;
  try {
    for (const record of await actions.all(username)) await actions.remove(record.key);
  } catch { /* no IndexedDB */ }
}
