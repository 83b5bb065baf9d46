// The offline outbox: every report goes into IndexedDB before it is sent, and leaves it only
// when the server answered for good. The Idempotency-Key is created once with the record, so a
// retry (after a lost answer, from another tab, from Background Sync) never makes a 2nd report.
// This module runs in pages and in the service worker (Background Sync sends with the app
// closed), so it touches neither the DOM nor localStorage.
import { ApiError } from './apierror.js';
import { tx, OUTBOX } from './store.js';
import { addMyReport } from './myreports.js';

export const events = new EventTarget(); // 'sent', 'failed', 'kept', 'change'

/** A new record: {key, fields, photos: [{blob, name}], created_at, lang (its Accept-Language)}. */
export function createRecord(fields, photos, lang) {
  return { key: crypto.randomUUID(), fields, photos, created_at: new Date().toISOString(), lang };
}

export const put = async (record) => { await tx(OUTBOX, 'readwrite', (s) => s.put(record)); changed(); };
export const remove = async (key) => { await tx(OUTBOX, 'readwrite', (s) => s.delete(key)); changed(); };
/** Every record, also those the server refused (record.failed = {status, message}). */
export const all = async () => (await tx(OUTBOX, 'readonly', (s) => s.getAll())) || [];
/** Records still waiting to be sent. */
export const waiting = async () => (await all()).filter((r) => !r.failed);
export const count = async () => (await waiting()).length;

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
      headers: { Accept: 'application/json', 'Accept-Language': record.lang || 'de', 'Idempotency-Key': record.key },
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

/** Remember a sent report with its tracking token (before the outbox record is removed). */
export async function remember(record, data) {
  if (!data?.tracking_token) return;
  await addMyReport({
    id: data.id, key: record.key, token: data.tracking_token,
    created_at: data.created_at || record.created_at,
    category: data.category?.name || record.fields.category,
    department: data.department || null, district: data.district || null,
  });
}

const results = new Map();
/** The result of the last attempt for a key in this context (after flush() resolved). */
export const resultFor = (key) => results.get(key);

async function pass() {
  const outcomes = [];
  for (const record of await waiting()) {
    const result = await send(record);
    results.set(record.key, result);
    if (result.outcome === 'sent') {
      await remember(record, result.data);
      await remove(record.key);
    } else if (result.outcome === 'failed') {
      // Kept, marked, so a refusal met with the app closed is shown under "My reports";
      // the form that sent it in the foreground removes it and shows the errors instead.
      await put({ ...record, failed: { status: result.error.status, message: result.error.message } });
    }
    outcomes.push({ record, ...result });
    events.dispatchEvent(new CustomEvent(result.outcome, { detail: { record, ...result } }));
    if (result.outcome === 'kept') break; // offline or server trouble: try again later
  }
  return outcomes;
}

let chain = Promise.resolve([]);
/**
 * Send everything waiting, one pass at a time (and one page or worker at a time where Web
 * Locks exist). Resolves with [{record, outcome, data?, error?}] of this pass.
 */
export function flush() {
  const locks = globalThis.navigator?.locks;
  const run = () => (locks ? locks.request('mm-outbox', pass) : pass());
  chain = chain.then(run, run);
  return chain.catch((error) => { console.warn('outbox', error); return []; });
}

/** Ask the browser for a Background Sync when the connection is back (Chromium). */
export async function registerSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration && 'sync' in registration) await registration.sync.register('outbox');
  } catch { /* not supported or not allowed: the online event and app start flush too */ }
}
