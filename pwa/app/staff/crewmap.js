// The crew map: the queue as clustered markers, coloured by priority with a ring for the status
// (the list next to it is the keyboard and screen-reader path, so markers take no focus).
import { $, addBaseLayers, escapeHtml } from '../dom.js';
import { statusLabel } from '../i18n.js';
import { priorityLabel } from './labels.js';
import { PRIORITIES } from './queue.js';
import { assetLayer, assetsAvailable, ALL_TYPES } from '../assets.js';

let map = null;
let cluster = null;
let openReport = () => {};
let assets = null; // the asset layer (every asset type), shown when switched on
let assetsOn = false;

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

/** Create the map once (its container must be visible); null when Leaflet did not load. */
export function ensureCrewMap(config, { onMove, onOpen }) {
  if (map) return map;
  if (!window.L) { $('#crew-map-wrap').hidden = true; return null; }
  const m = config.map;
  map = L.map('crew-map', { center: m.center, zoom: m.zoom, minZoom: 10, maxZoom: 19 });
  addBaseLayers(map, m, $('#crew-map'));
  cluster = L.markerClusterGroup
    ? L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 45, animate: !reducedMotion(),
      iconCreateFunction: clusterIcon,
    })
    : L.layerGroup();
  map.addLayer(cluster);
  map.on('moveend', onMove);
  openReport = onOpen;
  // Assets sit under the reports and take no taps: they show where the signals are.
  assets = assetLayer(map, { probePoint: m.center, getGroup: () => (assetsOn ? ALL_TYPES : null), markerClass: 'asset-marker crew-asset' });
  return map;
}

/** Whether this city has assets to show (the asset API answers with some). */
export const crewAssetsAvailable = (config) => assetsAvailable(ALL_TYPES, config.map.center);

/** Show or hide the asset layer (from street zoom on). */
export function showAssets(on) {
  assetsOn = on;
  assets?.loadNow();
}

// A cluster takes the colour of the most urgent report inside it.
function clusterIcon(group) {
  const ranks = group.getAllChildMarkers().map((marker) => PRIORITIES.indexOf(marker.options.priority));
  const best = PRIORITIES[Math.min(...ranks.filter((r) => r >= 0), PRIORITIES.length - 1)];
  return L.divIcon({
    className: `crew-cluster prio-${best}`, html: `<span>${group.getChildCount()}</span>`,
    iconSize: [44, 44], iconAnchor: [22, 22],
  });
}

/** The visible area as [west, south, east, north], or null without a map. */
export function mapBounds() {
  if (!map) return null;
  const size = map.getSize();
  if (!size.x || !size.y) return null; // hidden: no meaningful view
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}

export function mapCenter() {
  if (!map) return null;
  const c = map.getCenter();
  return { lat: c.lat, lon: c.lng };
}

export function refreshSize() { if (map) map.invalidateSize(); }

/** Show the whole queue (at most street level); false when there is nothing to show. */
export function fitTo(features) {
  if (!map || !features.length) return false;
  const points = features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
  map.fitBounds(L.latLngBounds(points), { padding: [30, 30], maxZoom: 16, animate: false });
  return true;
}

export function setMarkers(features) {
  if (!cluster) return;
  cluster.clearLayers();
  const markers = features.map((feature) => {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const title = `${p.category?.name || ''} – ${priorityLabel(p.priority)} – ${statusLabel(p.status)}`;
    const classes = ['crew-marker', `prio-${p.priority}`, `st-${p.status}`, p.overdue ? 'is-overdue' : ''].join(' ');
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({
        className: classes, html: `<span data-id="${escapeHtml(p.id)}"></span>`,
        iconSize: [44, 44], iconAnchor: [22, 22],
      }),
      title, alt: title, keyboard: false, priority: p.priority,
    });
    marker.on('click', () => openReport(p.id));
    return marker;
  });
  if (cluster.addLayers) cluster.addLayers(markers);
  else markers.forEach((marker) => cluster.addLayer(marker));
}
