// Where the report is: GPS ("locate me"), a tap or the dragged pin on the report map, a
// photo's GPS, an address found by the address search, or a district (the map-free path,
// approximate); the summary of the choice, the check against
// the city's bounds. This module owns the location; the form reads it when it validates and sends.
import { t, formatNumber } from './i18n.js';
import { getJSON } from './api.js';
import { h, $, announce, addBaseLayers } from './dom.js';
import { assetLabel } from './assets.js';
import * as picker from './assetpicker.js';
import { showError, clearError } from './formerrors.js';
import { initPlaceSearch, resetPlaceSearch } from './placesearch.js';

let config = null;
let onMoved = () => {}; // the form's "the point changed" (looks for reports nearby)
let districts = [];
let map = null;
let pin = null;

// {lat, lon, source: 'gps'|'map'|'photo'|'address'|'district', accuracy?, district?, label?}
let location = null;

/** Bind "locate me" and the district choice; `hooks.onMoved` runs whenever the point changes. */
export function initReportLocation(appConfig, hooks) {
  config = appConfig;
  onMoved = hooks.onMoved;
  $('#locate-me').addEventListener('click', locateMe);
  $('#district').addEventListener('change', chooseDistrict);
  initPlaceSearch({ onChoose: choosePlace });
}

// An address from the search: an exact point (not approximate), the duplicate check and the
// nearest assets follow it; its label becomes the address if none was typed.
function choosePlace(place) {
  setLocation(place.lat, place.lon, 'address', { district: place.district.number, label: place.label });
  const address = $('#address');
  if (!address.value.trim()) address.value = place.label;
}

/** The chosen location, or null. */
export const currentLocation = () => location;

/** The view became visible: create the map (it needs a visible container) and fit it. */
export function showLocationMap() {
  ensureMap();
  if (map) setTimeout(() => map.invalidateSize(), 0);
}

/** After a language switch: the pin's text. */
export function relocalizeLocation() {
  if (pin) pin.getElement()?.setAttribute('alt', t('location.pinTitle'));
}

/** A new, empty form: no location, no pin. */
export function resetLocation() {
  location = null;
  if (pin) { pin.remove(); pin = null; }
  resetPlaceSearch();
}

/** Back to the city's overview (a new report after the confirmation). */
export function recenterMap() {
  if (map) {
    map.invalidateSize();
    map.setView(config.map.center, config.map.zoom + 2, { animate: false });
  }
}

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

/** Set the location (and the pin, the summary, the chosen asset) and look again for reports nearby. */
export function setLocation(lat, lon, source, { accuracy = null, moveMap = true, district = null, asset = null, label = null } = {}) {
  location = { lat, lon, source, accuracy, district, label };
  if (asset) picker.setSelected(asset);
  else if (picker.selected()) picker.setSelected(null); // a point chosen otherwise: no longer that asset
  if (moveMap || !pin) placePin(lat, lon, source === 'district' ? 15 : undefined);
  clearError('location');
  if (outsideBounds(lat, lon)) showError('location', t('errors.outside'));
  renderLocationSummary();
  onMoved();
  picker.refreshList(location);
}

/** Whether the point lies outside the city (config.map.bounds). */
export function outsideBounds(lat, lon) {
  const b = config.map.bounds;
  return Array.isArray(b) && (lon < b[0] || lat < b[1] || lon > b[2] || lat > b[3]);
}

/** The summary under the location choices: how the point was chosen. */
export function renderLocationSummary() {
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
  } else if (location.source === 'address') {
    el.textContent = t('location.summaryAddress', { label: location.label });
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

/** Load the districts into the district choice, keeping the current choice. */
export async function loadDistricts() {
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
