// "Most-reported assets" on the analyst screen: GET /api/v1/analytics/assets (per traffic
// signal or sign post its reports, open ones and median time to fix) as a table. The API
// filters by period only: the screen's period applies, and the note says when other chosen
// filters do not.
import { h, $ } from '../dom.js';
import { t, formatNumber, formatDate } from '../i18n.js';
import { assetLabel } from '../assets.js';
import { getStaff } from './session.js';
import { fixTime } from './assethistory.js';

const ASSETS = '/api/v1/analytics/assets';
const LIMIT = 20;
const PERIOD = ['from', 'to'];

let load = 0; // number of the newest request (older answers are dropped)

const noNumber = () => [h('span', { 'aria-hidden': 'true', text: '–' }), h('span', { class: 'visually-hidden', text: t('analyst.none') })];

function row(entry) {
  const { asset } = entry;
  return h('tr', { dataset: { id: asset.id } },
    h('th', { scope: 'row', text: assetLabel(asset) }),
    h('td', {}, asset.number || noNumber()),
    h('td', { text: asset.layer }),
    h('td', { class: 'num', dataset: { col: 'reports' }, text: formatNumber(entry.reports) }),
    h('td', { class: 'num', dataset: { col: 'open' }, text: formatNumber(entry.open) }),
    h('td', { class: 'num', dataset: { col: 'fix' } }, fixTime(entry.median_hours_to_fix)),
    h('td', {}, entry.last_report_at ? h('time', { datetime: entry.last_report_at, text: formatDate(entry.last_report_at) }) : ''));
}

function note(text) {
  const box = $('#analyst-assets-note');
  box.textContent = text;
  box.hidden = !text;
}

/** Fetch and show the most-reported assets for the analyst filters `api` (URLSearchParams). */
export async function loadAssetRanking(api) {
  const mine = ++load;
  const query = new URLSearchParams({ limit: String(LIMIT) });
  for (const name of PERIOD) if (api.get(name)) query.set(name, api.get(name));
  const ignored = [...api.keys()].some((name) => !PERIOD.includes(name));
  const section = $('#analyst-assets');
  const table = $('#analyst-assets-table');
  section.setAttribute('aria-busy', 'true');
  try {
    const data = await getStaff(`${ASSETS}?${query}`);
    if (mine !== load) return;
    const entries = data.assets || [];
    const cols = ['asset', 'number', 'layer', 'reports', 'open', 'fixMedian', 'last'];
    table.tHead.replaceChildren(h('tr', {}, cols.map((key) => h('th', {
      scope: 'col', class: ['reports', 'open', 'fixMedian'].includes(key) ? 'num' : null, text: t(`analyst.assets.col.${key}`) }))));
    table.tBodies[0].replaceChildren(...entries.map(row));
    note([entries.length ? '' : t('analyst.assets.empty'), ignored ? t('analyst.assets.periodOnly') : '']
      .filter(Boolean).join(' '));
  } catch (error) {
    if (mine !== load) return;
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
    note(error instanceof TypeError ? t('common.offline') : t('analyst.loadFailed', { message: error.message }));
  } finally {
    if (mine === load) section.removeAttribute('aria-busy');
  }
}
