// "All reports of this asset" in the staff detail: the reports about the signal or sign post a
// report points at (GET /api/v1/staff/assets/<id>/reports: those this person may see, newest
// first, with status and time to fix), as a table under the report's facts. One button opens
// and closes it; it stays open while one moves between reports of the same asset.
import { h, $, announce } from '../dom.js';
import { t, formatDate, formatNumber, statusLabel } from '../i18n.js';
import { assetLabel } from '../assets.js';
import { call } from './session.js';

let shown = null; // {asset, reportId, base, open}
let ticket = 0;

const panel = () => $('#asset-history-panel');

/** Draw the button for `data` (the staff detail JSON); `base` is /crew or /dispatch. */
export function renderAssetHistory(data, base) {
  const box = $('#asset-history');
  const asset = data.asset;
  const keepOpen = Boolean(asset && shown?.open && shown.asset.id === asset.id);
  ticket += 1;
  shown = asset ? { asset, reportId: data.id, base, open: false } : null;
  box.hidden = !asset;
  if (!asset) { box.replaceChildren(); return; }
  box.replaceChildren(
    h('button', { type: 'button', id: 'asset-history-toggle', class: 'btn btn-secondary', 'aria-expanded': 'false',
      'aria-controls': 'asset-history-panel', onclick: () => (shown.open ? close() : open({ focus: true })) },
    t('assethistory.show')),
    h('section', { id: 'asset-history-panel', class: 'asset-history-panel', 'aria-labelledby': 'asset-history-title', hidden: true }));
  if (keepOpen) open({ focus: false });
}

function setOpen(isOpen) {
  shown.open = isOpen;
  const toggle = $('#asset-history-toggle');
  toggle.setAttribute('aria-expanded', String(isOpen));
  toggle.textContent = t(isOpen ? 'assethistory.hide' : 'assethistory.show');
  panel().hidden = !isOpen;
}

function close() {
  ticket += 1;
  setOpen(false);
  panel().replaceChildren();
  $('#asset-history-toggle').focus();
}

async function open({ focus }) {
  const mine = ++ticket;
  const { asset } = shown;
  setOpen(true);
  const title = h('h2', { id: 'asset-history-title', tabindex: '-1', text: t('assethistory.title', { name: assetLabel(asset) }) });
  const status = h('p', { class: 'hint', role: 'status', id: 'asset-history-status', text: t('assethistory.loading') });
  panel().replaceChildren(title, status);
  panel().setAttribute('aria-busy', 'true');
  let data;
  try {
    ({ data } = await call(`/api/v1/staff/assets/${encodeURIComponent(asset.id)}/reports`));
  } catch (error) {
    if (mine !== ticket) return;
    panel().removeAttribute('aria-busy');
    status.textContent = error instanceof TypeError ? t('common.offline') : t('assethistory.failed', { message: error.message });
    status.classList.add('field-error');
    announce(status.textContent, { error: true });
    return;
  }
  if (mine !== ticket) return;
  panel().removeAttribute('aria-busy');
  status.textContent = t('assethistory.summary', { n: data.count, open: formatNumber(data.open_count) });
  panel().append(table(data.reports || []));
  if (focus) title.focus();
}

function missing(key) {
  return [h('span', { 'aria-hidden': 'true', text: '–' }), h('span', { class: 'visually-hidden', text: t(key) })];
}

/** Hours to fix in words: hours below two days, days from then on. */
export function fixTime(hours) {
  if (hours == null) return missing('assethistory.notFixed');
  const [value, unit] = hours < 48 ? [hours, 'hour'] : [hours / 24, 'day'];
  return formatNumber(value, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: 1 });
}

function table(reports) {
  const columns = ['created', 'report', 'status', 'category', 'fixed'];
  const rows = reports.map((r) => {
    const here = r.id === shown.reportId;
    return h('tr', { dataset: { id: r.id }, class: here ? 'is-current' : null },
      h('td', {}, h('time', { datetime: r.created_at, text: formatDate(r.created_at) })),
      h('th', { scope: 'row' },
        h('a', { href: `${shown.base}/reports/${encodeURIComponent(r.id)}`, 'aria-current': here ? 'page' : null, text: r.id }),
        here ? h('span', { class: 'hint', text: ` (${t('assethistory.thisReport')})` }) : null),
      h('td', {}, h('span', { class: `badge status-${r.status}`, text: statusLabel(r.status) })),
      h('td', { text: r.category?.name || '' }),
      h('td', { class: 'num' }, fixTime(r.hours_to_fix)));
  });
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': 'asset-history-caption' },
    h('table', { id: 'asset-history-table', class: 'edit-table figures-table' },
      // The heading above says the same: the caption is for screen readers' table lists.
      h('caption', { id: 'asset-history-caption', class: 'visually-hidden', text: t('assethistory.caption', { name: assetLabel(shown.asset) }) }),
      h('thead', {}, h('tr', {}, columns.map((key) => h('th', { scope: 'col', class: key === 'fixed' ? 'num' : null,
        text: t(`assethistory.col.${key}`) })))),
      h('tbody', {}, rows)));
}
