// Mängelmelder service worker (an ES module): app shell cache-first, API GETs network-first
// with a cache fallback, never POSTs; Background Sync sends the outbox itself, also with the app
// closed (same module, same Idempotency-Keys as the pages); Web Push shows status changes.
import * as outbox from './app/outbox.js';

const VERSION = 'v10';
const SHELL_CACHE = `mm-shell-${VERSION}`;
const API_CACHE = `mm-api-${VERSION}`;
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/app/app.css',
  '/app/main.js', '/app/i18n.js', '/app/api.js', '/app/apierror.js', '/app/dom.js', '/app/store.js',
  '/app/outbox.js', '/app/myreports.js',
  '/app/report.js', '/app/photos.js', '/app/exif.js', '/app/push.js', '/app/publicmap.js', '/app/mine.js',
  '/app/i18n/de.json', '/app/i18n/en.json',
  '/app/icons/favicon.svg', '/app/icons/icon-192.png', '/app/icons/icon-512.png',
  '/app/icons/group-ampel.svg', '/app/icons/group-schild.svg', '/app/icons/group-sonstiges.svg',
  '/app/icons/gps.svg', '/app/icons/camera.svg',
  '/vendor/leaflet/leaflet.js', '/vendor/leaflet/leaflet.css',
  '/vendor/leaflet/images/marker-icon.png', '/vendor/leaflet/images/marker-icon-2x.png',
  '/vendor/leaflet/images/marker-shadow.png',
  '/vendor/markercluster/leaflet.markercluster.js', '/vendor/markercluster/MarkerCluster.css',
  '/vendor/markercluster/MarkerCluster.Default.css',
];
const APP_ROUTES = /^\/(report|map|mine|reports\/[^/]+)?$/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, API_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith('mm-') && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
    await warmApiCache();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return; // POSTs go straight to the network, never cached
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && APP_ROUTES.test(url.pathname)) {
    event.respondWith(shell());
  } else if (url.pathname.startsWith('/api/')) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith('/app/') || url.pathname.startsWith('/vendor/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(cacheFirst(request));
  }
});

// What the report form needs offline on the very first visit (pages fetched these before the
// worker controlled them). Best effort; later visits refresh them network-first.
async function warmApiCache() {
  const cache = await caches.open(API_CACHE);
  await Promise.all(['/api/v1/config', '/api/v1/categories', '/api/v1/districts'].map(async (url) => {
    try {
      if (await cache.match(url, { ignoreVary: true })) return;
      const response = await fetch(url, { headers: { Accept: 'application/json' } });
      if (response.status === 200) await cache.put(url, response);
    } catch { /* offline: fine */ }
  }));
}

async function shell() {
  const cached = await caches.match('/', { cacheName: SHELL_CACHE });
  if (cached) return cached;
  return fetch('/');
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

// Background Sync: send what waits in the outbox (Web Locks keep pages and the worker from
// sending the same record at once), record tracking tokens in IndexedDB, tell open pages.
// A record still waiting makes the sync fail, so the browser retries it later with backoff.
self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(syncOutbox());
});

async function syncOutbox() {
  const outcomes = await outbox.flush();
  for (const { record, outcome, data, error } of outcomes) {
    await tellClients({
      type: 'outbox', outcome, key: record.key, data: data || null,
      error: error ? { status: error.status ?? null, message: error.message } : null,
    });
  }
  if (outcomes.some((o) => o.outcome === 'kept')) throw new Error('outbox: still waiting');
}

async function tellClients(message) {
  const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of clients) client.postMessage(message);
}

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data?.text() }; }
  const title = data.title || 'Mängelmelder';
  const body = [data.body, data.note].filter(Boolean).join('\n');
  event.waitUntil(self.registration.showNotification(title, {
    body, icon: '/app/icons/icon-192.png', badge: '/app/icons/icon-192.png',
    tag: data.report ? `report-${data.report}` : undefined, data: { path: '/mine' },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = event.notification.data?.path || '/mine';
  event.waitUntil((async () => {
    const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of clients) {
      if ('focus' in client) {
        client.postMessage({ type: 'open', path });
        return client.focus();
      }
    }
    return self.clients.openWindow(path);
  })());
});
