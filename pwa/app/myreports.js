// The reporter's own reports on this device: localStorage "mm.myReports".
const KEY = 'mm.myReports';

export function getMyReports() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || '[]');
    return Array.isArray(list) ? list : [];
  } catch { return []; }
}

export function addMyReport({ id, token, created_at, category }) {
  const list = getMyReports().filter((r) => r.id !== id);
  list.unshift({ id, token, created_at, category });
  localStorage.setItem(KEY, JSON.stringify(list));
}

// Last known tracking answer per token (for If-None-Match and offline display).
const cacheKey = (token) => `mm.track.${token}`;
export function getTracked(token) {
  try { return JSON.parse(localStorage.getItem(cacheKey(token)) || 'null'); } catch { return null; }
}
export function setTracked(token, etag, data) {
  try { localStorage.setItem(cacheKey(token), JSON.stringify({ etag, data })); } catch { /* full */ }
}
