// The crew's action outbox: every action (claim, start, resolve, note …) is written to
// IndexedDB first and leaves it only when the server answered for good. Its Idempotency-Key is
// made once with the record, so a retry after a lost answer, a reload or a second tab never
// applies the action twice. Records are sent in the order they were made, per logged-in user,
// by the open app or, with the app closed, by the service worker (Background Sync).
import { ApiError } from '../apierror.js';
import { tx, CREW_ACTIONS } from '../store.js';
import { csrf, refreshCsrf } from './session.js';

export const events = new EventTarget(); // 'sent', 'failed', 'kept', 'change'

/**
 * A new record. `kind` is the button (start, resolve …), `action` the last path segment (claim,
 * status, resolve, forward, duplicate, notes, asset); `json` its body, or for resolve `note` and
 * an optional `photo` {blob, name}; `method` is POST but for asset (PUT); `label` says what it
 * is in the waiting list.
 */
export function createRecord({ username, report, kind, action, method = 'POST', json = null, note = null, photo = null, label, lang }) {
  return {
    key: crypto.randomUUID(), username, report, kind, action, method, json, note, photo, label, lang,
    created_at: new Date().toISOString(),
  };
}

export const put = async (record) => { await tx(CREW_ACTIONS, 'readwrite', (s) => s.put(record)); changed(); };
export const remove = async (key) => { await tx(CREW_ACTIONS, 'readwrite', (s) => s.delete(key)); changed(); };
/** Every record of this user, oldest first (also those the server refused: record.failed). */
export async function all(username) {
  const records = (await tx(CREW_ACTIONS, 'readonly', (s) => s.getAll())) || [];
  return records.filter((r) => r.username === username).sort((a, b) => a.created_at.localeCompare(b.created_at));
}
export const waiting = async (username) => (await all(username)).filter((r) => !r.failed);

function changed() { events.dispatchEvent(new Event('change')); }

function body(record) {
  if (record.action !== 'resolve') return JSON.stringify(record.json || {});
  const form = new FormData();
  form.append('public_note', record.note || '');
  if (record.photo) form.append('photo', record.photo.blob, record.photo.name || 'nachher.jpg');
  return form;
}

async function post(record, token) {
  const headers = {
    Accept: 'application/json', 'Accept-Language': record.lang || 'de',
    'Idempotency-Key': record.key, 'X-CSRF-Token': token || '',
  };
  if (record.action !== 'resolve') headers['Content-Type'] = 'application/json';
  const path = `/api/v1/staff/reports/${encodeURIComponent(record.report)}/${record.action}`;
  // Records made before `method` existed were all POSTs.
  return fetch(path, { method: record.method || 'POST', headers, body: body(record), credentials: 'same-origin' });
}

async function readError(response) {
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  return { data, error: response.ok ? null : new ApiError(response.status, data) };
}

/** Send one record. Returns {outcome: 'sent'|'failed'|'kept', data?, error?}. */
export async function send(record) {
  let response;
  try {
    let token = csrf();
    if (!token) token = await refreshCsrf();
    response = await post(record, token);
    let answer = await readError(response);
    if (answer.error?.status === 403 && answer.error.code === 'csrf_failed') {
      response = await post(record, await refreshCsrf()); // same key: still at most once
      answer = await readError(response);
    }
    if (response.ok) return { outcome: 'sent', data: answer.data };
    const { error } = answer;
    // Not logged in any more, or server trouble: keep it for after the next login / later.
    if ([401, 408, 429].includes(error.status) || error.status >= 500) return { outcome: 'kept', error };
    return { outcome: 'failed', error }; // refused as it is (e.g. a transition no longer allowed)
  } catch (error) {
    // Offline (TypeError), or no session to get a CSRF token from (ApiError 401): the same
    // key is tried again later.
    return { outcome: 'kept', error };
  }
}

const results = new Map();
/** The result of the last attempt for a key in this page (after flush() resolved). */
export const resultFor = (key) => results.get(key);

async function pass(username) {
  const outcomes = [];
  for (const record of await waiting(username)) {
    const result = await send(record);
    results.set(record.key, result);
    if (result.outcome === 'sent') await remove(record.key);
    else if (result.outcome === 'failed') {
      await put({ ...record, failed: { status: result.error.status, message: result.error.message } });
    }
    outcomes.push({ record, ...result });
    events.dispatchEvent(new CustomEvent(result.outcome, { detail: { record, ...result } }));
    if (result.outcome === 'kept') break; // keep the order: later actions wait behind it
  }
  return outcomes;
}

let chain = Promise.resolve([]);
/** Send what waits for this user, one pass at a time (one tab at a time where Web Locks exist). */
export function flush(username) {
  if (!username) return Promise.resolve([]);
  const locks = globalThis.navigator?.locks;
  const run = () => (locks ? locks.request('mm-crew-actions', () => pass(username)) : pass(username));
  chain = chain.then(run, run);
  return chain.catch((error) => { console.warn('crew actions', error); return []; });
}

/**
 * Background Sync (service worker, the app may be closed): send what waits for whoever is
 * logged in on this browser now. Offline, the fetch throws, and the browser retries later.
 */
export async function flushForSession() {
  const me = await fetch('/api/v1/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!me.ok) return [];
  const data = await me.json();
  if (!data.user) return []; // logged out: the records wait for the next login
  return flush(data.user.username);
}

/** Ask the browser to send the waiting actions when the connection is back. */
export async function registerSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration && 'sync' in registration) await registration.sync.register('crew-actions');
  } catch { /* not supported or not allowed: going online and the next start flush too */ }
}
