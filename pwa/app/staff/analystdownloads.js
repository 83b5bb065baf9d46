// Download links for the current selection (heatmap as GeoJSON, CSV and PNG; the figures as
// CSV) and the public open-data files. The links are plain API addresses (the session cookie
// authenticates them); a heatmap the server builds in the background (202) is waited for here
// and then saved, with the progress announced.
import { $ } from '../dom.js';
import { t } from '../i18n.js';
import { fetchBuilt, fileName } from './analystjobs.js';

const HEATMAP = '/api/v1/analytics/heatmap';
const SUMMARY = '/api/v1/analytics/summary';
let bound = false;

function withParams(base, params, extra) {
  const query = new URLSearchParams(params);
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  return `${base}?${query}`;
}

/** Point the links at the current filters (`api`) and cell choice ({cell_m} or {h3_res}). */
export function updateDownloads(api, cell) {
  for (const format of ['geojson', 'csv', 'png']) {
    $(`#dl-heat-${format}`).href = withParams(HEATMAP, api, { ...cell, format });
  }
  $('#dl-summary-csv').href = withParams(SUMMARY, api, { format: 'csv' });
}

const status = (text) => { $('#analyst-download-status').textContent = text; };

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function download(e) {
  const link = e.target.closest('a[data-built]');
  if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  if (link.getAttribute('aria-busy') === 'true') return;
  const what = link.getAttribute('aria-label') || link.textContent;
  link.setAttribute('aria-busy', 'true');
  status(t('analyst.dl.preparing', { what }));
  try {
    const response = await fetchBuilt(link.href, {
      onProgress: ({ waited }) => status(t(waited ? 'analyst.dl.building' : 'analyst.dl.buildingStart', { what, n: waited })),
    });
    save(await response.blob(), fileName(response, 'heatmap'));
    status(t('analyst.dl.done', { what }));
  } catch (error) {
    status(error instanceof TypeError ? t('common.offline') : t('analyst.dl.failed', { what, message: error.message }));
  } finally {
    link.removeAttribute('aria-busy');
  }
}

export function initDownloads() {
  if (bound) return;
  bound = true;
  $('.analyst-downloads').addEventListener('click', download);
}
