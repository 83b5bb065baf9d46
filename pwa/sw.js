// Mängelmelder service worker (an ES module): app shell cache-first, API GETs network-first
// with a cache fallback, never POSTs; Background Sync sends the outbox and the crew's queued
// actions itself, also with the app closed (same modules, same Idempotency-Keys as the
// pages); Web Push shows status changes.
// Only the citizen app is precached (in the visitor's language): a first visit costs what a
// citizen needs. The staff app (/login, /crew, /dispatch, /analyst) shares the worker: its
// shell, modules, texts and leaflet.heat are kept when first used (cache first with fill for
// /app/ and /vendor/), and the staff app asks for everything it loaded once someone logs in
// ('keep' message), so it works offline after one online session. Its queue and report
// answers stay readable offline; login answers, admin screens, reporter e-mails, search
// answers, analytics and open-data files are never stored.
import * as outbox from './app/outbox.js';
import * as crewActions from './app/staff/actionqueue.js';
import { matchLanguage, languageFiles, languageList, setLanguages, acceptLanguage } from './app/i18n.js';

const VERSION = 'v51';
const SHELL_CACHE = `mm-shell-${VERSION}`;
const API_CACHE = `mm-api-${VERSION}`;
// Photo web sizes are public and named by their content hash: kept across app versions.
const MEDIA_CACHE = 'mm-media';
const MEDIA_MAX_ENTRIES = 300;
// Asset answers (public register data: signals, sign posts; no personal data): network first,
// the last copy offline, at most this many (a few streets' tiles), kept across app versions.
const ASSET_CACHE = 'mm-assets';
const ASSET_MAX_ENTRIES = 200;
const ASSET_API = /^\/api\/v1\/assets(\/|$)/;
// Map tiles a visitor has seen (z/x/y images, from our origin or a tile server that allows
// CORS; opaque answers are never kept: their size is unknown), cache first, kept across app
// versions, the oldest dropped beyond the limit (≈ 400 × 15-40 KB).
const TILE_CACHE = 'mm-tiles';
const TILE_MAX_ENTRIES = 400;
const TILE_PATH = /\/\d{1,2}\/\d+\/\d+(@2x)?\.(png|jpe?g|webp)$/;
// The citizen app, offline from the first visit. Everything else under /app/ and /vendor/
// (the staff app, the other languages, leaflet.heat, the app icons) is cached on first use.
const LANGUAGES_URL = '/app/i18n/languages.json';
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/app/i18n/languages.json', // LANGUAGES_URL: which languages exist (small); their texts are not precached
  '/app/app.css',
  '/app/main.js', '/app/i18n.js', '/app/api.js', '/app/apierror.js', '/app/dom.js', '/app/store.js',
  '/app/outbox.js', '/app/myreports.js', '/app/keepoffline.js',
  '/app/report.js', '/app/reportlocation.js', '/app/placesearch.js', '/app/nearby.js', '/app/reportphotos.js', '/app/formerrors.js',
  '/app/assetpicker.js', '/app/assets.js', '/app/photos.js', '/app/exif.js', '/app/push.js', '/app/publicmap.js', '/app/mine.js', '/app/reportpictures.js',
  '/app/icons/favicon.svg',
  '/app/icons/group-ampel.svg', '/app/icons/group-schild.svg', '/app/icons/group-sonstiges.svg',
  '/app/icons/gps.svg', '/app/icons/camera.svg',
  '/vendor/leaflet/leaflet.js', '/vendor/leaflet/leaflet.css',
  '/vendor/leaflet/images/marker-icon.png', '/vendor/leaflet/images/marker-icon-2x.png',
  '/vendor/leaflet/images/marker-shadow.png',
  '/vendor/markercluster/leaflet.markercluster.js', '/vendor/markercluster/MarkerCluster.css',
  '/vendor/markercluster/MarkerCluster.Default.css',
];
// Never taken from the HTTP cache unchecked, not even on a first install: the page that
// registered the worker did not load them, so a copy there may be from an older visit.
const ALWAYS_REVALIDATED = new Set(['/', '/manifest.webmanifest']);
// What a page may ask the worker to keep (message 'keep'): app files and the staff shell.
const KEEPABLE = /^\/(app|vendor)\/|^\/login$/;

// The visitor's language as the app chooses it without a saved choice (i18n.js, from the
// languages.json just cached), with the file its missing texts fall back to; a saved other
// choice is kept when the page asks for it.
async function visitorLanguage() {
  try {
    const cached = await caches.match(LANGUAGES_URL, { cacheName: SHELL_CACHE });
    if (cached) setLanguages(await cached.json());
  } catch { /* German and English */ }
  return matchLanguage(self.navigator.languages || [], languageList().map((l) => l.code)) || 'de';
}

const APP_ROUTES = /^\/(report|map|mine|reports\/[^/]+|track\/[^/]+)?$/;
const STAFF_ROUTES = /^\/(login|crew(\/reports\/[^/]+)?|dispatch(\/.*)?|analyst)$/;
// Never kept by the worker: sessions, the admin screens (online, desktop), the reporter's
// e-mail, staff search answers (a search by e-mail lists what one person reported) and a
// photo's unredacted original (personal data, every read audited), and
// analytics and open-data files (large, and they change with every report).
const NEVER_CACHED = /^\/api\/v1\/(auth\/|admin\/|staff\/search$|staff\/reports\/[^/]+\/(reporter|photos\/[^/]+\/preview)$|analytics\/|opendata\/)/;
const STAFF_API = /^\/api\/v1\/staff\//;

// Set by a first install (no earlier shell cache), for the activate step that follows.
let firstInstall = false;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // A first install follows the visit that registered it, whose page has just loaded most
    // of the shell over the network (no worker controlled it; /app/ files are revalidated on
    // every load): take those copies from the HTTP cache instead of downloading them a second
    // time. An update revalidates every file (a 304 when unchanged), never trusts the HTTP cache.
    firstInstall = !(await caches.keys()).some((name) => name.startsWith('mm-shell-'));
    const cache = await caches.open(SHELL_CACHE);
    const page = firstInstall ? await registeringAppPage() : null;
    if (page) {
      // The app shell the visitor's page was just served (every app route answers with it).
      const response = await fetch(page, { cache: 'force-cache' });
      if (response.status === 200 && !response.redirected) await cache.put('/', response);
    }
    const request = (url) => new Request(url, {
      cache: firstInstall && !ALWAYS_REVALIDATED.has(url) ? 'force-cache' : 'no-cache',
    });
    await cache.addAll(SHELL.filter((url) => !(page && url === '/')).map(request));
    await cache.addAll(languageFiles(await visitorLanguage()).map(request));
    await self.skipWaiting();
  })());
});

// The app route of the page that registered this worker (not a tracking link: that answer
// carries its own referrer policy), or null.
async function registeringAppPage() {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of windows) {
    const url = new URL(client.url);
    if (APP_ROUTES.test(url.pathname) && !url.pathname.startsWith('/track/')) return url.pathname;
  }
  return null;
}

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, API_CACHE, MEDIA_CACHE, ASSET_CACHE, TILE_CACHE]);
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
  if (request.destination === 'image' && TILE_PATH.test(url.pathname)
      && (url.origin === self.location.origin || request.mode === 'cors')) {
    event.respondWith(tileCacheFirst(request));
    return;
  }
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && APP_ROUTES.test(url.pathname)) {
    event.respondWith(shell());
  } else if (request.mode === 'navigate' && STAFF_ROUTES.test(url.pathname)) {
    event.respondWith(staffShell(request));
  } else if (NEVER_CACHED.test(url.pathname)) {
    return; // straight to the network, nothing stored
  } else if (STAFF_API.test(url.pathname)) {
    event.respondWith(staffNetworkFirst(request, url));
  } else if (ASSET_API.test(url.pathname)) {
    event.respondWith(assetNetworkFirst(request));
  } else if (url.pathname.startsWith('/api/')) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname === LANGUAGES_URL) {
    event.respondWith(cachedThenRefreshed(event, request)); // a language a city adds shows at the next start
  } else if (url.pathname.startsWith('/app/') || url.pathname.startsWith('/vendor/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith('/media/photos/')) {
    event.respondWith(mediaCacheFirst(request)); // crews see the photos of opened reports offline
  }
});

async function mediaCacheFirst(request) {
  const cache = await caches.open(MEDIA_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
    const keys = await cache.keys(); // insertion order: drop the oldest beyond the limit
    for (const key of keys.slice(0, Math.max(0, keys.length - MEDIA_MAX_ENTRIES))) await cache.delete(key);
  }
  return response;
}

async function tileCacheFirst(request) {
  const cache = await caches.open(TILE_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type !== 'opaque') {
    await cache.put(request, response.clone());
    const keys = await cache.keys();
    for (const key of keys.slice(0, Math.max(0, keys.length - TILE_MAX_ENTRIES))) await cache.delete(key);
  }
  return response;
}

async function assetNetworkFirst(request) {
  const cache = await caches.open(ASSET_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) {
      await cache.delete(request, { ignoreVary: true }); // re-put moves it to the end (newest)
      await cache.put(request, response.clone());
      const keys = await cache.keys();
      for (const key of keys.slice(0, Math.max(0, keys.length - ASSET_MAX_ENTRIES))) await cache.delete(key);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

// What the report form needs offline on the very first visit (pages fetched these before the
// worker controlled them). Best effort; later visits refresh them network-first.
async function warmApiCache() {
  const cache = await caches.open(API_CACHE);
  const visitorLang = await visitorLanguage();
  // After a first install the page has just fetched them: the HTTP cache's copies will do if
  // asked for as the page asks (api.js sends its language; dom.js the browser's, for outlines).
  const init = (url) => (!firstInstall ? { headers: { Accept: 'application/json' } } : {
    cache: 'force-cache',
    headers: url.endsWith('/outlines') ? { Accept: 'application/geo+json' }
      : { Accept: 'application/json', 'Accept-Language': acceptLanguage(visitorLang) },
  });
  await Promise.all(['/api/v1/config', '/api/v1/categories', '/api/v1/districts', '/api/v1/districts/outlines'].map(async (url) => {
    try {
      if (await cache.match(url, { ignoreVary: true })) return;
      const response = await fetch(url, init(url));
      if (response.status === 200) await cache.put(url, response);
    } catch { /* offline: fine */ }
  }));
}

async function shell() {
  const cached = await caches.match('/', { cacheName: SHELL_CACHE });
  if (cached) return cached;
  return fetch('/');
}

// Every staff route is answered by staff.html (kept as '/login' once fetched); the app routes itself.
async function staffShell(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match('/login');
  if (cached) return cached;
  const response = await fetch(request);
  if (response.status === 200 && !response.redirected) await cache.put('/login', response.clone());
  return response;
}

// A page asks to keep files it uses that are not precached: the staff app asks for everything
// it loaded once someone logs in, a page for the language its visitor chose. Revalidated (the
// page has just loaded them: a 304 costs only headers); what is kept already is left alone.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'keep' || !Array.isArray(event.data.urls)) return;
  event.waitUntil(keep(event.data.urls));
});

async function keep(urls) {
  const cache = await caches.open(SHELL_CACHE);
  const paths = new Set();
  for (const value of urls) {
    const url = new URL(String(value), self.location.origin);
    if (url.origin === self.location.origin && KEEPABLE.test(url.pathname)) paths.add(url.pathname);
  }
  await Promise.all([...paths].map(async (path) => {
    if (await cache.match(path, { ignoreSearch: true })) return;
    try {
      const response = await fetch(path, { cache: 'no-cache' });
      if (response.status === 200) await cache.put(path, response);
    } catch { /* offline: asked again at the next start */ }
  }));
}

// Staff answers: network first; offline the last copy, marked with the time it was fetched
// (X-MM-Cached) so the app can say how old it is. The whole queue (no map area) is also kept
// under its query without sort, so offline any map view finds the newest complete copy (the
// app filters it to the view).
function queueFallbackKey(url) {
  if (url.pathname !== '/api/v1/staff/queue') return null;
  const params = new URLSearchParams(url.search);
  for (const name of ['bbox', 'near', 'sort', 'cursor']) params.delete(name);
  params.sort();
  return `/api/v1/staff/queue?area=any&${params}`;
}

// Every map view is its own queue URL: keep only the latest few, not a whole shift's worth.
const QUEUE_COPIES = 20;
async function pruneQueueCopies(cache) {
  const copies = (await cache.keys()).filter((r) => {
    const u = new URL(r.url);
    return u.pathname === '/api/v1/staff/queue' && !u.searchParams.has('area');
  });
  for (const old of copies.slice(0, Math.max(0, copies.length - QUEUE_COPIES))) await cache.delete(old);
}

const fetchedAt = (response) => (response ? Date.parse(response.headers.get('X-MM-Cached') || '') || 0 : -1);

async function staffNetworkFirst(request, url) {
  const cache = await caches.open(API_CACHE);
  const fallbackKey = queueFallbackKey(url);
  try {
    const response = await fetch(request);
    if (response.status === 200) {
      const headers = new Headers(response.headers);
      headers.set('X-MM-Cached', new Date().toISOString());
      const body = await response.clone().blob();
      const copy = () => new Response(body, { status: 200, statusText: response.statusText, headers });
      await cache.put(request, copy());
      if (fallbackKey) {
        if (!url.searchParams.has('bbox') && !url.searchParams.has('cursor')) await cache.put(fallbackKey, copy());
        await pruneQueueCopies(cache);
      }
    }
    return response;
  } catch (error) {
    const exact = await cache.match(request, { ignoreVary: true });
    const whole = fallbackKey ? await cache.match(fallbackKey, { ignoreVary: true }) : null;
    const cached = fetchedAt(whole) > fetchedAt(exact) ? whole : exact;
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

async function cachedThenRefreshed(event, request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  const refreshed = fetch(request, { cache: 'no-cache' }).then(async (response) => {
    if (response.status === 200) await cache.put(LANGUAGES_URL, response.clone());
    return response;
  });
  if (!cached) return refreshed;
  event.waitUntil(refreshed.catch(() => null)); // offline: the cached list
  return cached;
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
  if (event.tag === 'crew-actions') event.waitUntil(syncCrewActions());
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

// The crew's actions, queued while offline, for the user logged in on this browser.
async function syncCrewActions() {
  const outcomes = await crewActions.flushForSession();
  for (const { record, outcome } of outcomes) await tellClients({ type: 'crew-actions', outcome, key: record.key });
  if (outcomes.some((o) => o.outcome === 'kept')) throw new Error('crew actions: still waiting');
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
