// Simple bar charts in plain SVG (no chart library): one horizontal bar per row, stacked from a
// few series such as open and closed reports. Each chart is an image with a caption and a
// one-sentence description; the table next to it has every number.
import { h } from '../dom.js';
import { formatNumber } from '../i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const LABEL_W = 230;
const VALUE_W = 56;
const ROW_H = 22;
const BAR_H = 15;
const LABEL_MAX = 32;

/** An SVG element with attributes and children. */
export function svgEl(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const short = (text) => (text.length > LABEL_MAX ? `${text.slice(0, LABEL_MAX - 1)}…` : text);

/**
 * Draw into `figure`: caption `title`, the chart (rows [{label, values}], series [{label,
 * className}] in the order of `values`), its legend, and `description` for screen readers.
 */
export function renderBarChart(figure, { id, title, rows, series, description }) {
  const max = Math.max(1, ...rows.map((row) => row.values.reduce((a, b) => a + b, 0)));
  const scale = (WIDTH - LABEL_W - VALUE_W) / max;
  const height = rows.length * ROW_H + 8;
  const bars = rows.map((row, i) => {
    const y = 4 + i * ROW_H;
    let x = LABEL_W;
    const parts = row.values.map((value, s) => {
      const rect = svgEl('rect', { class: series[s].className, x, y: y + (ROW_H - BAR_H) / 2, width: Math.max(0, value * scale), height: BAR_H });
      x += value * scale;
      return rect;
    });
    const total = row.values.reduce((a, b) => a + b, 0);
    return svgEl('g', {},
      svgEl('text', { class: 'bar-label', x: LABEL_W - 6, y: y + ROW_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' }, short(row.label)),
      parts,
      svgEl('text', { class: 'bar-value', x: x + 4, y: y + ROW_H / 2, 'dominant-baseline': 'central' }, formatNumber(total)));
  });
  const chart = svgEl('svg', {
    class: 'bar-chart-svg', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img',
    'aria-labelledby': `${id}-caption ${id}-desc`, preserveAspectRatio: 'xMinYMin meet',
  }, svgEl('line', { class: 'bar-axis', x1: LABEL_W, x2: LABEL_W, y1: 0, y2: height }), bars);
  const legend = h('ul', { class: 'map-legend chart-legend', 'aria-hidden': 'true' },
    series.map((s) => h('li', {}, svgEl('svg', { class: 'legend-swatch', viewBox: '0 0 16 16', width: 16, height: 16 },
      svgEl('rect', { class: s.className, x: 0, y: 0, width: 16, height: 16 })), s.label)));
  figure.replaceChildren(
    h('figcaption', { id: `${id}-caption`, text: title }),
    chart,
    legend,
    h('p', { id: `${id}-desc`, class: 'visually-hidden', text: description }));
}
