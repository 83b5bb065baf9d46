// JSON API calls with the current language; errors as ApiError (network failures stay TypeError).
import { acceptLanguage } from './i18n.js';
import { ApiError } from './apierror.js';

export { ApiError };

/**
 * Returns {status, data, etag, headers}; throws ApiError for 4xx/5xx (with `retryAfter` in
 * seconds when the server sent Retry-After) and TypeError when offline; `signal` (an
 * AbortSignal) cancels it (an AbortError).
 */
export async function request(path, { method = 'GET', json, body, headers = {}, signal } = {}) {
  const h = { Accept: 'application/json', 'Accept-Language': acceptLanguage(), ...headers };
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers: h, body, credentials: 'same-origin', signal });
  const etag = response.headers.get('ETag');
  if (response.status === 304) return { status: 304, data: null, etag, headers: response.headers };
  let data = null;
  try { data = await response.json(); } catch { /* empty or not JSON */ }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    if (Number.isFinite(retryAfter)) error.retryAfter = retryAfter;
    throw error;
  }
  return { status: response.status, data, etag, headers: response.headers };
}

export const getJSON = async (path) => (await request(path)).data;
export const postJSON = async (path, json) => (await request(path, { method: 'POST', json })).data;

/** Same-origin path for a URL the server built with its own base URL. */
export function localUrl(url) {
  if (!url) return url;
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin || /^\/(media|api)\//.test(u.pathname) ? u.pathname + u.search : url;
  } catch { return url; }
}
