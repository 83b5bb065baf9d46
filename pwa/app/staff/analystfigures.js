// The service-level figures of /api/v1/analytics/summary: totals, a table per district and per
// category (reports, open, closed, hours to acknowledge and resolve, share past target, fix rate
// and the reporters' "not fixed") and a bar chart of each.
import { h, $ } from '../dom.js';
import { t, formatNumber, formatDate } from '../i18n.js';
import { renderBarChart } from './analystcharts.js';
import { groupName } from './analystfilters.js';

const count = (n) => formatNumber(n ?? 0);

function missing() {
  return [h('span', { 'aria-hidden': 'true', text: '–' }), h('span', { class: 'visually-hidden', text: t('analyst.none') })];
}

const hours = (value) => (value == null ? missing() : formatNumber(value, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
const share = (value) => (value == null ? missing() : formatNumber(value, { style: 'percent', maximumFractionDigits: 0 }));

// Column key → the cell's content for one row of figures.
const COLUMNS = [
  ['reports', (r) => count(r.reports)],
  ['open', (r) => count(r.open)],
  ['closed', (r) => count(r.closed)],
  ['ackMedian', (r) => hours(r.acknowledge_h?.median)],
  ['ackP90', (r) => hours(r.acknowledge_h?.p90)],
  ['resolveMedian', (r) => hours(r.resolve_h?.median)],
  ['resolveP90', (r) => hours(r.resolve_h?.p90)],
  ['pastTarget', (r) => share(r.past_target_share)],
  // Fixed for good, of the reports decided: a reporter's "not fixed" counts against it.
  ['fixRate', (r) => share(r.fix_rate)],
  ['notFixed', (r) => count(r.reporter_not_fixed)],
];

const figureCells = (row) => COLUMNS.map(([key, cell]) => h('td', { class: 'num', dataset: { col: key } }, cell(row)));

function renderTable(table, { firstColumns, rows, rowHeads, totals }) {
  table.tHead.replaceChildren(h('tr', {},
    firstColumns.map((key) => h('th', { scope: 'col', text: t(`analyst.col.${key}`) })),
    COLUMNS.map(([key]) => h('th', { scope: 'col', class: 'num', text: t(`analyst.col.${key}`) }))));
  table.tBodies[0].replaceChildren(...rows.map((row) => h('tr', { dataset: { key: row.key } }, rowHeads(row), figureCells(row))));
  table.tFoot.replaceChildren(h('tr', {},
    h('th', { scope: 'row', colspan: firstColumns.length, text: t('analyst.total') }), figureCells(totals)));
}

function renderTotals(totals) {
  const items = [
    ['reports', count(totals.reports)],
    ['open', count(totals.open)],
    ['closed', count(totals.closed)],
    ['ackMedian', hours(totals.acknowledge_h?.median)],
    ['resolveMedian', hours(totals.resolve_h?.median)],
    ['pastTarget', share(totals.past_target_share)],
    ['fixRate', share(totals.fix_rate)],
    ['notFixed', count(totals.reporter_not_fixed)],
  ];
  $('#analyst-totals').replaceChildren(...items.map(([key, value]) => h('div', { class: 'total' },
    h('dt', { text: t(`analyst.total.${key}`) }), h('dd', { id: `analyst-total-${key}` }, value))));
}

function chart(figureId, title, tableCaption, rows) {
  const series = [{ label: t('analyst.col.open'), className: 'bar-open' }, { label: t('analyst.col.closed'), className: 'bar-closed' }];
  const chartRows = rows.map((row) => ({ label: row.label, values: [row.open || 0, row.closed || 0] }));
  const top = [...rows].sort((a, b) => (b.reports || 0) - (a.reports || 0))[0];
  const description = [
    t('analyst.chart.series'),
    top && top.reports ? t('analyst.chart.top', { name: top.label, n: top.reports, open: count(top.open), closed: count(top.closed) }) : t('analyst.empty'),
    t('analyst.chart.table', { table: tableCaption }),
  ].join(' ');
  renderBarChart($(`#${figureId}`), { id: figureId, title, rows: chartRows, series, description });
}

/** Show a summary answer (see docs/analytics-api.md). */
export function renderFigures(summary) {
  const districts = (summary.by_district || []).map((d) => ({ ...d, label: `${d.key} ${d.name}` }));
  const categories = (summary.by_category || []).map((c) => ({ ...c, label: c.name || c.key }));
  renderTotals(summary.totals);
  renderTable($('#analyst-district-table'), {
    firstColumns: ['district'], rows: districts, totals: summary.totals,
    rowHeads: (d) => h('th', { scope: 'row', text: d.label }),
  });
  renderTable($('#analyst-category-table'), {
    firstColumns: ['category', 'group'], rows: categories, totals: summary.totals,
    rowHeads: (c) => [h('th', { scope: 'row', text: c.label }), h('td', { text: groupName(c.group) })],
  });
  chart('analyst-chart-district', t('analyst.chart.district'), t('analyst.byDistrict'), districts);
  chart('analyst-chart-category', t('analyst.chart.category'), t('analyst.byCategory'), categories);
  const note = $('#analyst-figures-note');
  const asOf = summary.generated_at ? t('analyst.asOf', { time: formatDate(summary.generated_at) }) : '';
  note.textContent = summary.totals.reports ? asOf : `${t('analyst.empty')} ${asOf}`.trim();
  note.hidden = !note.textContent;
}

/** Empty the figures (while loading failed or nothing is shown). */
export function clearFigures(message) {
  $('#analyst-totals').replaceChildren();
  for (const id of ['#analyst-district-table', '#analyst-category-table']) {
    const table = $(id);
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
    table.tFoot.replaceChildren();
  }
  for (const id of ['#analyst-chart-district', '#analyst-chart-category']) $(id).replaceChildren();
  const note = $('#analyst-figures-note');
  note.textContent = message || '';
  note.hidden = !message;
}
