// "Which signal exactly?" in the report form: the chosen group's assets on the report map
// (assets.js), the nearest few as a list of buttons (the keyboard and screen-reader path),
// the number printed on the asset and "nearest to my location" (the map-free path), the
// selection and its undo. The form (report.js) owns the location; this module owns the asset.
import { t, formatDistance } from './i18n.js';
import { h, $, announce } from './dom.js';
import { assetLayer, assetsAvailable, assetsIn, assetLabel, featureAsset, lookupAssets, nearestAsset } from './assets.js';

const ASSET_LIST_SIZE = 5;
const ASSET_LIST_RADIUS_M = 150;
const ASSET_NEAREST_M = 300;

let host = null; // {config, getLocation, showError, clearError, onPick, onCleared, groupStillChosen}
let layer = null; // the asset layer on the report map
let selectedAsset = null; // an AssetRef the report points at (asset_id), or null
let assetGroup = null; // the chosen group, when it has assets to show
let listTicket = 0;
let matches = []; // the lookup's or "nearest to me" answer, shown for confirmation

export function initAssetPicker(hooks) {
  host = hooks;
  $('#asset-clear').addEventListener('click', () => clearAsset({ announceIt: true }));
  $('#asset-lookup').addEventListener('click', lookupNumber);
  $('#asset-number').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); lookupNumber(); }
  });
  $('#asset-number').addEventListener('input', () => host.clearError('asset-number'));
  $('#asset-nearest').addEventListener('click', nearestToMe);
  for (const list of ['#asset-nearby-list', '#asset-matches']) {
    $(list).addEventListener('click', (e) => {
      const button = e.target.closest('button.asset-choose');
      if (button) host.onPick(JSON.parse(button.dataset.asset));
    });
  }
}

/** The report map exists: draw the chosen group's assets on it; a tap picks one. */
export function attachMap(map) {
  layer = assetLayer(map, {
    probePoint: host.config.map.center, getGroup: () => assetGroup, onPick: (asset) => host.onPick(asset),
  });
  if (assetGroup) layer.reload();
}

/** After a language switch. */
export function relocalize(location) {
  renderAssetPicker();
  renderMatches();
  refreshList(location);
  layer?.reload();
}

/** A new, empty form. */
export function reset() {
  selectedAsset = null;
  assetGroup = null;
  layer?.select(null);
  layer?.reload();
  renderAssetPicker();
}

// The picker is shown only for a group whose asset API answers with assets (the demo's sign
// posts have no layer: nothing is shown for them). Without a choice the report works as before.
export async function chooseGroup(group) {
  clearAsset(); // another group: that asset no longer fits (the point stays)
  assetGroup = null;
  renderAssetPicker();
  const available = await assetsAvailable(group, host.config.map.center);
  if (!available || !host.groupStillChosen(group)) {
    layer?.reload();
    return;
  }
  assetGroup = group;
  renderAssetPicker();
  layer?.reload();
  refreshList(host.getLocation()); // the point now, not the one before the question
}

// Texts per group ("Ampel"), falling back to the general ones.
function assetText(key, params = {}) {
  const own = `asset.${assetGroup}.${key}`;
  const text = t(own, params);
  return text === own ? t(`asset.any.${key}`, params) : text;
}

function renderAssetPicker() {
  const section = $('#asset-picker');
  section.hidden = !assetGroup;
  if (!assetGroup) {
    matches = [];
    renderMatches();
    $('#asset-nearby').hidden = true;
    $('#asset-number').value = '';
    host.clearError('asset-number');
    return;
  }
  $('#asset-title').textContent = assetText('title');
  $('#asset-hint').textContent = assetText('hint');
  $('#asset-nearby-title').textContent = assetText('nearbyTitle');
  $('#asset-number-label').textContent = assetText('number');
  $('#asset-number-hint').textContent = assetText('numberHint');
  $('#asset-selected-label').textContent = t('asset.selectedLabel');
  $('#asset-clear').textContent = assetText('clear');
  const nearest = $('#asset-nearest');
  nearest.hidden = !('geolocation' in navigator);
  nearest.textContent = assetText('nearest');
  const box = $('#asset-selected');
  box.hidden = !selectedAsset;
  $('#asset-selected-name').textContent = selectedAsset ? assetLabel(selectedAsset) : '';
  for (const button of section.querySelectorAll('button.asset-choose')) {
    const chosen = Boolean(selectedAsset) && Number(button.dataset.id) === selectedAsset.id;
    button.setAttribute('aria-pressed', String(chosen)); // the label stays: a toggle's name does not change
  }
}

/** The asset the report points at (an AssetRef), or null. */
export const selected = () => selectedAsset;

export function setSelected(asset) {
  selectedAsset = asset;
  layer?.select(asset ? asset.id : null);
  renderAssetPicker();
}

function clearAsset({ announceIt = false } = {}) {
  if (!selectedAsset) return;
  setSelected(null);
  host.onCleared();
  if (announceIt) {
    announce(t('asset.cleared'));
    $('#asset-number').focus();
  }
}

const metersBetween = (a, b) => {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos((a.lat + b.lat) / 2 * rad);
  return Math.hypot(x, (b.lat - a.lat) * rad) * 6371000;
};

function assetItem(asset, { distance = null } = {}) {
  const name = assetLabel(asset);
  const chosen = selectedAsset?.id === asset.id;
  return h('li', { class: 'asset-item', dataset: { id: asset.id } },
    h('span', {}, h('strong', { text: name }),
      distance != null ? h('span', { class: 'hint', text: ` – ${formatDistance(distance)}` }) : null),
    h('button', { type: 'button', class: 'btn btn-secondary asset-choose', 'aria-pressed': String(chosen),
      'aria-label': t('asset.chooseNamed', { name }),
      dataset: { id: asset.id, asset: JSON.stringify(asset) }, text: t('asset.choose') }));
}

// "Signals nearby": the few nearest to the chosen point, as buttons (the keyboard and
// screen-reader path to what the map shows as markers). Not for a district's middle point.
export async function refreshList(location) {
  const wrap = $('#asset-nearby');
  const ticket = ++listTicket;
  if (!assetGroup || !location || location.source === 'district') { wrap.hidden = true; return; }
  const here = { lat: location.lat, lon: location.lon };
  const dLat = ASSET_LIST_RADIUS_M / 111320;
  const dLon = dLat / Math.cos(here.lat * Math.PI / 180);
  let found;
  try {
    found = await assetsIn(assetGroup, [here.lon - dLon, here.lat - dLat, here.lon + dLon, here.lat + dLat]);
  } catch {
    found = null;
  }
  if (ticket !== listTicket) return;
  const near = (found?.features || []).map((f) => {
    const asset = featureAsset(f);
    return { asset, distance: metersBetween(here, asset.location) };
  }).filter((x) => x.distance <= ASSET_LIST_RADIUS_M).sort((a, b) => a.distance - b.distance).slice(0, ASSET_LIST_SIZE);
  wrap.hidden = near.length === 0;
  $('#asset-nearby-list').replaceChildren(...near.map(({ asset, distance }) => assetItem(asset, { distance })));
}

async function lookupNumber() {
  const input = $('#asset-number');
  const number = input.value.trim();
  host.clearError('asset-number');
  matches = [];
  renderMatches();
  if (!number) { host.showError('asset-number', assetText('numberEmpty')); input.focus(); return; }
  let found;
  try {
    found = await lookupAssets(assetGroup, number);
  } catch (error) {
    host.showError('asset-number', error instanceof TypeError ? t('errors.offline') : assetText('lookupFailed'));
    return;
  }
  if (!found.length) { host.showError('asset-number', assetText('notFound', { number })); input.focus(); return; }
  showMatches(found, t('asset.matches', { n: found.length }));
}

function renderMatches() {
  $('#asset-matches').replaceChildren(...matches.map((asset) => assetItem(asset, { distance: asset.distance_m ?? null })));
}

function showMatches(found, message) {
  matches = found;
  renderMatches();
  announce(message);
  $('#asset-matches button.asset-choose')?.focus();
}

function nearestToMe() {
  const button = $('#asset-nearest');
  host.clearError('asset-number');
  button.disabled = true;
  announce(t('location.locating'));
  navigator.geolocation.getCurrentPosition(async (position) => {
    const { latitude, longitude } = position.coords;
    let asset = null;
    try {
      asset = await nearestAsset(assetGroup, latitude, longitude, ASSET_NEAREST_M);
    } catch (error) {
      button.disabled = false;
      host.showError('asset-number', error instanceof TypeError ? t('errors.offline') : assetText('lookupFailed'));
      return;
    }
    button.disabled = false;
    if (!asset) { host.showError('asset-number', assetText('noneNear', { distance: formatDistance(ASSET_NEAREST_M) })); return; }
    showMatches([asset], assetText('nearestFound', { name: assetLabel(asset) }));
  }, (error) => {
    button.disabled = false;
    const key = error.code === 1 ? 'location.gpsDenied' : 'location.gpsFailed';
    host.showError('asset-number', t(key));
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
}
