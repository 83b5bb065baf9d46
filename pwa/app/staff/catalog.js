// Editing categories and departments: a table row per entry with its own save button (PATCH),
// and a form for a new one (POST). Changes apply to the next report, no restart.
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { call } from './session.js';
import { loadCity, localName } from './departments.js';
import { field, input, textarea, select, requireFilled, showFormError, clearFormError } from './fields.js';

const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
let city = null;
let bound = false;

export function initCatalog() {
  if (bound) return;
  bound = true;
  $('#new-category-form').addEventListener('submit', (e) => create(e, 'categories'));
  $('#new-department-form').addEventListener('submit', (e) => create(e, 'departments'));
}

async function refresh() {
  try {
    city = await loadCity({ fresh: true });
    return true;
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return false;
  }
}

const cellInput = (attrs, label) => h('input', { type: 'text', ...attrs, 'aria-label': label });
const cellCheck = (checked, label, name = 'active') => h('input', { type: 'checkbox', name, checked: Boolean(checked), 'aria-label': label });
function cellSelect(name, options, value, label) {
  const control = h('select', { name, 'aria-label': label }, options.map(([v, text]) => h('option', { value: v, text })));
  control.value = value;
  return control;
}
const priorityOptions = () => PRIORITIES.map((p) => [p, t(`priority.${p}`)]);
const groupOptions = () => city.groups.map((g) => [g.code, localName(g)]);

function rowValues(tr) {
  const values = {};
  for (const control of tr.querySelectorAll('input, select')) {
    values[control.name] = control.type === 'checkbox' ? control.checked : control.value.trim();
  }
  return values;
}

function saveButton(kind, code) {
  return h('button', { type: 'button', class: 'btn btn-secondary save-row', dataset: { code },
    'aria-label': t('common.saveNamed', { name: code }), onclick: (e) => saveRow(kind, code, e.currentTarget) }, t('common.save'));
}

// ------------------------------------------------------------------ categories

export async function showCategories() {
  if (!(await refresh())) return;
  $('#categories-body').replaceChildren(...city.categories.map((c) => h('tr', { dataset: { code: c.code } },
    h('th', { scope: 'row', text: c.code }),
    h('td', {}, cellSelect('group', groupOptions(), c.group, t('categories.groupOf', { code: c.code }))),
    h('td', {}, cellInput({ name: 'name_de', value: c.name_de || '' }, t('categories.nameDeOf', { code: c.code }))),
    h('td', {}, cellInput({ name: 'name_en', value: c.name_en || '' }, t('categories.nameEnOf', { code: c.code }))),
    h('td', {}, cellSelect('priority', priorityOptions(), c.priority, t('categories.priorityOf', { code: c.code }))),
    h('td', {}, cellCheck(c.active !== false, t('categories.activeOf', { code: c.code }))),
    h('td', {}, saveButton('categories', c.code)))));
  const form = $('#new-category-form');
  $('#new-category-fields').replaceChildren(
    field('new-category-code', 'categories.col.code', input('code', { autocomplete: 'off', pattern: '[a-z0-9-]+' }), { hintKey: 'common.codeHint', required: true }),
    field('new-category-group', 'categories.col.group', select('group', groupOptions()), { required: true }),
    field('new-category-name-de', 'categories.col.nameDe', input('name_de'), { required: true }),
    field('new-category-name-en', 'categories.col.nameEn', input('name_en'), { required: true }),
    field('new-category-description-de', 'categories.descriptionDe', textarea('description_de', 2)),
    field('new-category-description-en', 'categories.descriptionEn', textarea('description_en', 2)),
    field('new-category-priority', 'categories.col.priority', select('priority', priorityOptions())),
  );
  form.querySelector('[name="priority"]').value = 'normal';
  clearFormError(form);
}

// ------------------------------------------------------------------ departments

export async function showDepartments() {
  if (!(await refresh())) return;
  $('#departments-body').replaceChildren(...city.departments.map((d) => h('tr', { dataset: { code: d.code } },
    h('th', { scope: 'row', text: d.code }),
    h('td', {}, cellInput({ name: 'name_de', value: d.name_de || '' }, t('departments.nameDeOf', { code: d.code }))),
    h('td', {}, cellInput({ name: 'name_en', value: d.name_en || '' }, t('departments.nameEnOf', { code: d.code }))),
    h('td', {}, cellInput({ name: 'email', type: 'email', value: d.email || '' }, t('departments.emailOf', { code: d.code }))),
    h('td', {}, cellCheck(d.active !== false, t('departments.activeOf', { code: d.code }))),
    h('td', {}, saveButton('departments', d.code)))));
  const form = $('#new-department-form');
  $('#new-department-fields').replaceChildren(
    field('new-department-code', 'departments.col.code', input('code', { autocomplete: 'off' }), { hintKey: 'common.codeHint', required: true }),
    field('new-department-name-de', 'departments.col.nameDe', input('name_de'), { required: true }),
    field('new-department-name-en', 'departments.col.nameEn', input('name_en'), { required: true }),
    field('new-department-email', 'departments.col.email', input('email', { type: 'email', autocomplete: 'off' })),
  );
  clearFormError(form);
}

// ------------------------------------------------------------------ saving

async function saveRow(kind, code, button) {
  const values = rowValues(button.closest('tr'));
  if (kind === 'departments' && !values.email) values.email = null;
  button.disabled = true;
  try {
    await call(`/api/v1/admin/${kind}/${encodeURIComponent(code)}`, { method: 'PATCH', json: values });
    announce(t('common.savedNamed', { name: code }));
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.refused', { message: error.message }), { error: true });
  } finally {
    button.disabled = false;
  }
}

async function create(e, kind) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!requireFilled(form)) return;
  const values = {};
  for (const control of form.querySelectorAll('input, select, textarea')) {
    if (control.value.trim()) values[control.name] = control.value.trim();
  }
  values.active = true;
  try {
    await call(`/api/v1/admin/${kind}`, { method: 'POST', json: values });
    announce(t('common.createdNamed', { name: values.code }));
    form.reset();
    await (kind === 'categories' ? showCategories() : showDepartments());
    $(`#${kind}-body tr[data-code="${CSS.escape(values.code)}"] th`)?.scrollIntoView({ block: 'nearest' });
  } catch (error) {
    showFormError(form, error);
  }
}
