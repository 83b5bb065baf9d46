// The offline outbox: every report goes into IndexedDB before it is sent, and leaves it only
// when the server answered for good. The Idempotency-Key is created once with the record, so a
// retry (after a lost answer, from another tab, from Background Sync) never makes a 2nd report.
import { getLang } from './i18n.js';
import { ApiError } from './api.js';

const DB_NAME = 'maengelmelder';
const STORE = 'outbox';
export const events = new EventTarget(); // 'sent', 'failed', 'kept', 'change'

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains(STORE)) {
        open.result.createObjectStore(STORE, { keyPath: 'key' });
      }
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => { dbPromise = null; reject(open.error); };
  });
  return dbPromise;
}

async function tx(mode, fn) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(STORE, mode);
    const result = fn(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** A new record: {key, fields, photos: [{blob, name}], created_at}. */
export function createRecord(fields, photos) {
  return { key: crypto.randomUUID(), fields, photos, created_at: new Date().toISOString(), lang: getLang() };
}

export const put = async (record) => { await tx('readwrite', (s) => s.put(record)); changed(); };
export const remove = async (key) => { await tx('readwrite', (s) => s.delete(key)); changed(); };
export const all = async () => (await tx('readonly', (s) => s.getAll())) || [];
export const count = async () => (await tx('readonly', (s) => s.count())) || 0;

function changed() { events.dispatchEvent(new Event('change')); }

/** Send one record. Returns {outcome: 'sent'|'failed'|'kept', data?, error?}. */
export async function send(record) {
  const form = new FormData();
  for (const [name, value] of Object.entries(record.fields)) {
    if (value !== null && value !== undefined && value !== '') form.append(name, String(value));
  }
  record.photos.forEach((photo, i) => form.append('photos', photo.blob, photo.name || `foto-${i + 1}.jpg`));
  let response;
  try {
    response = await fetch('/api/v1/reports', {
      method: 'POST',
      body: form,
      headers: { Accept: 'application/json', 'Accept-Language': getLang(), 'Idempotency-Key': record.key },
    });
  } catch (error) {
    return { outcome: 'kept', error }; // offline or connection lost: the same key is retried later
  }
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (response.ok) return { outcome: 'sent', data };
  const error = new ApiError(response.status, data);
  if (response.status >= 500 || response.status === 408 || response.status === 429) {
    return { outcome: 'kept', error };
  }
  return { outcome: 'failed', error }; // it will never succeed as it is
}

const results = new Map();
/** The result of the last attempt for a key (after flush() resolved). */
export const resultFor = (key) => results.get(key);

async function pass() {
  for (const record of await all()) {
    const result = await send(record);
    results.set(record.key, result);
    if (result.outcome !== 'kept') await remove(record.key);
    events.dispatchEvent(new CustomEvent(result.outcome, { detail: { record, ...result } }));
    if (result.outcome === 'kept') break; // offline or server trouble: try again later
  }
}

let chain = Promise.resolve();
/** Send everything waiting, one pass at a time (and one tab at a time where Web Locks exist). */
export function flush() {
  const run = () => (navigator.locks ? navigator.locks.request('mm-outbox', pass) : pass());
  chain = chain.then(run).catch((error) => console.warn('outbox', error));
  return chain;
}

/** Ask the service worker to wake us up when the connection is back. */
export async function registerSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration && 'sync' in registration) await registration.sync.register('outbox');
  } catch { /* not supported or not allowed: the online event and app start flush too */ }
}
