// The analyst's map: reports per cell either as a heat layer (leaflet.heat; each cell's centre
// weighted by its count) or as the cells themselves in five colour classes with a legend. The
// tables below the map carry the same figures for keyboard and screen-reader users.
import { $, h, addBaseLayers } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { svgEl } from './analystcharts.js';

// Light to dark (ColorBrewer YlOrBr); the cells get a dark outline to stand out from the map.
// The perceptual scale of the PNG export (geo/heatmap_image.py colour_scale: OKLab, dark
// violet → red → pale yellow, lightness rising evenly), nine samples from few to many
// reports; tests/geo/test_heatmap_image.py keeps them equal. The heat layer, the grid's
// classes and both legends use it, so the screen and the exported picture read alike.
const SCALE = ['#30085e', '#5c1869', '#8d1e73', '#b63763', '#e14b48', '#f27b41', '#ffa730', '#ffcf65', '#fff691'];
const CLASS_COLOURS = [0, 2, 4, 6, 8].map((i) => SCALE[i]);
const HEAT_GRADIENT = Object.fromEntries(SCALE.map((colour, i) => [i / (SCALE.length - 1), colour]));
const OUTLINE = '#3c3c46';

let map = null;
let heat = null;
let grid = null;
let kind = 'heat';
let collection = null;
let breaks = [];

/** Square cells about 20 px wide at this zoom (metres); never below 100 m, which over a whole
 * city and many reports would be a very large answer. */
export function cellForZoom(zoom) {
  if (zoom >= 14) return 100;
  if (zoom >= 13) return 250;
  if (zoom >= 12) return 500;
  if (zoom >= 11) return 1000;
  return 2000;
}

/** Create the map once (its container must be visible); null when Leaflet did not load. */
export function ensureAnalystMap(config, { onZoom }) {
  if (map) return map;
  if (!window.L) return null;
  const m = config.map;
  map = L.map('analyst-map', { center: m.center, zoom: m.zoom, minZoom: 9, maxZoom: 18 });
  addBaseLayers(map, m, $('#analyst-map'));
  if (m.bounds) {
    const [west, south, east, north] = m.bounds;
    map.fitBounds([[south, west], [north, east]], { animate: false });
  }
  map.on('zoomend', () => {
    if (heat && map.hasLayer(heat)) heat.setOptions(heatRadius());
    onZoom(map.getZoom());
  });
  return map;
}

export const currentZoom = () => (map ? map.getZoom() : 12);

export function refreshSize() { if (map) map.invalidateSize(); }

// A cell centre from its polygon ring (the closing point repeats the first).
function centre(feature) {
  const ring = feature.geometry.coordinates[0].slice(0, -1);
  const lon = ring.reduce((sum, p) => sum + p[0], 0) / ring.length;
  const lat = ring.reduce((sum, p) => sum + p[1], 0) / ring.length;
  return [lat, lon];
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

// Upper bounds (inclusive) of up to five classes with about as many cells each.
function classBreaks(counts) {
  const sorted = [...counts].sort((a, b) => a - b);
  const uppers = [];
  for (const q of [0.2, 0.4, 0.6, 0.8, 1]) {
    const value = quantile(sorted, q);
    if (value !== undefined && (!uppers.length || value > uppers.at(-1))) uppers.push(value);
  }
  return uppers;
}

function classColour(index, classes) {
  if (classes <= 1) return CLASS_COLOURS.at(-1);
  return CLASS_COLOURS[Math.round((index * (CLASS_COLOURS.length - 1)) / (classes - 1))];
}

function colourFor(count) {
  const index = breaks.findIndex((upper) => count <= upper);
  return classColour(index < 0 ? breaks.length - 1 : index, breaks.length);
}

// The blur radius follows the cell size on screen, so neighbouring cells merge into a surface.
function heatRadius() {
  const cellM = collection?.metadata?.cell?.cell_m || 500;
  const metresPerPixel = (40075016 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / (256 * 2 ** map.getZoom());
  const radius = Math.max(8, Math.min(40, Math.round(cellM / metresPerPixel)));
  return { radius, blur: Math.round(radius * 0.8) };
}

function cellText(p) {
  return t('analyst.cellTooltip', { n: p.count, open: formatNumber(p.open), closed: formatNumber(p.closed) });
}

function drawHeat() {
  const counts = collection.features.map((f) => f.properties.count);
  const sorted = [...counts].sort((a, b) => a - b);
  // A few very busy cells should not wash out the rest: the 98th percentile is "hot".
  const max = Math.max(1, quantile(sorted, 0.98) || 1);
  const points = collection.features.map((f) => [...centre(f), f.properties.count]);
  // maxZoom = the zoom now: leaflet.heat then weighs points 1:1 here and sums them when zoomed out.
  const options = { ...heatRadius(), max, maxZoom: map.getZoom(), minOpacity: 0.35, gradient: HEAT_GRADIENT };
  // leaflet.heat 0.2 cannot redraw while off the map (it forgets the map): a new layer then.
  if (heat && map.hasLayer(heat)) heat.setOptions(options).setLatLngs(points);
  else heat = L.heatLayer(points, options);
}

function drawGrid() {
  breaks = classBreaks(collection.features.map((f) => f.properties.count));
  if (grid) grid.remove();
  grid = L.geoJSON(collection, {
    className: 'analyst-cell',
    style: (f) => ({ color: OUTLINE, weight: 0.6, opacity: 0.7, fillColor: colourFor(f.properties.count), fillOpacity: 0.75 }),
    onEachFeature: (f, layer) => layer.bindTooltip(cellText(f.properties), { sticky: true }),
  });
}

function legendItems() {
  if (kind === 'heat') {
    return [h('p', { class: 'legend-title', text: t('analyst.legend.heat') }),
      h('div', { class: 'heat-scale', 'aria-hidden': 'true' }),
      h('p', { class: 'heat-scale-labels' }, h('span', { text: t('analyst.legend.few') }), h('span', { text: t('analyst.legend.many') }))];
  }
  let lower = 1;
  const items = breaks.map((upper, i) => {
    const range = upper === lower ? formatNumber(upper) : t('analyst.legend.range', { from: formatNumber(lower), to: formatNumber(upper) });
    lower = upper + 1;
    return h('li', {}, swatch(classColour(i, breaks.length)), range);
  });
  return [h('p', { class: 'legend-title', id: 'analyst-legend-title', text: t('analyst.legend.grid') }),
    h('ul', { class: 'map-legend', 'aria-labelledby': 'analyst-legend-title' }, items)];
}

// A colour sample drawn as SVG (fill attribute): no style attributes needed.
const swatch = (colour) => svgEl('svg', { class: 'legend-swatch', viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true' },
  svgEl('rect', { x: 0.5, y: 0.5, width: 15, height: 15, fill: colour, stroke: OUTLINE }));

function renderLegend() {
  const legend = $('#analyst-legend');
  legend.replaceChildren(...(collection && collection.features.length ? legendItems() : []));
}

function attach() {
  if (!map || !collection) return;
  const size = map.getSize();
  // leaflet.heat cannot draw on a canvas of no size (a hidden map): wait until shown.
  if (!size.x || !size.y) return;
  const wanted = kind === 'heat' ? heat : grid;
  for (const layer of [heat, grid]) if (layer && layer !== wanted && map.hasLayer(layer)) map.removeLayer(layer);
  if (wanted && !map.hasLayer(wanted)) map.addLayer(wanted);
}

/** Show a heatmap FeatureCollection (cells with count/open/closed) in the chosen layer. */
export function showCells(data) {
  collection = data;
  if (!map) return;
  drawHeat();
  drawGrid();
  attach();
  renderLegend();
}

/** Switch between 'heat' and 'grid'. */
export function setLayer(next) {
  kind = next === 'grid' ? 'grid' : 'heat';
  attach();
  renderLegend();
}

/** Take the layers off while the screen is hidden; `resume` puts them back. */
export function suspend() {
  for (const layer of [heat, grid]) if (map && layer && map.hasLayer(layer)) map.removeLayer(layer);
}

export function resume() {
  refreshSize();
  attach();
}
