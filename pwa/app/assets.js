// Assets (traffic signals, sign posts) of a category group: the asset API, a clustered layer of
// them on a Leaflet map from street zoom on, and how one is named. Used by the citizen's report
// form and the crew map. The layer loads the view in z16 map tiles (one cached answer per tile
// and group, shared with the browser's and the service worker's caches); a move aborts what the
// previous view still waited for.
import { t, acceptLanguage } from './i18n.js';
import { escapeHtml } from './dom.js';

export const ASSET_ZOOM = 16;
/** As a group: every asset type (the crew map). */
export const ALL_TYPES = '*';
const kindParams = (group) => (group === ALL_TYPES ? {} : { group });
const TILE_ZOOM = 16;
const MAX_TILES = 30; // a desktop screen at z16; more would be a zoomed-out view
const MAX_CACHED_TILES = 400;
const MOVE_DEBOUNCE_MS = 250;

const supported = new Map(); // group → true/false (the API answers for it)
const tiles = new Map(); // `${group}/${x}/${y}` → {features, attribution}

async function fetchJSON(path, signal) {
  const response = await fetch(path, {
    headers: { Accept: 'application/json', 'Accept-Language': acceptLanguage() }, credentials: 'same-origin', signal,
  });
  if (!response.ok) {
    const error = new Error(`${path}: ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** Whether assets can be shown for `group`: the asset API exists and the group has an asset
 * type (a 4xx answer: no). Asked once per group; offline it is asked again next time. */
export async function assetsAvailable(group, near) {
  if (!group) return false;
  if (supported.has(group)) return supported.get(group);
  // An asset within the API's largest radius of the city's middle: none means the group's type
  // has no layer here (the demo's sign posts), so nothing about assets is shown for it.
  const params = new URLSearchParams({ lat: near[0].toFixed(4), lon: near[1].toFixed(4), ...kindParams(group), max_distance_m: '2000' });
  let found;
  try {
    found = Boolean((await fetchJSON(`/api/v1/assets/nearest?${params}`)).asset);
  } catch (error) {
    if (error.status) supported.set(group, false); // no asset API, or no asset type for the group
    return false;
  }
  supported.set(group, found);
  return found;
}

export async function nearestAsset(group, lat, lon, maxDistance = 500) {
  const params = new URLSearchParams({ lat: lat.toFixed(6), lon: lon.toFixed(6), group, max_distance_m: String(maxDistance) });
  return (await fetchJSON(`/api/v1/assets/nearest?${params}`)).asset || null;
}

export async function lookupAssets(group, number) {
  const params = new URLSearchParams({ number, group });
  return (await fetchJSON(`/api/v1/assets/lookup?${params}`)).assets || [];
}

// ---------------------------------------------------------------- tiles

const tileX = (lon, z) => Math.floor((lon + 180) / 360 * 2 ** z);
const tileY = (lat, z) => {
  const r = lat * Math.PI / 180;
  return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * 2 ** z);
};
const tileLon = (x, z) => x / 2 ** z * 360 - 180;
const tileLat = (y, z) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / 2 ** z))) * 180 / Math.PI;

/** The z16 tiles covering [west, south, east, north], each with its own bbox. */
export function tilesFor([w, s, e, n]) {
  const out = [];
  for (let x = tileX(w, TILE_ZOOM); x <= tileX(e, TILE_ZOOM); x += 1) {
    for (let y = tileY(n, TILE_ZOOM); y <= tileY(s, TILE_ZOOM); y += 1) {
      out.push({ x, y, bbox: [tileLon(x, TILE_ZOOM), tileLat(y + 1, TILE_ZOOM), tileLon(x + 1, TILE_ZOOM), tileLat(y, TILE_ZOOM)] });
    }
  }
  return out;
}

async function loadTile(group, tile, signal) {
  const key = `${group}/${tile.x}/${tile.y}`;
  if (tiles.has(key)) return tiles.get(key);
  const bbox = tile.bbox.map((v) => v.toFixed(6)).join(',');
  const data = await fetchJSON(`/api/v1/assets?${new URLSearchParams({ bbox, ...kindParams(group) })}`, signal);
  // `attribution`: [{layer, text, licence}] (a plain text is taken too).
  const attribution = Array.isArray(data.attribution)
    ? data.attribution.map((a) => a.text).filter(Boolean) : [data.attribution].filter(Boolean);
  const entry = { features: data.features || [], attribution };
  tiles.set(key, entry);
  if (tiles.size > MAX_CACHED_TILES) tiles.delete(tiles.keys().next().value);
  return entry;
}

/** The assets of `group` in the box (several tiles), de-duplicated, with the attributions. */
export async function assetsIn(group, bounds, signal) {
  const wanted = tilesFor(bounds);
  if (wanted.length > MAX_TILES) return null;
  const answers = await Promise.all(wanted.map((tile) => loadTile(group, tile, signal)));
  const byId = new Map();
  for (const answer of answers) for (const f of answer.features) byId.set(f.id, f);
  const attributions = [...new Set(answers.flatMap((a) => a.attribution))];
  return { features: [...byId.values()], attributions };
}

// ---------------------------------------------------------------- names

/** "Ampel 4711" / "Ampel Sendlinger Tor" / "Ampel (OSM node/128226)". */
export function assetLabel(asset) {
  const type = asset.type || asset.properties?.type;
  const noun = t(`asset.type.${type}`) || t('asset.type.other'); // a type without a text of its own
  const p = asset.properties || asset;
  if (p.number && p.name) return `${noun} ${p.number} (${p.name})`;
  if (p.number || p.name) return `${noun} ${p.number || p.name}`;
  return t('asset.unnamed', { type: noun, id: asset.external_id || asset.id });
}

/** A feature of the layer as an AssetRef-like object (what the form keeps). */
export function featureAsset(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const p = feature.properties || {};
  return { id: feature.id, layer: p.layer, type: p.type, name: p.name ?? null, number: p.number ?? null,
    external_id: p.external_id ?? null, location: { lat, lon } };
}

// ---------------------------------------------------------------- the map layer

/**
 * A clustered asset layer on `map` for the group `getGroup()` returns, shown from ASSET_ZOOM on.
 * `onPick(asset)` is called when a marker is tapped; `onLoad(features)` after each load.
 */
export function assetLayer(map, { probePoint, getGroup, onPick = null, onLoad = () => {}, markerClass = 'asset-marker' }) {
  const cluster = L.markerClusterGroup
    ? L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 40, disableClusteringAtZoom: 19,
      animate: !window.matchMedia('(prefers-reduced-motion: reduce)').matches,
      iconCreateFunction: (group) => L.divIcon({
        className: 'asset-cluster', html: `<span>${group.getChildCount()}</span>`, iconSize: [36, 36], iconAnchor: [18, 18],
      }),
    })
    : L.layerGroup();
  map.addLayer(cluster);
  let timer = null;
  let controller = null;
  let shownAttributions = [];
  let selectedId = null;
  let enabled = true;
  let features = [];

  const setAttributions = (next) => {
    for (const a of shownAttributions) if (!next.includes(a)) map.attributionControl?.removeAttribution(escapeHtml(a));
    for (const a of next) if (!shownAttributions.includes(a)) map.attributionControl?.addAttribution(escapeHtml(a));
    shownAttributions = next;
  };

  const render = () => {
    cluster.clearLayers();
    const markers = features.map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const label = assetLabel(featureAsset(f));
      const selected = f.id === selectedId;
      const marker = L.marker([lat, lon], {
        icon: L.divIcon({ className: `${markerClass}${selected ? ' is-selected' : ''}`, html: `<span data-id="${escapeHtml(f.id)}"></span>`,
          iconSize: [30, 30], iconAnchor: [15, 15] }),
        // The list of the nearest assets is the keyboard and screen-reader path: hundreds of
        // markers in the tab order would bury the form.
        title: label, alt: label, keyboard: false, zIndexOffset: selected ? 1000 : 0,
      });
      if (onPick) marker.on('click', () => onPick(featureAsset(f)));
      return marker;
    });
    if (cluster.addLayers) cluster.addLayers(markers);
    else markers.forEach((m) => cluster.addLayer(m));
  };

  const clear = () => {
    controller?.abort();
    features = [];
    cluster.clearLayers();
    setAttributions([]);
    map.getContainer().dataset.assets = '';
    onLoad([]);
  };

  const load = async () => {
    controller?.abort();
    const group = enabled ? getGroup() : null;
    if (!group || map.getZoom() < ASSET_ZOOM || !(await assetsAvailable(group, probePoint))) {
      clear();
      return;
    }
    controller = new AbortController();
    const b = map.getBounds();
    let result;
    try {
      result = await assetsIn(group, [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], controller.signal);
    } catch {
      return; // aborted by a newer view, or offline without a copy: the form works without
    }
    if (!result) { clear(); return; }
    features = result.features;
    setAttributions(result.attributions);
    render();
    map.getContainer().dataset.assets = String(features.length);
    onLoad(features);
  };

  const schedule = () => { clearTimeout(timer); timer = setTimeout(load, MOVE_DEBOUNCE_MS); };
  map.on('moveend', schedule);
  return {
    reload: schedule,
    loadNow: load,
    select(id) { selectedId = id; render(); },
    setEnabled(on) { enabled = on; schedule(); },
    features: () => features,
  };
}
