// The analyst screen (/analyst, for analysts, dispatchers and admins): filters → heat or grid
// map of the reports, figures per district and per category, the most-reported assets, and
// downloads of the same selection. Answers are never kept by the service worker (they change with every report).
import { h, $, announce, markReady } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { getStaff } from './session.js';
import { fetchBuilt } from './analystjobs.js';
import { fillFilterOptions, writeFilters, readFilters, describeFilters } from './analystfilters.js';
import { ensureAnalystMap, showCells, setLayer, cellForZoom, currentZoom, suspend, resume } from './analystmap.js';
import { renderFigures, clearFigures } from './analystfigures.js';
import { initDownloads, updateDownloads } from './analystdownloads.js';
import { loadAssetRanking } from './analystassets.js';

const HEATMAP = '/api/v1/analytics/heatmap';
const SUMMARY = '/api/v1/analytics/summary';
const CELL_CHOICES = ['auto', '100', '250', '500', '1000', '2000', 'h3:8', 'h3:9'];

let config = null;
let bound = false;
let filters = null; // {page, api} URLSearchParams of the selection shown
let mapLoad = null; // AbortController of the heatmap being fetched
let figuresLoad = 0; // number of the newest summary request (older answers are dropped)
let shownCell = null;
let zoomTimer = null;

export function initAnalyst(cfg) {
  config = cfg;
  if (bound) return;
  bound = true;
  $('#analyst-filters').addEventListener('submit', (e) => { e.preventDefault(); apply({ push: true }); });
  // The form clears itself after the event: apply the empty filters on the next tick.
  $('#analyst-filters').addEventListener('reset', () => setTimeout(() => apply({ push: true }), 0));
  for (const radio of document.querySelectorAll('input[name="analyst-layer"]')) {
    radio.addEventListener('change', () => {
      setLayer(radio.value);
      announce(t(`analyst.layerShown.${radio.value}`));
    });
  }
  $('#analyst-cell').addEventListener('change', () => loadMap());
  initDownloads();
}

function fillCellChoices() {
  const select = $('#analyst-cell');
  const value = select.value || 'auto';
  select.replaceChildren(...CELL_CHOICES.map((choice) => {
    const [kind, n] = choice.split(':');
    const text = choice === 'auto' ? t('analyst.cell.auto')
      : kind === 'h3' ? t('analyst.cell.h3', { res: n }) : t('analyst.cell.metres', { size: formatNumber(Number(choice)) });
    return h('option', { value: choice, text });
  }));
  select.value = value;
}

/** The cell parameters for the API: {cell_m} or {h3_res}. */
function cellParams() {
  const choice = $('#analyst-cell').value || 'auto';
  if (choice === 'auto') return { cell_m: cellForZoom(currentZoom()) };
  if (choice.startsWith('h3:')) return { h3_res: choice.slice(3) };
  return { cell_m: choice };
}

const cellText = (cell) => (cell.h3_res ? t('analyst.cell.h3', { res: cell.h3_res })
  : t('analyst.cell.metres', { size: formatNumber(Number(cell.cell_m)) }));

const progress = (text) => { $('#analyst-progress').textContent = text; };

function failureText(error) {
  if (error instanceof TypeError) return t('common.offline');
  return t('analyst.loadFailed', { message: error.message });
}

/** Show the screen: choices in the current language, the filters of the page address. */
export async function showAnalyst() {
  fillCellChoices();
  if (!ensureAnalystMap(config, { onZoom })) $('#analyst-map').hidden = true;
  resume();
  const options = fillFilterOptions().catch((error) => announce(failureText(error), { error: true }));
  // Without filters in the address the choices are not needed to ask for the figures and the
  // map: both start at once instead of after the lists of categories, districts, departments.
  if (location.search.length > 1) await options;
  writeFilters(location.search);
  apply({ quiet: true });
}

/** Leaving the screen: stop waiting for exports and take the layers off the hidden map. */
export function leaveAnalyst() {
  mapLoad?.abort();
  mapLoad = null;
  clearTimeout(zoomTimer);
  suspend();
}

function onZoom(zoom) {
  if ($('#analyst-cell').value !== 'auto' || !filters) return;
  if (shownCell && Number(shownCell.cell_m) === cellForZoom(zoom)) return;
  clearTimeout(zoomTimer);
  zoomTimer = setTimeout(loadMap, 300);
}

async function apply({ push = false, quiet = false } = {}) {
  const chosen = readFilters();
  if (!chosen) return;
  filters = chosen;
  if (location.pathname === '/analyst') {
    const address = `/analyst${chosen.page.size ? `?${chosen.page}` : ''}`;
    if (address !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState']({}, '', address);
  }
  const [mapTotal, figuresTotal] = await Promise.all([loadMap(), loadFigures()]);
  // Its own section below the figures, asked for after them so as not to delay them (the
  // total announced is the figures'); not when other filters were chosen meanwhile.
  if (filters === chosen) loadAssetRanking(chosen.api);
  const total = figuresTotal ?? mapTotal;
  if (mapTotal != null && figuresTotal != null) markReady('analyst'); // totals and map drawn
  if (!quiet && total != null) announce(t('analyst.updated', { n: total, filters: describeFilters() }));
}

/** Fetch and show the heatmap of the current filters; its total, or null. */
async function loadMap() {
  if (!filters) return null;
  mapLoad?.abort();
  const controller = new AbortController();
  mapLoad = controller;
  const cell = cellParams();
  updateDownloads(filters.api, cell);
  const query = new URLSearchParams(filters.api);
  for (const [name, value] of Object.entries({ ...cell, format: 'geojson' })) query.set(name, value);
  progress(t('analyst.loadingMap'));
  try {
    const response = await fetchBuilt(`${HEATMAP}?${query}`, {
      accept: 'application/geo+json, application/json', signal: controller.signal,
      onProgress: ({ waited }) => progress(waited ? t('analyst.building', { n: waited }) : t('analyst.buildingStart')),
    });
    const data = await response.json();
    if (controller !== mapLoad) return null;
    shownCell = cell;
    showCells(data);
    const total = data.metadata?.total ?? data.features.reduce((sum, f) => sum + f.properties.count, 0);
    $('#analyst-map-summary').textContent = t('analyst.mapSummary', {
      n: total, cells: formatNumber(data.features.length), cell: cellText(cell) });
    progress('');
    return total;
  } catch (error) {
    if (controller.signal.aborted) return null;
    progress('');
    if (error.status !== 401) announce(failureText(error), { error: true });
    return null;
  }
}

/** Fetch and show the figures of the current filters; their total, or null. */
async function loadFigures() {
  const mine = ++figuresLoad;
  const section = $('.analyst-figures');
  section.setAttribute('aria-busy', 'true');
  try {
    const summary = await getStaff(`${SUMMARY}?${filters.api}`);
    if (mine !== figuresLoad) return null;
    renderFigures(summary);
    return summary.totals.reports;
  } catch (error) {
    if (mine !== figuresLoad) return null;
    clearFigures(failureText(error));
    return null;
  } finally {
    if (mine === figuresLoad) section.removeAttribute('aria-busy');
  }
}
