// The public map of open reports: clustered markers coloured by status, a list of the same
// reports (keyboard and screen readers), and a detail panel.
import { t, formatDate, statusLabel } from './i18n.js';
import { getJSON, localUrl } from './api.js';
import { h, $, announce, addBaseLayers } from './dom.js';

let config = null;
let map = null;
let cluster = null;
let features = [];
let loadTimer = null;
let loadTicket = 0;
let bound = false;
let currentDetail = null;
let onNavigate = () => {};

export function initMap(appConfig, navigate) {
  config = appConfig;
  onNavigate = navigate;
  if (bound) return;
  bound = true;
  $('#map-list').addEventListener('click', (e) => {
    const button = e.target.closest('button.map-report');
    if (button) onNavigate(`/reports/${button.dataset.id}`);
  });
  $('#close-detail').addEventListener('click', () => onNavigate('/map'));
}

export function showMap() {
  ensureMap();
  if (map) setTimeout(() => { map.invalidateSize(); scheduleLoad(); }, 0);
  else scheduleLoad();
}

export function relocalizeMap() {
  renderList();
  if (map) scheduleLoad();
  if (currentDetail) openDetail(currentDetail, { focus: false });
}

function ensureMap() {
  if (map) return;
  if (!window.L) { $('#public-map').hidden = true; return; }
  const m = config.map;
  map = L.map('public-map', { center: m.center, zoom: m.zoom, minZoom: 10, maxZoom: 19 });
  addBaseLayers(map, m, $('#public-map'));
  cluster = L.markerClusterGroup
    ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50, animate: !reducedMotion() })
    : L.layerGroup();
  map.addLayer(cluster);
  map.on('moveend', scheduleLoad);
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

function scheduleLoad() {
  clearTimeout(loadTimer);
  loadTimer = setTimeout(load, 250);
}

async function load() {
  let bbox;
  if (map) {
    const b = map.getBounds();
    bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  } else {
    bbox = config.map.bounds || [11.36, 48.06, 11.73, 48.25];
  }
  const ticket = ++loadTicket;
  const box = bbox.map((x) => x.toFixed(5)).join(',');
  const open = new URLSearchParams({ bbox: box, status: 'open', limit: '500' });
  // Recently fixed reports too (last 30 days), so people see that reporting works.
  const since = new Date(Date.now() - 30 * 86400e3).toISOString();
  const fixed = new URLSearchParams({ bbox: box, status: 'resolved,closed', updated_after: since, limit: '200' });
  try {
    const [openData, fixedData] = await Promise.all([
      getJSON(`/api/v1/reports?${open}`), getJSON(`/api/v1/reports?${fixed}`)]);
    if (ticket !== loadTicket) return;
    features = [...(openData.features || []), ...(fixedData.features || [])];
  } catch {
    if (ticket === loadTicket) announce(t('map.loadFailed'), { error: true });
    return;
  }
  renderMarkers();
  renderList();
}

function renderMarkers() {
  if (!cluster) return;
  cluster.clearLayers();
  const markers = features.map((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const p = f.properties;
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({ className: `report-marker status-${p.status}`, html: '<span></span>', iconSize: [28, 28], iconAnchor: [14, 14] }),
      title: `${p.category_name} – ${statusLabel(p.status)}`,
      alt: `${p.category_name} – ${statusLabel(p.status)}`,
      keyboard: false, // the list below is the keyboard path
    });
    marker.on('click', () => onNavigate(`/reports/${p.id}`));
    return marker;
  });
  if (cluster.addLayers) cluster.addLayers(markers);
  else markers.forEach((m) => cluster.addLayer(m));
}

function renderList() {
  $('#map-list-summary').textContent = t('map.listSummary', { n: features.length });
  $('#map-list').replaceChildren(...features.map((f) => {
    const p = f.properties;
    return h('li', {}, h('button', { type: 'button', class: 'map-report', dataset: { id: p.id } },
      h('span', { class: `dot status-${p.status}`, 'aria-hidden': 'true' }),
      h('span', { class: 'map-report-text' },
        h('strong', { text: p.category_name }),
        h('span', { class: 'hint', text: `${statusLabel(p.status)} · ${formatDate(p.created_at)}` }))));
  }));
}

export async function openDetail(id, { focus = true } = {}) {
  currentDetail = id;
  const section = $('#report-detail');
  let data;
  try {
    data = await getJSON(`/api/v1/reports/${encodeURIComponent(id)}`);
  } catch (error) {
    announce(error instanceof TypeError ? t('errors.offline') : t('detail.notFound'), { error: true });
    return;
  }
  if (currentDetail !== id) return;
  $('#detail-title').textContent = data.category?.name || data.id;
  const badge = $('#detail-status');
  badge.className = `badge status-${data.status}`;
  badge.textContent = statusLabel(data.status);
  $('#detail-meta').textContent = [
    `${t('mine.id')} ${data.id}`,
    data.district ? `${data.district.number} ${data.district.name}` : null,
    formatDate(data.created_at),
  ].filter(Boolean).join(' · ');
  $('#detail-address').textContent = data.address || '';
  $('#detail-address').hidden = !data.address;
  $('#detail-description').textContent = data.description || '';
  const alt = (i) => t('detail.photoAlt', { n: i + 1, category: data.category?.name || '' });
  $('#detail-photos').replaceChildren(...(data.photos || []).filter((p) => p.display).map((p, i) =>
    h('picture', {},
      p.display.webp ? h('source', { type: 'image/webp', srcset: localUrl(p.display.webp) }) : null,
      h('img', { src: localUrl(p.display.jpeg), alt: alt(i), width: p.display.width, height: p.display.height, loading: 'lazy', decoding: 'async' }))));
  $('#detail-history').replaceChildren(...(data.history || []).map((event) => h('li', {},
    h('time', { datetime: event.at, text: formatDate(event.at) }), ' – ',
    h('strong', { text: statusLabel(event.status) }),
    event.note ? h('span', { text: `: ${event.note}` }) : null)));
  section.hidden = false;
  if (map && data.location) map.setView([data.location.lat, data.location.lon], Math.max(map.getZoom(), 15), { animate: !reducedMotion() });
  if (focus) section.focus();
}

export function closeDetail() {
  currentDetail = null;
  $('#report-detail').hidden = true;
}
