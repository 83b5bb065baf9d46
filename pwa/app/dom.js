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

/** The configured tiles (or a plain background without them) and the data attribution. */
export function addBaseLayers(map, mapConfig, element) {
  if (mapConfig.tile_url) {
    L.tileLayer(mapConfig.tile_url, { attribution: mapConfig.tile_attribution, maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add('no-tiles');
  }
  if (mapConfig.data_attribution_short) {
    map.attributionControl.addAttribution(escapeHtml(mapConfig.data_attribution_short));
  }
}
