// The analyst's filters: dates, category or group, district, status and (for staff who may read
// department. The form mirrors the page address (/analyst?group=ampel),
// so a view can be reloaded or shared; the API gets the same filters in its own terms.
import { h, $ } from '../dom.js';
import { t, statusLabel, getLang } from '../i18n.js';
import { getJSON } from '../api.js';

const STATUSES = ['submitted', 'acknowledged', 'in_progress', 'reopened', 'resolved', 'rejected', 'closed'];

let groupNames = new Map();

/** The name of a category group in the current language (its code when unknown). */
export const groupName = (code) => groupNames.get(code) || code;

const option = (value, text) => h('option', { value, text });

function refill(select, children) {
  const value = select.value;
  select.replaceChildren(...children);
  select.value = value;
  if (select.selectedIndex < 0) select.selectedIndex = 0;
}

async function departmentOptions() {
  try {
    const { departments } = await getJSON('/api/v1/departments');
    return departments.map((d) => [d.code, d.name]);
  } catch { return []; }
}

/** Fill the choices (in the current language), keeping what is chosen. */
export async function fillFilterOptions() {
  const [categories, districts, departments] = await Promise.all([
    getJSON('/api/v1/categories'), getJSON('/api/v1/districts'), departmentOptions()]);
  groupNames = new Map(categories.groups.map((g) => [g.code, g.name]));
  refill($('#af-scope'), [option('', t('analyst.all')), ...categories.groups.map((g) => h('optgroup', { label: g.name },
    option(`group:${g.code}`, t('analyst.wholeGroup', { name: g.name })),
    ...g.categories.map((c) => option(`category:${c.code}`, c.name))))]);
  refill($('#af-district'), [option('', t('analyst.allDistricts')),
    ...districts.districts.map((d) => option(d.number, `${d.number} ${d.name}`))]);
  refill($('#af-status'), [option('', t('analyst.allStatuses')), option('open', t('analyst.status.open')),
    option('closed', t('analyst.status.closed')),
    h('optgroup', { label: t('analyst.status.single') }, ...STATUSES.map((s) => option(s, statusLabel(s))))]);
  refill($('#af-department'), [option('', t('analyst.allDepartments')),
    ...departments.map(([code, name]) => option(code, name))]);
  $('#af-department-field').hidden = departments.length === 0;
  if (!departments.length) $('#af-department').value = '';
}

/** Set the form from the page address (`until` is the last day shown; the API's `to` excludes it). */
export function writeFilters(search) {
  const params = new URLSearchParams(search);
  $('#af-from').value = params.get('from') || '';
  $('#af-until').value = params.get('until') || '';
  const scope = params.get('category') ? `category:${params.get('category')}`
    : params.get('group') ? `group:${params.get('group')}` : '';
  for (const [id, value] of [['#af-scope', scope], ['#af-district', params.get('district') || ''],
    ['#af-status', params.get('status') || ''], ['#af-department', params.get('department') || '']]) {
    const select = $(id);
    select.value = value;
    if (select.selectedIndex < 0) select.value = ''; // an unknown code in an old link
  }
}

function setFieldError(id, message) {
  const control = $(`#${id}`);
  const box = $(`#${id}-error`);
  control.setAttribute('aria-invalid', message ? 'true' : 'false');
  box.textContent = message || '';
  box.hidden = !message;
}

const day = (iso) => new Intl.DateTimeFormat(getLang(), { dateStyle: 'medium', timeZone: 'UTC' })
  .format(new Date(`${iso}T00:00:00Z`));
const nextDay = (iso) => new Date(Date.parse(`${iso}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);

/**
 * The chosen filters as {page, api} URLSearchParams, or null (with the field marked and
 * focused) when the dates contradict each other.
 */
export function readFilters() {
  const from = $('#af-from').value;
  const until = $('#af-until').value;
  const wrong = from && until && until < from;
  setFieldError('af-from', null);
  setFieldError('af-until', wrong ? t('analyst.untilBeforeFrom') : null);
  if (wrong) {
    $('#af-until').focus();
    return null;
  }
  const page = new URLSearchParams();
  if (from) page.set('from', from);
  if (until) page.set('until', until);
  const [kind, code] = $('#af-scope').value.split(':');
  if (code) page.set(kind, code);
  for (const name of ['district', 'status', 'department']) {
    const value = $(`#af-${name}`).value;
    if (value) page.set(name, value);
  }
  const api = new URLSearchParams(page);
  api.delete('until');
  if (until) api.set('to', nextDay(until));
  return { page, api };
}

/** The chosen filters in words ("Ampel · 01 Altstadt-Lehel"), for summaries. */
export function describeFilters() {
  const parts = [];
  const from = $('#af-from').value;
  const until = $('#af-until').value;
  if (from || until) parts.push(t('analyst.period', { from: from ? day(from) : '…', until: until ? day(until) : '…' }));
  for (const id of ['#af-scope', '#af-district', '#af-status', '#af-department']) {
    const select = $(id);
    if (select.value && select.selectedOptions[0]) parts.push(select.selectedOptions[0].textContent);
  }
  return parts.length ? parts.join(' · ') : t('analyst.noFilter');
}
