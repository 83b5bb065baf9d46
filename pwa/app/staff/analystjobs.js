// Exports the server may build in the background: a 202 answer names the `result` URL to ask
// again after Retry-After seconds. This waits for the file and reports how long it has waited.
import { localUrl, ApiError } from '../api.js';
import { getLang } from '../i18n.js';
import { events } from './session.js';

const MAX_WAIT_S = 600; // a worker that needs longer is stuck; the analyst may ask again
const DEFAULT_RETRY_S = 2;

function sleep(seconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (response.status === 401) events.dispatchEvent(new Event('expired'));
  return new ApiError(response.status, body);
}

/**
 * GET `path` until the file is there: follows 202 answers to their `result` URL, calling
 * onProgress({status, waited}) before each wait. Returns the 200 Response; throws ApiError
 * (4xx/5xx, 504 when it takes too long), TypeError offline, the abort reason when aborted.
 */
export async function fetchBuilt(path, { accept = '*/*', signal, onProgress = () => {} } = {}) {
  const started = Date.now();
  let next = path;
  for (;;) {
    const response = await fetch(next, {
      headers: { Accept: accept, 'Accept-Language': getLang() }, credentials: 'same-origin', signal,
    });
    if (response.status !== 202) {
      if (!response.ok) throw await failure(response);
      return response;
    }
    let body = {};
    try { body = await response.json(); } catch { /* Location is enough */ }
    next = localUrl(body.result || response.headers.get('Location')) || next;
    const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    const wait = Number.isFinite(retry) && retry > 0 ? Math.min(retry, 30) : DEFAULT_RETRY_S;
    const waited = Math.round((Date.now() - started) / 1000);
    if (waited + wait > MAX_WAIT_S) {
      throw new ApiError(504, { error: { code: 'export_timeout', message: `${waited} s` } });
    }
    onProgress({ status: body.status || 'queued', waited });
    await sleep(wait, signal);
  }
}

/** The file name the server gave in Content-Disposition (or `fallback`). */
export function fileName(response, fallback) {
  const header = response.headers.get('Content-Disposition') || '';
  const m = header.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  return m ? decodeURIComponent(m[1]) : fallback;
}
