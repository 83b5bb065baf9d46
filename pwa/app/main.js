// App start: texts, configuration, routing between the three views, outbox and service worker.
import { initialLang, loadLang, applyTexts, t, getLang, loadLanguages, languageList, languageFiles } from './i18n.js';
import { getJSON, ApiError } from './api.js';
import { $, announce } from './dom.js';
import * as outbox from './outbox.js';
import { migrateLegacyList } from './myreports.js';
import { initReport, showReport, relocalizeReport, foreground } from './report.js';
import { initMap, showMap, openDetail, closeDetail, relocalizeMap } from './publicmap.js';
import { showMine, adoptTrackingLink } from './mine.js';
import { keepOffline } from './keepoffline.js';

const DEFAULT_CONFIG = {
  city: { name: 'München' },
  map: { center: [48.1374, 11.5755], zoom: 12, tile_url: '', tile_attribution: '', data_attribution: '', bounds: null },
  limits: { photos: 3, photo_max_bytes: 15 * 1024 * 1024, description_max: 4000, nearby_radius_m: 50 },
  push_public_key: null,
};
let config = DEFAULT_CONFIG;
let currentView = null;

function route(path) {
  if (path === '/map') return { view: 'map' };
  if (path === '/mine') return { view: 'mine' };
  const tracked = path.match(/^\/track\/([^/]+)$/);
  if (tracked) return { view: 'mine', track: decodeURIComponent(tracked[1]) };
  const m = path.match(/^\/reports\/([^/]+)$/);
  if (m) return { view: 'map', detail: decodeURIComponent(m[1]) };
  return { view: 'report' };
}

async function followTrackingLink(token) {
  if (await adoptTrackingLink(token)) {
    history.replaceState({}, '', '/mine');  // the token leaves the address bar and history
    render();
  }
}

function render({ focus = true } = {}) {
  const { view, detail, track } = route(location.pathname);
  if (track) followTrackingLink(track);
  const changed = view !== currentView;
  currentView = view;
  for (const section of document.querySelectorAll('[data-view]')) section.hidden = section.dataset.view !== view;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${t(`nav.${view}`)} – ${t('app.title')}`;
  if (view === 'report') showReport();
  if (view === 'map') {
    showMap();
    if (detail) openDetail(detail, { focus });
    else closeDetail();
  }
  if (view === 'mine') showMine();
  if (focus && changed && !detail) $(`#${view}-title`)?.focus();
}

export function navigate(path) {
  if (path !== location.pathname) history.pushState({}, '', path);
  render();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/"]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const path = new URL(a.href).pathname;
  if (!['/', '/report', '/map', '/mine'].includes(path) && !path.startsWith('/reports/')) return;
  e.preventDefault();
  navigate(path);
});
window.addEventListener('popstate', () => render());

// ---------------------------------------------------------------- outbox

async function updateOutboxStatus() {
  let n = 0;
  try { n = await outbox.count(); } catch { /* no IndexedDB */ }
  const el = $('#outbox-status');
  el.hidden = n === 0;
  el.textContent = n ? t('outbox.waiting', { n }) : '';
}

outbox.events.addEventListener('change', updateOutboxStatus);
outbox.events.addEventListener('sent', (e) => {
  const { record, data } = e.detail;
  if (!foreground.has(record.key)) {
    announce(t('outbox.sentLater', { id: data?.id || '' }));
    if (currentView === 'mine') showMine();
  }
});
outbox.events.addEventListener('failed', (e) => {
  const { record, error } = e.detail;
  if (!foreground.has(record.key)) {
    announce(t('outbox.failedLater', { message: error.message }), { error: true });
    if (currentView === 'mine') showMine();
  }
});
outbox.events.addEventListener('kept', () => outbox.registerSync());
window.addEventListener('online', () => outbox.flush());

// ---------------------------------------------------------------- language

// The picker lists every language of languages.json by its native name (a native select:
// keyboard and screen readers know it).
function fillLanguagePicker() {
  const select = $('#lang-switch');
  select.replaceChildren(...languageList().map(({ code, name, dir }) => {
    const option = new Option(name, code, false, code === getLang());
    option.lang = code;
    option.dir = dir === 'rtl' ? 'rtl' : 'ltr';
    return option;
  }));
  select.disabled = false; // usable once the app can switch
}

async function switchLanguage() {
  const next = $('#lang-switch').value;
  if (next === getLang()) return;
  await loadLang(next);
  localStorage.setItem('mm.lang', next);
  keepOffline(languageFiles(next)); // chosen once, it works offline too
  applyTexts();
  updateOutboxStatus();
  await relocalizeReport();
  relocalizeMap();
  if (currentView === 'mine') showMine();
  render({ focus: false });
  announce(t('lang.switched'));
}

// ---------------------------------------------------------------- start

// The service worker sent (or tried) a record by Background Sync: same events as a page send.
function outboxResultFromWorker({ outcome, key, data, error }) {
  const detail = { record: { key }, data, error: error && new ApiError(error.status, { error }) };
  outbox.events.dispatchEvent(new CustomEvent(outcome, { detail }));
  outbox.events.dispatchEvent(new Event('change'));
}

async function start() {
  await loadLanguages();
  try { await loadLang(initialLang()); } catch { await loadLang('de'); }
  applyTexts();
  fillLanguagePicker();
  $('#lang-switch').addEventListener('change', switchLanguage);
  try {
    config = { ...DEFAULT_CONFIG, ...(await getJSON('/api/v1/config')) };
  } catch {
    announce(t('errors.offline'), { error: true });
  }
  initMap(config, navigate);
  await initReport(config);
  render({ focus: false });
  try { await migrateLegacyList(); } catch { /* no IndexedDB */ }
  updateOutboxStatus();
  outbox.flush();

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data?.type === 'outbox') outboxResultFromWorker(e.data);
      if (e.data?.type === 'open' && e.data.path) navigate(e.data.path);
    });
    try { await navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module' }); } catch (error) { console.warn('sw', error); }
    keepOffline(languageFiles(getLang())); // precached is the browser's language, not a saved choice
  }
}

start();
