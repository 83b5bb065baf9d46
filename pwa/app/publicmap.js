// The public map of open and recently fixed reports. Zoomed out (below DETAIL_ZOOM) it shows
// the server's counts per grid cell (GET /api/v1/reports/clusters) instead of hundreds of pins;
// from street level on, the reports themselves as markers coloured by status (clustered on the
// client). Below the map a list of reports (the keyboard and screen-reader path) and a detail
// panel.
import { t, formatDate, formatNumber, statusLabel, isOverdue } from './i18n.js';
import { getJSON } from './api.js';
import { reportPictures, reportOutcome } from './reportpictures.js';
import { h, $, announce, addBaseLayers, escapeHtml } from './dom.js';

// From this zoom level on the map shows individual reports; below it, server clusters.
export const DETAIL_ZOOM = 15;
// Zoomed out, the list holds the newest open reports in view, at most this many.
const LIST_LIMIT = 100;
// The zoom levels the cluster endpoint answers for.
const CLUSTER_ZOOMS = [3, 16];
const FIXED_STATUSES = 'resolved,closed';
const FIXED_DAYS = 30;

let config = null;
let map = null;
let cluster = null; // the report markers (detail zoom)
let aggregates = null; // the server's cluster markers (zoomed out)
let features = []; // the reports in the list (and, at detail zoom, on the map)
let openTotal = null; // zoomed out: the open reports in view, from the cluster answer
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
  aggregates = L.layerGroup();
  map.addLayer(cluster);
  map.addLayer(aggregates);
  map.on('moveend', scheduleLoad);
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

function scheduleLoad() {
  clearTimeout(loadTimer);
  loadTimer = setTimeout(load, 250);
}

/** Recently fixed = changed since the start of the UTC day 30 days ago: the same value all
 * day long and for every client, so the answers can be revalidated and shared. */
function fixedSince() {
  const day = new Date(Date.now() - FIXED_DAYS * 86400e3).toISOString().slice(0, 10);
  return `${day}T00:00:00Z`;
}

const query = (params) => new URLSearchParams(params).toString();

// The server's grid: square cells CELL_PX wide on screen at each zoom (Web Mercator, 256 px
// tiles), see geo/map_grid.py.
const CELL_PX = 64;
const MAX_LAT = 85.05112878;

/** The box `bbox` grown to the edges of the grid cells it touches at `zoom` (a hair inside,
 * so the server sees the same cells): the cluster counts and the list then cover the same
 * ground, and views a few pixels apart ask the same question (one cached answer). */
function cellBox([minLon, minLat, maxLon, maxLat], zoom) {
  const n = 2 ** zoom * (256 / CELL_PX);
  const clampLat = (lat) => Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const col = (lon) => Math.min(n - 1, Math.max(0, Math.floor((lon + 180) / 360 * n)));
  const row = (lat) => {
    const r = clampLat(lat) * Math.PI / 180;
    return Math.min(n - 1, Math.max(0, Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n)));
  };
  const lonOf = (x) => x / n * 360 - 180;
  const latOf = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI;
  const inset = 2e-6; // degrees, far below a cell (0.005° at zoom 16), above the rounding
  const x0 = col(minLon); const x1 = col(maxLon);
  const y0 = row(maxLat); const y1 = row(minLat);
  return [lonOf(x0) + inset, latOf(y1 + 1) + inset, lonOf(x1 + 1) - inset, latOf(y0) - inset];
}

async function load() {
  let bbox;
  let zoom;
  if (map) {
    const b = map.getBounds();
    bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    zoom = Math.round(map.getZoom());
  } else {
    bbox = config.map.bounds || [11.36, 48.06, 11.73, 48.25];
    zoom = config.map.zoom;
  }
  const ticket = ++loadTicket;
  const since = fixedSince();
  const detailed = zoom >= DETAIL_ZOOM;
  let next;
  try {
    if (detailed) {
      next = await loadReports(bbox.map((x) => x.toFixed(5)).join(','), since);
    } else {
      const z = Math.min(CLUSTER_ZOOMS[1], Math.max(CLUSTER_ZOOMS[0], zoom));
      next = await loadClusters(cellBox(bbox, z).map((x) => x.toFixed(6)).join(','), since, z);
    }
  } catch {
    if (ticket === loadTicket) announce(t('map.loadFailed'), { error: true });
    return;
  }
  if (ticket !== loadTicket) return; // a newer view is loading
  features = next.features;
  openTotal = next.openTotal;
  // What the map shows now (styles and tests can tell): 'clusters' or 'reports', at which zoom.
  if (map) Object.assign($('#public-map').dataset, { mode: detailed ? 'reports' : 'clusters', zoom: String(zoom) });
  renderAggregates(next.clusters);
  renderMarkers(detailed ? features : []);
  renderList();
}

/** Street level: the open reports and the recently fixed ones, each as a marker. */
async function loadReports(box, since) {
  const open = query({ bbox: box, status: 'open', limit: '500' });
  // Recently fixed reports too, so people see that reporting works.
  const fixed = query({ bbox: box, status: FIXED_STATUSES, updated_after: since, limit: '200' });
  const [openData, fixedData] = await Promise.all([
    getJSON(`/api/v1/reports?${open}`), getJSON(`/api/v1/reports?${fixed}`)]);
  return { features: [...(openData.features || []), ...(fixedData.features || [])], openTotal: null, clusters: [] };
}

/** Zoomed out: counts per cell for open and for recently fixed reports, and the newest open
 * reports in the same cells for the list. */
async function loadClusters(box, since, zoom) {
  const z = String(zoom);
  const openCells = query({ bbox: box, zoom: z, status: 'open' });
  const fixedCells = query({ bbox: box, zoom: z, status: FIXED_STATUSES, updated_after: since });
  const newest = query({ bbox: box, status: 'open', limit: String(LIST_LIMIT) });
  const [openData, fixedData, listData] = await Promise.all([
    getJSON(`/api/v1/reports/clusters?${openCells}`),
    // Without a map (Leaflet missing) only the list and its total are shown.
    map ? getJSON(`/api/v1/reports/clusters?${fixedCells}`) : { features: [] },
    getJSON(`/api/v1/reports?${newest}`)]);
  return {
    features: listData.features || [],
    openTotal: openData.total ?? 0,
    clusters: [
      ...(fixedData.features || []).map((f) => ({ kind: 'fixed', feature: f })),
      ...(openData.features || []).map((f) => ({ kind: 'open', feature: f })),
    ],
  };
}

function renderMarkers(shown) {
  if (!cluster) return;
  cluster.clearLayers();
  const now = Date.now();
  const markers = shown.map((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const p = f.properties;
    // Overdue: an exclamation mark on the marker and the word in its name (not colour alone).
    const overdue = isOverdue(p, now);
    const name = [`${p.category_name} – ${statusLabel(p.status)}`, overdue ? t('map.overdue') : null,
      p.approximate ? `(${t('detail.approximate')})` : null].filter(Boolean).join(' ');
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({ className: `report-marker status-${p.status}${overdue ? ' is-overdue' : ''}`, html: overdue ? '<span>!</span>' : '<span></span>', iconSize: [28, 28], iconAnchor: [14, 14] }),
      title: name,
      alt: name,
      keyboard: false, // the list below is the keyboard path
    });
    marker.on('click', () => onNavigate(`/reports/${p.id}`));
    return marker;
  });
  if (cluster.addLayers) cluster.addLayers(markers);
  else markers.forEach((m) => cluster.addLayer(m));
}

// Open cells in the status colour of open work, centred on their spot; fixed ones in the
// colour of "resolved", with a check mark (app.css), to the right of their spot and a little
// lower, drawn on top: the two differ without colour, and where both fall into one cell the
// fixed one covers neither the open one's number nor its centre (where a tap lands).
const CLUSTER_LOOK = {
  open: { className: 'status-acknowledged', text: 'map.clusterOpen', anchor: (size) => [size / 2, size / 2], z: 0 },
  fixed: { className: 'status-resolved', text: 'map.clusterFixed', anchor: (size) => [-14, size / 2 - 10], z: 1000 },
};

const clusterSize = (count) => (count < 10 ? 34 : count < 100 ? 40 : count < 1000 ? 48 : 56);

function renderAggregates(clusters) {
  if (!aggregates) return;
  aggregates.clearLayers();
  for (const { kind, feature } of clusters) {
    const [lon, lat] = feature.geometry.coordinates;
    const { count, bbox } = feature.properties;
    const look = CLUSTER_LOOK[kind];
    const label = t(look.text, { n: count });
    const size = clusterSize(count);
    const anchor = look.anchor(size);
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({
        className: `report-cluster report-cluster-${kind} ${look.className}`,
        html: `<span role="img" aria-label="${escapeHtml(label)}">${escapeHtml(formatNumber(count))}</span>`,
        iconSize: [size, size],
        iconAnchor: anchor,
      }),
      title: label,
      alt: label,
      keyboard: false, // the list below is the keyboard path
      zIndexOffset: look.z,
    });
    marker.on('click', () => {
      const [minLon, minLat, maxLon, maxLat] = bbox;
      map.fitBounds([[minLat, minLon], [maxLat, maxLon]], { animate: !reducedMotion() });
    });
    aggregates.addLayer(marker);
  }
}

function listSummary() {
  if (openTotal == null) return t('map.listSummary', { n: features.length });
  if (openTotal > features.length) return t('map.listSummaryNewest', { n: openTotal, shown: features.length });
  return t('map.listSummaryOpen', { n: features.length });
}

function renderList() {
  $('#map-list-summary').textContent = listSummary();
  const now = Date.now();
  $('#map-list').replaceChildren(...features.map((f) => {
    const p = f.properties;
    const overdue = isOverdue(p, now);
    return h('li', {}, h('button', { type: 'button', class: `map-report${overdue ? ' is-overdue' : ''}`, dataset: { id: p.id } },
      h('span', { class: `dot status-${p.status}`, 'aria-hidden': 'true' }),
      h('span', { class: 'map-report-text' },
        h('strong', { text: p.category_name }),
        h('span', { class: 'hint', text: [statusLabel(p.status), overdue ? t('map.overdue') : null,
          formatDate(p.created_at), p.approximate ? t('detail.approximate') : null].filter(Boolean).join(' · ') }))));
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
    // Placed only by district: the pin is the district's, the address says where.
    data.approximate ? t('detail.approximate') : null,
  ].filter(Boolean).join(' · ');
  $('#detail-address').textContent = data.address || '';
  $('#detail-address').hidden = !data.address;
  $('#detail-description').textContent = data.description || '';
  // How it ended, or when it is expected fixed (overdue said in words), after the description.
  $('#detail-outcome')?.remove();
  $('#detail-description').after(h('div', { id: 'detail-outcome' }, ...reportOutcome(data)));
  $('#detail-photos').replaceChildren(...reportPictures(data));
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
