// The reporter's own reports on this device: the "mine" store in IndexedDB (shared with the
// service worker, which records reports it sent by Background Sync), plus a page-side cache of
// the last tracking answer per token in localStorage.
import { tx, MINE } from './store.js';

const LEGACY_KEY = 'mm.myReports';

/** Newest first. */
export async function getMyReports() {
  const list = (await tx(MINE, 'readonly', (s) => s.getAll())) || [];
  return list.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
}

export async function addMyReport(entry) {
  await tx(MINE, 'readwrite', (s) => s.put(entry));
}

/** The entry stored for an outbox key (a report another page or the worker sent). */
export async function myReportByKey(key) {
  return (await getMyReports()).find((r) => r.key === key) || null;
}

/** Move the list an older app version kept in localStorage into IndexedDB (page only). */
export async function migrateLegacyList() {
  let list;
  try { list = JSON.parse(localStorage.getItem(LEGACY_KEY) || '[]'); } catch { list = []; }
  if (!Array.isArray(list) || !list.length) return;
  await tx(MINE, 'readwrite', (s) => { for (const r of list) if (r?.id && r?.token) s.put(r); });
  localStorage.removeItem(LEGACY_KEY);
}

// Last known tracking answer per token (for If-None-Match and offline display); pages only.
const cacheKey = (token) => `mm.track.${token}`;
export function getTracked(token) {
  try { return JSON.parse(localStorage.getItem(cacheKey(token)) || 'null'); } catch { return null; }
}
export function setTracked(token, etag, data) {
  try { localStorage.setItem(cacheKey(token), JSON.stringify({ etag, data })); } catch { /* full */ }
}
