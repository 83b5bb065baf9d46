// Tiny DOM helpers (no innerHTML with data: everything goes through textContent).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

let clearTimer = null;
/** Announce a message in the polite live region (also visible). */
export function announce(text, { error = false } = {}) {
  const region = $('#status-message');
  region.classList.toggle('is-error', error);
  region.textContent = '';
  // A fresh text node after a tick so screen readers announce repeats too.
  setTimeout(() => { region.textContent = text; }, 50);
  clearTimeout(clearTimer);
  clearTimer = setTimeout(() => { region.textContent = ''; }, error ? 15000 : 8000);
}

/** Text made safe for the few places that take HTML (Leaflet's attribution). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The configured tiles, or without them (no third party sees the visitor) the city's own
 * district outlines, names and boundary to orient by; and the data attribution. */
export function addBaseLayers(map, mapConfig, element) {
  if (mapConfig.tile_url) {
    // With CORS the service worker can keep the tiles a visitor has seen (offline use).
    L.tileLayer(mapConfig.tile_url, { attribution: mapConfig.tile_attribution, maxZoom: 19,
      crossOrigin: mapConfig.tile_cors ? 'anonymous' : undefined }).addTo(map);
  } else {
    element.classList.add('no-tiles');
    addOutlines(map);
  }
  if (mapConfig.data_attribution_short) {
    map.attributionControl.addAttribution(escapeHtml(mapConfig.data_attribution_short));
  }
}

const OUTLINE_STYLE = {
  district: { color: '#5b6776', weight: 1.5, opacity: 0.9, fillColor: '#f6f3ec', fillOpacity: 1 },
  city: { color: '#1f3a5f', weight: 3.5, opacity: 1, fill: false },
};
const LABELS_FROM_ZOOM = 11;

// District outlines (filled, under everything else), the city boundary and district names.
async function addOutlines(map) {
  let data;
  try {
    const response = await fetch('/api/v1/districts/outlines', { headers: { Accept: 'application/geo+json' } });
    if (!response.ok) return;
    data = await response.json();
  } catch { return; } // offline without a cached copy: the plain background stays
  if (!map.getPane('mm-outlines')) {
    map.createPane('mm-outlines').style.zIndex = 250; // above tiles (200), below overlays (400)
  }
  L.geoJSON(data, { pane: 'mm-outlines', interactive: false,
    style: (f) => OUTLINE_STYLE[f.properties.kind] || OUTLINE_STYLE.district }).addTo(map);
  const labels = L.layerGroup(data.features.filter((f) => f.properties.kind === 'district').map((f) =>
    L.marker([f.properties.label_lat, f.properties.label_lon], {
      interactive: false, keyboard: false, pane: 'mm-outlines',
      icon: L.divIcon({ className: 'district-label', html: `<span aria-hidden="true">${escapeHtml(f.properties.name)}</span>`, iconSize: null }),
    })));
  const toggle = () => {
    if (map.getZoom() >= LABELS_FROM_ZOOM) labels.addTo(map); else labels.remove();
  };
  map.on('zoomend', toggle);
  toggle();
  map.getContainer().dataset.outlines = String(data.features.length);
}

/**
 * The page's main content is drawn and usable: `data-ready` on <html> and a performance mark
 * `mm-ready:<name>` (once per page load; the browser tests measure time to interactive by it).
 */
export function markReady(name) {
  if (document.documentElement.dataset.ready === name) return;
  document.documentElement.dataset.ready = name;
  performance.mark(`mm-ready:${name}`);
}
