// Staff search above the crew and dispatch screens: a report number, a tracking link, words of
// the description or address, or a reporter's e-mail address (own departments only, every
// search audited). Searches as the user types (words and numbers) and on Enter; results are
// queue items that open the report. Answers are never stored: the service worker lets
// /api/v1/staff/search straight through (NEVER_CACHED in sw.js), they can name reporters.
import { $ } from '../dom.js';
import { t } from '../i18n.js';
import { call } from './session.js';
import { renderQueueItems } from './queuelist.js';
import { setError } from './fields.js';

export const SEARCH_LIMIT = 20;
const DELAY_MS = 250;
const MIN_TYPED = 2; // the server looks for words of two letters or more
// An e-mail address is searched on Enter only: each search by it is written to the audit
// log, and half-typed addresses would be too.
const LOOKS_LIKE_EMAIL = /@/;
const VIEWS = { crew: '/crew/reports', dispatch: '/dispatch/reports' };

let base = VIEWS.crew;
let timer = null;
let running = null; // AbortController of the request in flight
let shown = null; // {q, features, more, kind} of the last answer, or null

const field = () => $('#staff-search-q');
const list = () => $('#staff-search-results');
const links = () => [...list().querySelectorAll('a.queue-item')];

export function initSearch() {
  $('#staff-search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search({ submitted: true });
  });
  field().addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => search({ submitted: false }), DELAY_MS);
  });
  $('#staff-search').addEventListener('keydown', onKey);
}

/** Show the search on the crew and dispatch screens (not over a report, nowhere else). */
export function showSearch(view, { detail = false } = {}) {
  const here = Object.hasOwn(VIEWS, view) && !detail;
  $('#staff-search').hidden = !here;
  if (!here || VIEWS[view] === base) return;
  base = VIEWS[view]; // results open the report in the screen the search is used from
  if (shown) render(shown);
}

/** After a language switch: ask again (category and department names follow the language);
 * an e-mail search is only redrawn, not repeated (each one is audited). */
export function relocalizeSearch() {
  if (shown?.kind === 'email') render(shown);
  else if (shown) search({ submitted: true, quiet: true });
}

function clear() {
  clearTimeout(timer);
  running?.abort();
  running = null;
  shown = null;
  field().value = '';
  setError(field(), null);
  setStatus('');
  list().replaceChildren();
  list().hidden = true;
}

function setStatus(text) {
  const status = $('#staff-search-status');
  if (status.textContent !== text) status.textContent = text; // the same text is not announced twice
}

async function search({ submitted, quiet = false }) {
  clearTimeout(timer);
  running?.abort();
  running = null;
  const q = field().value.trim();
  if (!q) { clear(); return; }
  if (!submitted && (q.length < MIN_TYPED || LOOKS_LIKE_EMAIL.test(q))) {
    // Keep the last results; say why nothing is asked yet.
    setStatus(LOOKS_LIKE_EMAIL.test(q) ? t('search.emailOnEnter') : '');
    return;
  }
  const controller = new AbortController();
  running = controller;
  list().setAttribute('aria-busy', 'true');
  const params = new URLSearchParams({ q, limit: String(SEARCH_LIMIT) });
  try {
    const { data } = await call(`/api/v1/staff/search?${params}`, { signal: controller.signal });
    if (running !== controller) return;
    setError(field(), null);
    render({ q, features: data?.features || [], more: Boolean(data?.more), kind: data?.kind });
  } catch (error) {
    if (running !== controller || error?.name === 'AbortError') return;
    if (error.status === 401) return; // the session ended: session.js sends to the login
    shown = null;
    list().replaceChildren();
    list().hidden = true;
    if (error instanceof TypeError) {
      setError(field(), null);
      setStatus(t('search.offline'));
    } else if ([403, 422].includes(error.status)) {
      // The server's words, at the field (what it says about q, else its message).
      const about = [].concat(error.fields?.q || []).join(' ');
      setStatus('');
      setError(field(), about ? `${error.message} (${about})` : error.message);
    } else {
      setError(field(), null);
      setStatus(t('common.loadFailed'));
    }
    if (!quiet && document.activeElement !== field() && submitted) field().focus();
  } finally {
    if (running === controller) running = null;
    if (!running) list().removeAttribute('aria-busy');
  }
}

function render(result) {
  shown = result;
  const { features, more, kind } = result;
  renderQueueItems(list(), features, { base });
  list().hidden = features.length === 0;
  let text;
  if (!features.length) text = t('search.none', { q: result.q });
  else if (more) text = t('search.more', { n: features.length });
  else text = t(kind === 'email' ? 'search.foundEmail' : 'search.found', { n: features.length });
  setStatus(text);
}

// Keyboard: arrows move between the field and the results, Escape clears and returns to the
// field (Tab and Enter work as everywhere: the results are links).
function onKey(e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const items = links();
  const at = items.indexOf(document.activeElement);
  if (e.key === 'Escape') {
    if (!field().value && !shown) return;
    e.preventDefault();
    clear();
    field().focus();
  } else if (e.key === 'ArrowDown' && items.length && (e.target === field() || at >= 0)) {
    e.preventDefault();
    items[Math.min(at + 1, items.length - 1)].focus();
  } else if (e.key === 'ArrowUp' && at >= 0) {
    e.preventDefault();
    (at === 0 ? field() : items[at - 1]).focus();
  }
}
