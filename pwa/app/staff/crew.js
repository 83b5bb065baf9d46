// The crew screen: the department's open reports on a map and, next to it, as a list of what
// the map shows, sorted by priority, age or distance. Works offline from the last copy.
import { $, announce, markReady } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { fetchQueue, inBounds, sortFeatures } from './queue.js';
import { ensureCrewMap, mapBounds, mapCenter, refreshSize, fitTo, setMarkers, crewAssetsAvailable, showAssets } from './crewmap.js';
import { renderQueueItems } from './queuelist.js';
import { currentUser } from './session.js';
import * as actions from './actionqueue.js';

let config = null;
let navigate = () => {};
let features = [];
let loaded = false;
let near = null;
let loadTimer = null;
let ticket = 0;
let bound = false;
let waitingIds = new Set();

const SORT_KEY = 'mm.staff.sort';
const ASSETS_KEY = 'mm.staff.assets';

export function initCrew(appConfig, nav) {
  config = appConfig;
  navigate = nav;
  if (bound) return;
  bound = true;
  const sort = $('#crew-sort');
  try { sort.value = localStorage.getItem(SORT_KEY) || 'priority'; } catch { /* default */ }
  sort.addEventListener('change', onSortChange);
  $('#crew-refresh').addEventListener('click', () => load({ announceDone: true }));
  $('#crew-map-toggle').addEventListener('click', toggleMap);
  $('#crew-assets-toggle').addEventListener('click', () => setAssets($('#crew-assets-toggle').getAttribute('aria-pressed') !== 'true'));
  actions.events.addEventListener('change', refreshWaiting);
}

// "Show assets": offered only where the asset API answers with assets; remembered per browser.
async function offerAssets() {
  if (!(await crewAssetsAvailable(config))) return;
  $('#crew-assets-toggle').hidden = false;
  let on = false;
  try { on = localStorage.getItem(ASSETS_KEY) === '1'; } catch { /* default off */ }
  setAssets(on, { quiet: true });
}

function setAssets(on, { quiet = false } = {}) {
  $('#crew-assets-toggle').setAttribute('aria-pressed', String(on));
  $('#crew-assets-hint').hidden = !on;
  try { localStorage.setItem(ASSETS_KEY, on ? '1' : '0'); } catch { /* ignore */ }
  showAssets(on);
  if (!quiet) announce(t(on ? 'crew.assetsShown' : 'crew.assetsHidden'));
}

/** The crew view became visible (the map needs a visible container). */
export function showCrew() {
  ensureCrewMap(config, { onMove: scheduleLoad, onOpen: (id) => navigate(`/crew/reports/${encodeURIComponent(id)}`) });
  refreshSize();
  refreshWaiting();
  if (!loaded) { firstLoad(); offerAssets(); }
  else {
    render(); // the last state at once, then fresh (an action may have changed it)
    load();
  }
}

/** After a language switch or a sent action: load again. */
export function reloadCrew() {
  if (loaded) load();
}

export function relocalizeCrew() {
  setToggleText();
  if (loaded) render();
}

// The whole queue first (no bbox): the map fits it, and this copy is the one that stays
// readable offline whatever the view.
async function firstLoad() {
  loaded = true;
  if ($('#crew-sort').value === 'distance') await locate();
  await load({ whole: true, fit: true });
  markReady('crew'); // list items and markers are drawn
}

function scheduleLoad() {
  render(); // the list follows the map at once; fresh data follows
  clearTimeout(loadTimer);
  loadTimer = setTimeout(() => load(), 300);
}

// fit: show the whole queue on the map; moving it draws markers and list (once, not twice).
async function load({ whole = false, fit = false, announceDone = false } = {}) {
  const mine = ++ticket;
  const order = $('#crew-sort').value;
  try {
    const result = await fetchQueue({ bbox: whole ? null : mapBounds(), sort: order, near });
    if (mine !== ticket) return;
    features = result.features;
    showStale(result.cachedAt);
    $('#crew-list-summary').dataset.more = result.more ? '1' : '';
    if (announceDone) announce(t('crew.refreshed'));
  } catch (error) {
    if (mine !== ticket) return;
    if (error instanceof TypeError) showStale(features.length ? 'memory' : null, true);
    else if (error.status !== 401) announce(t('crew.loadFailed'), { error: true });
  }
  if (!(fit && fitTo(features))) render();
}

function showStale(cachedAt, offlineWithoutCopy = false) {
  const el = $('#crew-stale');
  if (!cachedAt && !offlineWithoutCopy) { el.hidden = true; return; }
  el.hidden = false;
  el.textContent = cachedAt && cachedAt !== 'memory'
    ? t('crew.stale', { time: formatDate(cachedAt) })
    : t('crew.staleNoTime');
}

function visibleFeatures() {
  const bounds = mapBounds();
  const inView = bounds ? features.filter((f) => inBounds(f, bounds)) : features;
  return sortFeatures(inView, $('#crew-sort').value, near);
}

function render() {
  setMarkers(features);
  const items = visibleFeatures();
  const more = $('#crew-list-summary').dataset.more === '1';
  $('#crew-list-summary').textContent = t(more ? 'crew.listSummaryMore' : 'crew.listSummary', { n: items.length });
  $('#crew-empty').hidden = items.length > 0;
  renderQueueItems($('#crew-list'), items, {
    base: '/crew/reports', near: $('#crew-sort').value === 'distance' ? near : null, waitingIds,
  });
}

async function refreshWaiting() {
  const user = currentUser();
  if (!user) return;
  try {
    waitingIds = new Set((await actions.waiting(user.username)).map((r) => r.report));
  } catch { waitingIds = new Set(); }
  if (loaded) render();
}

// Distance order needs a position: the device's, else the middle of the map.
async function locate() {
  near = await new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
  if (!near) {
    near = mapCenter();
    announce(t('crew.noPosition'));
  }
}

async function onSortChange() {
  const order = $('#crew-sort').value;
  try { localStorage.setItem(SORT_KEY, order); } catch { /* ignore */ }
  if (order === 'distance') await locate();
  render();
  await load();
  announce(t('crew.sorted', { order: t(`crew.sort.${order}`) }));
}

function toggleMap() {
  const wrap = $('#crew-map-wrap');
  wrap.hidden = !wrap.hidden;
  $('#crew-queue').classList.toggle('map-hidden', wrap.hidden);
  setToggleText();
  if (!wrap.hidden) { refreshSize(); render(); }
}

function setToggleText() {
  const hidden = $('#crew-map-wrap').hidden;
  const button = $('#crew-map-toggle');
  button.setAttribute('aria-expanded', String(!hidden));
  button.textContent = t(hidden ? 'crew.showMap' : 'crew.hideMap');
}
