// The routing-rule editor: one table row per rule (category or group, districts, department);
// saving replaces all rules at once (PUT). The most specific rule wins on the server.
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { call } from './session.js';
import { loadCity, localName } from './departments.js';

let city = null;
let bound = false;

export function initRules() {
  if (bound) return;
  bound = true;
  $('#add-rule').addEventListener('click', addRule);
  $('#rules-form').addEventListener('submit', save);
  $('#rules-body').addEventListener('click', (e) => {
    const button = e.target.closest('button.remove-rule');
    if (button) removeRule(Number(button.dataset.index));
  });
}

export async function showRules() {
  try {
    city = await loadCity({ fresh: true });
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return;
  }
  renderRows(city.rules.map((rule) => ({
    scope: rule.category ? `category:${rule.category}` : rule.group ? `group:${rule.group}` : '',
    districts: (rule.districts || []).join(', '),
    department: rule.department,
  })));
}

function scopeSelect(value, n) {
  const groups = city.groups.map((g) => h('option', { value: `group:${g.code}`, text: localName(g) }));
  const categories = city.categories.map((c) => h('option', { value: `category:${c.code}`, text: localName(c) }));
  const control = h('select', { class: 'rule-scope', name: 'scope', 'aria-label': t('rules.scopeLabel', { n }) },
    h('option', { value: '', text: t('rules.anyCategory') }),
    h('optgroup', { label: t('rules.groups') }, groups),
    h('optgroup', { label: t('rules.categories') }, categories));
  control.value = value;
  return control;
}

function departmentSelect(value, n) {
  const control = h('select', { class: 'rule-department', name: 'department', 'aria-label': t('rules.departmentLabel', { n }) },
    city.departments.map((d) => h('option', { value: d.code, text: localName(d) })));
  control.value = value;
  return control;
}

function renderRows(rows) {
  $('#rules-body').replaceChildren(...rows.map((row, i) => {
    const n = i + 1;
    return h('tr', { dataset: { index: i } },
      h('th', { scope: 'row', text: String(n) }),
      h('td', {}, scopeSelect(row.scope, n)),
      h('td', {}, h('input', {
        type: 'text', class: 'rule-districts', name: 'districts', value: row.districts, inputmode: 'numeric',
        'aria-label': t('rules.districtsLabel', { n }), 'aria-describedby': 'rules-hint', autocomplete: 'off',
      })),
      h('td', {}, departmentSelect(row.department, n)),
      h('td', {}, h('button', {
        type: 'button', class: 'btn btn-secondary remove-rule', dataset: { index: i },
        'aria-label': t('rules.removeLabel', { n }),
      }, t('rules.remove'))));
  }));
  showError('');
}

function readRows() {
  return [...$('#rules-body').querySelectorAll('tr')].map((tr) => ({
    scope: tr.querySelector('.rule-scope').value,
    districts: tr.querySelector('.rule-districts').value,
    department: tr.querySelector('.rule-department').value,
  }));
}

function addRule() {
  const rows = readRows();
  rows.push({ scope: '', districts: '', department: city.departments[0]?.code || '' });
  renderRows(rows);
  const last = $('#rules-body tr:last-child .rule-scope');
  last.focus();
  announce(t('rules.added', { n: rows.length }));
}

function removeRule(index) {
  const rows = readRows();
  rows.splice(index, 1);
  renderRows(rows);
  ($(`#rules-body tr:nth-child(${Math.min(index + 1, rows.length)}) .remove-rule`) || $('#add-rule')).focus();
  announce(t('rules.removed', { n: index + 1 }));
}

function showError(text, control = null) {
  for (const el of document.querySelectorAll('#rules-body [aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
  const box = $('#rules-error');
  box.textContent = text;
  box.hidden = !text;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  }
}

/** The rules to send, or null after showing what is wrong. Districts may be typed "1, 2" or "01 02". */
function collect() {
  const known = new Set(city.districts.map((d) => d.number));
  const rules = [];
  const rows = [...$('#rules-body').querySelectorAll('tr')];
  for (const [i, tr] of rows.entries()) {
    const scope = tr.querySelector('.rule-scope').value;
    const input = tr.querySelector('.rule-districts');
    const districts = input.value.split(/[\s,;]+/).filter(Boolean).map((d) => d.padStart(2, '0'));
    const unknown = districts.filter((d) => !known.has(d));
    if (unknown.length) {
      showError(t('rules.unknownDistrict', { n: i + 1, districts: unknown.join(', ') }), input);
      return null;
    }
    const rule = { department: tr.querySelector('.rule-department').value };
    if (scope.startsWith('group:')) rule.group = scope.slice(6);
    if (scope.startsWith('category:')) rule.category = scope.slice(9);
    if (districts.length) rule.districts = [...new Set(districts)];
    rules.push(rule);
  }
  if (!rules.some((r) => !r.group && !r.category && !r.districts)) {
    showError(t('rules.needFallback'), $('#add-rule'));
    return null;
  }
  return rules;
}

async function save(e) {
  e.preventDefault();
  const rules = collect();
  if (!rules) return;
  const button = $('#save-rules');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await call('/api/v1/admin/routing-rules', { method: 'PUT', json: { rules } });
    announce(t('rules.saved', { n: rules.length }));
    await showRules();
  } catch (error) {
    showError(error instanceof TypeError ? t('common.offline') : t('common.refused', { message: error.message }));
    announce(t('rules.notSaved'), { error: true });
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
