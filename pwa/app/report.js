// The report flow: location (GPS, map, or district + address without a map), category,
// "already reported?", photos, description, e-mail; sent through the offline outbox.
import { t, getLang, formatDistance, formatDate, statusLabel, formatNumber } from './i18n.js';
import { getJSON, postJSON, ApiError } from './api.js';
import { h, $, announce, addBaseLayers } from './dom.js';
import * as outbox from './outbox.js';
import { myReportByKey } from './myreports.js';
import { preparePhoto } from './photos.js';
import { photoLocation } from './exif.js';
import { pushSupported, subscribePush, PushDenied } from './push.js';
import { assetLabel } from './assets.js';
import * as picker from './assetpicker.js';

let config = null;
let groups = [];
let districts = [];
let map = null;
let pin = null;
let photos = []; // [{blob, name, url}]
let photoJobs = Promise.resolve();
let nearbyTimer = null;
let nearbyRequest = 0;
let lastCreated = null; // the created report shown in the confirmation
let bound = false;

// {lat, lon, source: 'gps'|'map'|'photo'|'district', accuracy?, district?}
let location = null;

const form = () => $('#report-form');

export async function initReport(appConfig) {
  config = appConfig;
  if (!bound) bindEvents();
  bound = true;
  $('#description').maxLength = config.limits.description_max;
  await Promise.all([loadCategories(), loadDistricts()]);
  renderTexts();
}

/** Called when the view becomes visible (the map needs a visible container). */
export function showReport() {
  ensureMap();
  if (map) setTimeout(() => map.invalidateSize(), 0);
}

/** After a language switch: reload the named lists and refresh every dynamic text. */
export async function relocalizeReport() {
  await Promise.all([loadCategories(), loadDistricts()]);
  renderTexts();
  if (pin) pin.getElement()?.setAttribute('alt', t('location.pinTitle'));
  if (!$('#nearby').hidden) checkNearby();
  picker.relocalize(location);
  if (lastCreated && !$('#confirmation').hidden) fillConfirmation(lastCreated);
}

function renderTexts() {
  renderLocationSummary();
  updateCounter();
  renderPhotoPreviews();
  $('#photos-hint').textContent = t('photos.hint', { n: config.limits.photos });
  $('#enable-push').hidden = !(pushSupported() && config.push_public_key);
}

// ---------------------------------------------------------------- events

function bindEvents() {
  $('#locate-me').addEventListener('click', locateMe);
  $('#district').addEventListener('change', chooseDistrict);
  $('#group-options').addEventListener('change', (e) => {
    if (e.target.name === 'group') { renderCategories(e.target.value, null); clearError('group'); picker.chooseGroup(e.target.value); }
  });
  $('#category-options').addEventListener('change', (e) => {
    if (e.target.name === 'category') { clearError('category'); scheduleNearby(); }
  });
  $('#description').addEventListener('input', () => { updateCounter(); clearError('description'); });
  $('#email').addEventListener('input', () => clearError('email'));
  $('#address').addEventListener('input', () => clearError('address'));
  $('#photos').addEventListener('change', pickPhotos);
  $('#photo-previews').addEventListener('click', (e) => {
    const button = e.target.closest('button.remove-photo');
    if (button) removePhoto(Number(button.dataset.index));
  });
  $('#nearby-list').addEventListener('click', onNearbyClick);
  picker.initAssetPicker({
    config, showError, clearError, onPick: selectAsset, getLocation: () => location,
    onCleared: () => { renderLocationSummary(); scheduleNearby(); },
    groupStillChosen: (group) => form().querySelector('input[name="group"]:checked')?.value === group,
  });
  form().addEventListener('submit', submit);
  $('#enable-push').addEventListener('click', enablePush);
  $('#new-report').addEventListener('click', newReport);
}

// ---------------------------------------------------------------- location

function ensureMap() {
  if (map || !window.L) {
    if (!window.L) $('#report-map').hidden = true; // offline without Leaflet: the district path remains
    return;
  }
  const m = config.map;
  map = L.map('report-map', { center: m.center, zoom: m.zoom + 2, minZoom: 10, maxZoom: 19 });
  addBaseLayers(map, m, $('#report-map'));
  if (m.bounds) {
    const [w, s, e, n] = m.bounds;
    map.setMaxBounds(L.latLngBounds([s - 0.05, w - 0.08], [n + 0.05, e + 0.08]));
  }
  map.on('click', (e) => setLocation(e.latlng.lat, e.latlng.lng, 'map'));
  picker.attachMap(map);
}

function placePin(lat, lon, zoom) {
  if (!map) return;
  if (!pin) {
    pin = L.marker([lat, lon], { draggable: true, autoPan: true, title: t('location.pinTitle'), alt: t('location.pinTitle') }).addTo(map);
    pin.on('dragend', () => {
      const p = pin.getLatLng();
      setLocation(p.lat, p.lng, 'map', { moveMap: false });
    });
  } else {
    pin.setLatLng([lat, lon]);
  }
  map.setView([lat, lon], zoom ?? Math.max(map.getZoom(), 16), { animate: !reducedMotion() });
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

function setLocation(lat, lon, source, { accuracy = null, moveMap = true, district = null, asset = null } = {}) {
  location = { lat, lon, source, accuracy, district };
  if (asset) picker.setSelected(asset);
  else if (picker.selected()) picker.setSelected(null); // a point chosen otherwise: no longer that asset
  if (moveMap || !pin) placePin(lat, lon, source === 'district' ? 15 : undefined);
  clearError('location');
  if (outsideBounds(lat, lon)) showError('location', t('errors.outside'));
  renderLocationSummary();
  scheduleNearby();
  picker.refreshList(location);
}

function outsideBounds(lat, lon) {
  const b = config.map.bounds;
  return Array.isArray(b) && (lon < b[0] || lat < b[1] || lon > b[2] || lat > b[3]);
}

function renderLocationSummary() {
  const el = $('#location-summary');
  if (!location) { el.textContent = t('location.none'); el.classList.remove('is-set'); return; }
  el.classList.add('is-set');
  if (picker.selected()) {
    el.textContent = t('location.summaryAsset', { name: assetLabel(picker.selected()) });
  } else if (location.source === 'gps') {
    el.textContent = location.accuracy != null
      ? t('location.summaryGps', { accuracy: formatNumber(Math.round(location.accuracy)) })
      : t('location.summaryGpsNoAccuracy');
  } else if (location.source === 'district') {
    el.textContent = t('location.summaryDistrict', { district: districtLabel(location.district) });
  } else if (location.source === 'photo') {
    el.textContent = t('location.summaryPhoto');
  } else {
    el.textContent = t('location.summaryMap', {
      lat: formatNumber(location.lat, { maximumFractionDigits: 5 }),
      lon: formatNumber(location.lon, { maximumFractionDigits: 5 }),
    });
  }
}

function locateMe() {
  if (!('geolocation' in navigator)) { showError('location', t('location.gpsUnsupported')); return; }
  const button = $('#locate-me');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  announce(t('location.locating'));
  navigator.geolocation.getCurrentPosition((position) => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    const { latitude, longitude, accuracy } = position.coords;
    setLocation(latitude, longitude, 'gps', { accuracy });
    announce($('#location-summary').textContent);
  }, (error) => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    const key = error.code === 1 ? 'location.gpsDenied' : error.code === 3 ? 'location.gpsTimeout' : 'location.gpsFailed';
    showError('location', t(key));
    announce(t(key), { error: true });
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
}

async function loadDistricts() {
  try {
    const data = await getJSON('/api/v1/districts');
    districts = data.districts || [];
    $('#data-attribution').textContent = data.attribution || config.map.data_attribution || '';
  } catch {
    districts = [];
  }
  const select = $('#district');
  const current = select.value;
  select.replaceChildren(h('option', { value: '', text: t('location.districtNone') }),
    ...districts.map((d) => h('option', { value: d.number, text: `${d.number} ${d.name}` })));
  select.value = current;
}

const districtLabel = (number) => {
  const d = districts.find((x) => x.number === number);
  return d ? `${d.number} ${d.name}` : number;
};

function chooseDistrict() {
  const d = districts.find((x) => x.number === $('#district').value);
  if (!d) {
    if (location?.source === 'district') { location = null; renderLocationSummary(); }
    return;
  }
  if (location && location.source !== 'district') {
    announce(t('location.districtKeptPrecise')); // a precise point is better than the district's
    return;
  }
  setLocation(d.point.lat, d.point.lon, 'district', { district: d.number });
}

// ---------------------------------------------------------------- category

async function loadCategories() {
  try {
    const data = await getJSON('/api/v1/categories');
    groups = data.groups || [];
  } catch {
    groups = groups.length ? groups : [];
  }
  const selectedGroup = form().querySelector('input[name="group"]:checked')?.value;
  const selectedCategory = form().querySelector('input[name="category"]:checked')?.value;
  $('#group-options').replaceChildren(...groups.map((g) => choice('group', g.code, g.name, g.description,
    h('img', { class: 'choice-icon', src: `/app/icons/group-${iconName(g.code)}.svg`, alt: '', width: 40, height: 40 }))));
  if (selectedGroup) {
    const input = form().querySelector(`input[name="group"][value="${CSS.escape(selectedGroup)}"]`);
    if (input) { input.checked = true; renderCategories(selectedGroup, selectedCategory); }
  }
  if (!groups.length) showError('group', t('errors.categoriesUnavailable'));
}

const iconName = (code) => (['ampel', 'schild'].includes(code) ? code : 'sonstiges');

function choice(name, value, label, description, icon = null) {
  const id = `${name}-${value}`;
  const descId = `${id}-desc`;
  return h('div', { class: 'choice' },
    h('input', { type: 'radio', name, value, id, 'aria-describedby': description ? descId : null }),
    h('label', { for: id },
      icon,
      h('span', { class: 'choice-text' },
        h('span', { class: 'choice-label', text: label }),
        description ? h('span', { class: 'choice-desc', id: descId, text: description }) : null)));
}

function renderCategories(groupCode, selected) {
  const group = groups.find((g) => g.code === groupCode);
  const fieldset = $('#fs-category');
  if (!group) { fieldset.hidden = true; return; }
  const categories = group.categories || [];
  $('#category-options').replaceChildren(...categories.map((c) => choice('category', c.code, c.name, c.description)));
  fieldset.hidden = false;
  // A group with a single defect (e.g. "sonstiges") needs no second choice.
  const only = categories.length === 1 ? categories[0].code : null;
  const pick = selected && categories.some((c) => c.code === selected) ? selected : only;
  if (pick) form().querySelector(`input[name="category"][value="${CSS.escape(pick)}"]`).checked = true;
  scheduleNearby();
}

const selectedCategory = () => form().querySelector('input[name="category"]:checked')?.value || null;

// ---------------------------------------------------------------- asset (which signal?)

/** Point the report at `asset`: the pin snaps to it (the server snaps the point too). */
function selectAsset(asset) {
  const { lat, lon } = asset.location;
  setLocation(lat, lon, 'map', { asset });
  announce(t('asset.selected', { name: assetLabel(asset) }));
}

// ---------------------------------------------------------------- already reported?

function scheduleNearby() {
  clearTimeout(nearbyTimer);
  nearbyTimer = setTimeout(checkNearby, 300);
}

async function checkNearby() {
  const category = selectedCategory();
  const section = $('#nearby');
  if (!location || !category) { section.hidden = true; return; }
  const ticket = ++nearbyRequest;
  const params = new URLSearchParams({
    lat: location.lat.toFixed(6), lon: location.lon.toFixed(6), category,
    radius_m: String(config.limits.nearby_radius_m),
  });
  const selectedAsset = picker.selected();
  if (selectedAsset) params.set('asset_id', String(selectedAsset.id));
  let data;
  try {
    data = await getJSON(`/api/v1/reports/nearby?${params}`);
  } catch {
    if (ticket === nearbyRequest) section.hidden = true; // offline: no prompt, reporting still works
    return;
  }
  if (ticket !== nearbyRequest) return;
  const features = data.features || [];
  // The selected asset's own open reports first ("follow it instead"), then those nearby.
  const sameAsset = selectedAsset ? features.filter((f) => f.properties.same_asset) : [];
  const others = features.filter((f) => !sameAsset.includes(f));
  section.hidden = features.length === 0;
  section.classList.toggle('has-same-asset', sameAsset.length > 0);
  $('#nearby-asset-lead').hidden = sameAsset.length === 0;
  $('#nearby-asset-lead').textContent = sameAsset.length ? t('nearby.sameAsset', { name: assetLabel(selectedAsset) }) : '';
  $('#nearby-lead').hidden = sameAsset.length > 0 && others.length === 0;
  $('#nearby-list').replaceChildren(...sameAsset.map((f) => nearbyItem(f, true)), ...others.map((f) => nearbyItem(f, false)));
  if (sameAsset.length) announce($('#nearby-asset-lead').textContent);
  else if (features.length) announce(t('nearby.found', { n: features.length }));
}

function nearbyItem(feature, sameAsset) {
  const p = feature.properties;
  const selectedAsset = picker.selected();
  const panelId = `follow-${p.id}`;
  return h('li', { class: `nearby-item${sameAsset ? ' same-asset' : ''}`, dataset: { id: p.id } },
    p.thumb ? h('img', { class: 'nearby-thumb', src: p.thumb, alt: '', width: 64, height: 64,
      loading: 'lazy' }) : null,
    h('p', { class: 'nearby-head' },
      h('strong', { text: p.category_name }), ' ',
      sameAsset
        ? h('span', { class: 'nearby-distance', text: t('nearby.sameAssetBadge', { name: assetLabel(selectedAsset) }) })
        : h('span', { class: 'nearby-distance', text: t('nearby.distance', { distance: formatDistance(p.distance_m) }) })),
    h('p', { class: 'nearby-meta' },
      h('span', { class: `badge status-${p.status}`, text: statusLabel(p.status) }), ' ',
      h('span', { text: t('nearby.since', { date: formatDate(p.created_at) }) })),
    h('button', { type: 'button', class: 'btn btn-secondary follow-report', 'aria-expanded': 'false',
      'aria-controls': panelId, dataset: { id: p.id }, text: t('nearby.follow') }),
    followPanel(p.id, panelId));
}

function followPanel(id, panelId) {
  const emailId = `${panelId}-email`;
  const pushId = `${panelId}-push`;
  const canPush = pushSupported() && config.push_public_key;
  return h('div', { class: 'follow-panel', id: panelId, hidden: true },
    h('p', { class: 'hint', text: t('follow.lead') }),
    h('div', { class: 'field' },
      h('label', { for: emailId, text: t('follow.email') }),
      h('input', { type: 'email', id: emailId, class: 'follow-email', autocomplete: 'email', maxlength: 254 })),
    canPush ? h('div', { class: 'check' },
      h('input', { type: 'checkbox', id: pushId, class: 'follow-push' }),
      h('label', { for: pushId, text: t('follow.push') })) : null,
    h('p', { class: 'field-error follow-error', hidden: true }),
    h('button', { type: 'button', class: 'btn btn-primary follow-confirm', dataset: { id }, text: t('follow.confirm') }));
}

async function onNearbyClick(e) {
  const toggle = e.target.closest('button.follow-report');
  if (toggle) {
    const panel = document.getElementById(toggle.getAttribute('aria-controls'));
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      const email = panel.querySelector('.follow-email');
      if (!email.value) email.value = $('#email').value.trim();
      email.focus();
    }
    return;
  }
  const confirm = e.target.closest('button.follow-confirm');
  if (confirm) await follow(confirm);
}

async function follow(button) {
  const panel = button.closest('.follow-panel');
  const item = button.closest('li');
  const errorEl = panel.querySelector('.follow-error');
  const emailInput = panel.querySelector('.follow-email');
  const email = emailInput.value.trim();
  const wantPush = panel.querySelector('.follow-push')?.checked;
  errorEl.hidden = true;
  emailInput.removeAttribute('aria-invalid');
  const fail = (message, input = null) => {
    errorEl.textContent = message;
    errorEl.hidden = false;
    errorEl.id ||= `${panel.id}-error`;
    if (input) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', errorEl.id); input.focus(); }
    announce(message, { error: true });
  };
  if (email && !emailInput.checkValidity()) return fail(t('errors.email'), emailInput);
  if (!email && !wantPush) return fail(t('follow.needSomething'), emailInput);
  button.disabled = true;
  const body = { email: email || null };
  try {
    if (wantPush) {
      try {
        body.push_subscription = await subscribePush(config.push_public_key);
      } catch (error) {
        if (!email) throw error;
        announce(t(error instanceof PushDenied ? 'push.denied' : 'push.unavailable'));
      }
    }
    await postJSON(`/api/v1/reports/${encodeURIComponent(button.dataset.id)}/followers`, body);
    const done = h('p', { class: 'follow-done', tabindex: '-1', text: t('follow.done') });
    panel.replaceWith(done);
    item.querySelector('.follow-report').remove();
    done.focus();
    announce(t('follow.done'));
  } catch (error) {
    button.disabled = false;
    if (error instanceof PushDenied) fail(t('push.denied'));
    else if (error instanceof ApiError && error.fields.email) fail(t('errors.email'), emailInput);
    else if (error instanceof ApiError) fail(error.message);
    else if (error instanceof TypeError) fail(t('errors.offline'));
    else fail(t('push.unavailable'));
  }
}

// ---------------------------------------------------------------- photos

function pickPhotos(e) {
  const files = [...e.target.files];
  e.target.value = '';
  const room = config.limits.photos - photos.length;
  if (files.length > room) announce(t('photos.tooMany', { n: config.limits.photos }), { error: true });
  const chosen = files.slice(0, Math.max(0, room));
  clearError('photos');
  if (!chosen.length) return;
  announce(t('photos.processing'));
  photoJobs = photoJobs.then(async () => {
    for (const file of chosen) {
      if (photos.length >= config.limits.photos) break;
      const place = await photoLocation(file);
      if (place) offerPhotoLocation(place);
      const prepared = await preparePhoto(file);
      if (prepared.blob.size > config.limits.photo_max_bytes) {
        showError('photos', t('errors.photoTooBig', { name: file.name }));
        continue;
      }
      photos.push({ ...prepared, url: prepared.resized || /^image\/(jpeg|png|webp|gif)$/.test(file.type) ? URL.createObjectURL(prepared.blob) : null });
    }
    renderPhotoPreviews();
    announce(t('photos.count', { n: photos.length }));
  });
}

// "Use the photo's location": offered when a picked photo carries GPS coordinates.
let photoPlace = null; // the first photo's GPS, sent along so staff see a far-away photo

function offerPhotoLocation(place) {
  photoPlace ??= place;
  const button = $('#use-photo-location');
  if (!button) return;
  button.hidden = false;
  button.onclick = () => {
    setLocation(place.lat, place.lon, 'photo');
    announce(t('location.summaryPhoto'));
  };
}

function removePhoto(index) {
  const [removed] = photos.splice(index, 1);
  if (removed?.url) URL.revokeObjectURL(removed.url);
  renderPhotoPreviews();
  announce(t('photos.removed', { n: photos.length }));
  const next = $('#photo-previews button.remove-photo') || $('#photos').labels?.[0] || $('#photos');
  next.focus();
}

function renderPhotoPreviews() {
  $('#photo-previews').replaceChildren(...photos.map((photo, i) => h('li', { class: 'photo-preview' },
    photo.url
      ? h('img', { src: photo.url, alt: t('photos.previewAlt', { n: i + 1 }), width: 96, height: 96 })
      : h('span', { class: 'photo-placeholder', text: photo.name }),
    h('button', { type: 'button', class: 'remove-photo', dataset: { index: i },
      'aria-label': t('photos.remove', { n: i + 1 }) }, h('span', { 'aria-hidden': 'true', text: '×' }),
    h('span', { class: 'remove-text', text: t('photos.removeShort') })))));
  const full = photos.length >= config.limits.photos;
  $('#photos').disabled = full;
  $('#fs-photos .file-label').classList.toggle('is-disabled', full);
}

// ---------------------------------------------------------------- description

function updateCounter() {
  const max = config.limits.description_max;
  const left = max - $('#description').value.length;
  $('#description-counter').textContent = t('details.counter', { n: left });
}

// ---------------------------------------------------------------- errors

const ERROR_TARGETS = {
  'asset-number': () => $('#asset-number'),
  location: () => $('#district'),
  address: () => $('#address'),
  group: () => form().querySelector('input[name="group"]'),
  category: () => form().querySelector('input[name="category"]:checked') || form().querySelector('input[name="category"]'),
  photos: () => $('#photos'),
  description: () => $('#description'),
  email: () => $('#email'),
};
const INVALID_TARGETS = {
  'asset-number': () => [$('#asset-number')],
  location: () => [$('#district')],
  address: () => [$('#address')],
  group: () => [...form().querySelectorAll('input[name="group"]')],
  category: () => [...form().querySelectorAll('input[name="category"]')],
  photos: () => [$('#photos')],
  description: () => [$('#description')],
  email: () => [$('#email')],
};

function showError(field, message) {
  const el = $(`#${field}-error`);
  el.textContent = message;
  el.hidden = false;
  for (const input of INVALID_TARGETS[field]()) {
    input.setAttribute('aria-invalid', 'true');
    const ids = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
    ids.add(`${field}-error`);
    input.setAttribute('aria-describedby', [...ids].join(' '));
  }
}

function clearError(field) {
  const el = $(`#${field}-error`);
  if (!el) return;
  el.hidden = true;
  el.textContent = '';
  for (const input of INVALID_TARGETS[field]()) input.removeAttribute('aria-invalid');
}

function clearAllErrors() { Object.keys(ERROR_TARGETS).forEach(clearError); }

function showErrors(errors) {
  for (const [field, message] of errors) showError(field, message);
  const [first] = errors;
  const target = ERROR_TARGETS[first[0]]();
  (target && !target.disabled ? target : $(`#${first[0]}-error`))?.focus?.();
  announce(errors.length === 1 ? first[1] : t('errors.count', { n: errors.length, first: first[1] }), { error: true });
}

function validate() {
  const errors = [];
  if (!location) errors.push(['location', t('errors.location')]);
  else if (outsideBounds(location.lat, location.lon)) errors.push(['location', t('errors.outside')]);
  if (!form().querySelector('input[name="group"]:checked')) errors.push(['group', t('errors.group')]);
  else if (!selectedCategory()) errors.push(['category', t('errors.category')]);
  const description = $('#description').value.trim();
  if (!description) errors.push(['description', t('errors.description')]);
  else if (description.length > config.limits.description_max) errors.push(['description', t('errors.descriptionLong', { n: config.limits.description_max })]);
  const email = $('#email');
  if (email.value.trim() && !email.checkValidity()) errors.push(['email', t('errors.email')]);
  return errors;
}

/** Server answer → errors at the fields. */
function serverErrors(error) {
  if (error.code === 'outside_service_area') return [['location', t('errors.outside')]];
  if (error.status === 413) return [['photos', t('errors.photoTooBig', { name: '' })]];
  if (error.status === 415) return [['photos', t('errors.photoType')]];
  const map = { lat: 'location', lon: 'location', location_source: 'location', category: 'category',
    description: 'description', email: 'email', address: 'address', photos: 'photos', asset_id: 'asset-number' };
  const errors = [];
  const seen = new Set();
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const field = map[name];
    if (!field || seen.has(field)) continue;
    seen.add(field);
    const text = Array.isArray(messages) ? messages.join(' ') : String(messages);
    errors.push([field, `${t(`errors.${field === 'category' ? 'category' : field}`)} (${text})`]);
  }
  if (!errors.length) errors.push(['description', t('errors.server', { message: error.message })]);
  const order = Object.keys(ERROR_TARGETS);
  return errors.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
}

// ---------------------------------------------------------------- submit

export const foreground = new Set(); // outbox keys whose result this form shows itself

async function submit(event) {
  event.preventDefault();
  clearAllErrors();
  await photoJobs;
  const errors = validate();
  if (errors.length) { showErrors(errors); return; }
  const button = $('#submit-report');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = t('submit.sending');
  announce(t('submit.sending'));
  const fields = {
    category: selectedCategory(),
    lat: location.lat.toFixed(6),
    lon: location.lon.toFixed(6),
    description: $('#description').value.trim(),
    address: $('#address').value.trim() || null,
    email: $('#email').value.trim() || null,
    location_source: location.source,
    asset_id: picker.selected()?.id ?? null, // the server snaps the point to it
    ...(photoPlace ? { photo_lat: photoPlace.lat, photo_lon: photoPlace.lon } : {}),
  };
  const record = outbox.createRecord(fields, photos.map(({ blob, name }) => ({ blob, name })), getLang());
  foreground.add(record.key);
  let result;
  try {
    await outbox.put(record); // stored BEFORE sending: a crash or lost answer cannot lose it
    await outbox.flush();
    result = outbox.resultFor(record.key) || await sentElsewhere(record.key);
    if (result.outcome === 'failed') await outbox.remove(record.key); // the form shows why
  } catch {
    result = await outbox.send(record); // no IndexedDB (private mode): send directly
    if (result.outcome === 'sent') outbox.events.dispatchEvent(new CustomEvent('sent', { detail: { record, ...result } }));
  } finally {
    foreground.delete(record.key);
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = t('submit');
  }
  if (result.outcome === 'sent') {
    showConfirmation(result.data);
  } else if (result.outcome === 'kept') {
    outbox.registerSync();
    showConfirmation(null);
  } else {
    showErrors(serverErrors(result.error));
  }
}

// Sent by another tab or by the service worker in the meantime, or still waiting.
async function sentElsewhere(key) {
  const waiting = (await outbox.all()).find((r) => r.key === key);
  if (waiting) return waiting.failed ? { outcome: 'failed', error: new ApiError(waiting.failed.status, { error: waiting.failed }) } : { outcome: 'kept' };
  const mine = await myReportByKey(key);
  return { outcome: 'sent', data: mine && { id: mine.id, tracking_token: mine.token, department: mine.department, district: mine.district } };
}

function showConfirmation(data) {
  lastCreated = data;
  form().hidden = true;
  fillConfirmation(data);
  const section = $('#confirmation');
  section.hidden = false;
  section.focus();
  announce($('#confirmation-title').textContent);
  resetForm();
}

function fillConfirmation(data) {
  const sent = Boolean(data);
  $('#confirmation-title').textContent = t(sent ? 'confirm.title' : 'confirm.queuedTitle');
  $('#confirmation-sent').hidden = !sent;
  $('#confirmation-queued').hidden = sent;
  $('#push-result').textContent = '';
  if (!sent) return;
  $('#confirmation-id').textContent = data.id;
  $('#confirmation-department').textContent = data.department?.name || '–';
  $('#confirmation-district').textContent = data.district ? `${data.district.number} ${data.district.name}` : '–';
  $('#enable-push').hidden = !(pushSupported() && config.push_public_key && data.tracking_token);
  $('#enable-push').disabled = false;
}

async function enablePush() {
  const button = $('#enable-push');
  const result = $('#push-result');
  if (!lastCreated?.tracking_token) return;
  button.disabled = true;
  try {
    const subscription = await subscribePush(config.push_public_key);
    await postJSON(`/api/v1/track/${encodeURIComponent(lastCreated.tracking_token)}/push-subscriptions`, subscription);
    result.textContent = t('push.enabled');
    button.hidden = true;
  } catch (error) {
    button.disabled = false;
    result.textContent = t(error instanceof PushDenied ? 'push.denied' : error instanceof TypeError ? 'errors.offline' : 'push.unavailable');
  }
}

function resetForm() {
  form().reset();
  photoPlace = null;
  $('#use-photo-location').hidden = true;
  photos.forEach((p) => p.url && URL.revokeObjectURL(p.url));
  photos = [];
  location = null;
  if (pin) { pin.remove(); pin = null; }
  $('#fs-category').hidden = true;
  $('#category-options').replaceChildren();
  $('#nearby').hidden = true;
  $('#nearby-list').replaceChildren();
  picker.reset();
  clearAllErrors();
  renderTexts();
}

function newReport() {
  $('#confirmation').hidden = true;
  form().hidden = false;
  lastCreated = null;
  if (map) {
    map.invalidateSize();
    map.setView(config.map.center, config.map.zoom + 2, { animate: false });
  }
  $('#report-title').focus();
}

