// Admins: response templates (issue 20.1). A table of every template (scope, status, active)
// with "edit" and "deactivate/activate", and one form to add or change a template: name,
// category or group, target status, the German and English texts. The server checks the
// placeholders; its refusals show at the field (texts.de, texts.en, name, …).
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { call, getStaff } from './session.js';
import { loadCity, localName } from './departments.js';
import { field, input, select, textarea, requireFilled, showFormError, clearFormError, setError } from './fields.js';

const STATUSES = ['acknowledged', 'in_progress', 'resolved', 'rejected', 'closed', 'reopened'];
let bound = false;
let templates = [];
let editing = null; // the template being changed, or null for a new one

export function initTemplates() {
  if (bound) return;
  bound = true;
  $('#template-form').addEventListener('submit', save);
  $('#template-cancel').addEventListener('click', () => { fill(null); $('#templates-title').focus(); });
}

const scopeOf = (tpl) => (tpl.category ? `category:${tpl.category}` : tpl.group ? `group:${tpl.group}` : '');

export async function showTemplates() {
  let data;
  let city;
  try {
    [data, city] = await Promise.all([getStaff('/api/v1/admin/templates'), loadCity()]);
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return;
  }
  templates = data.templates;
  const names = new Map([...city.groups.map((g) => [`group:${g.code}`, localName(g)]),
    ...city.categories.map((c) => [`category:${c.code}`, localName(c)])]);
  $('#templates-placeholders').textContent = t('templates.placeholders', { list: data.placeholders.map((p) => `{${p}}`).join(' ') });
  $('#templates-body').replaceChildren(...templates.map((tpl) => h('tr', { dataset: { id: String(tpl.id) }, class: tpl.active ? null : 'inactive' },
    h('th', { scope: 'row', text: tpl.name }),
    h('td', { text: names.get(scopeOf(tpl)) || t('templates.allCategories') }),
    h('td', { text: tpl.status ? t(`status.${tpl.status}`) : t('templates.anyStatus') }),
    h('td', { text: tpl.active ? t('templates.active') : t('templates.inactive') }),
    h('td', {}, h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-secondary', dataset: { edit: String(tpl.id) }, 'aria-label': t('templates.editNamed', { name: tpl.name }), onclick: () => { fill(tpl); $('#template-name').focus(); } }, t('templates.edit')),
      h('button', { type: 'button', class: 'btn btn-secondary', dataset: { toggle: String(tpl.id) }, 'aria-label': t(tpl.active ? 'templates.deactivateNamed' : 'templates.activateNamed', { name: tpl.name }), onclick: (e) => toggle(tpl, e.currentTarget) }, t(tpl.active ? 'templates.deactivate' : 'templates.activate')))))));
  if (!$('#template-name')) {
    const scope = select('scope', [['', t('templates.allCategories')],
      ...city.groups.map((g) => [`group:${g.code}`, t('templates.groupNamed', { name: localName(g) })]),
      ...city.categories.map((c) => [`category:${c.code}`, localName(c)])]);
    $('#template-fields').replaceChildren(
      field('template-name', 'templates.name', input('name', { maxlength: 120, autocomplete: 'off' }), { required: true }),
      field('template-scope', 'templates.scope', scope),
      field('template-status', 'templates.status', select('status', [['', t('templates.anyStatus')], ...STATUSES.map((s) => [s, t(`status.${s}`)])])),
      field('template-text-de', 'templates.textDe', Object.assign(textarea('texts.de', 4), { lang: 'de' }), { hintKey: 'templates.textHint', required: true }),
      field('template-text-en', 'templates.textEn', Object.assign(textarea('texts.en', 4), { lang: 'en' }), { hintKey: 'templates.textHint', required: true }));
  }
  fill(editing && templates.find((tpl) => tpl.id === editing.id));
}

function fill(tpl) {
  editing = tpl || null;
  const form = $('#template-form');
  const value = (name, v) => { form.querySelector(`[name="${name}"]`).value = v; };
  value('name', tpl?.name || '');
  value('scope', tpl ? scopeOf(tpl) : '');
  value('status', tpl?.status || '');
  value('texts.de', tpl?.texts.de || '');
  value('texts.en', tpl?.texts.en || '');
  for (const control of form.querySelectorAll('[name]')) setError(control, null);
  clearFormError(form);
  $('#template-form-title').textContent = tpl ? t('templates.editTitle', { name: tpl.name }) : t('templates.new');
  $('#template-submit').textContent = tpl ? t('templates.save') : t('templates.create');
  $('#template-cancel').hidden = !tpl;
}

async function save(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!requireFilled(form)) return;
  const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
  const [kind, code] = value('scope').split(':');
  const body = {
    name: value('name'), category: kind === 'category' ? code : null, group: kind === 'group' ? code : null,
    status: value('status') || null, texts: { ...(editing?.texts || {}), de: value('texts.de'), en: value('texts.en') },
  };
  try {
    if (editing) await call(`/api/v1/admin/templates/${editing.id}`, { method: 'PATCH', json: body });
    else await call('/api/v1/admin/templates', { method: 'POST', json: body });
    announce(t(editing ? 'templates.saved' : 'templates.created', { name: body.name }));
    fill(null);
    await showTemplates();
  } catch (error) {
    showFormError(form, error);
  }
}

async function toggle(tpl, button) {
  button.disabled = true;
  try {
    await call(`/api/v1/admin/templates/${tpl.id}`, { method: 'PATCH', json: { active: !tpl.active } });
    announce(t(tpl.active ? 'templates.deactivated' : 'templates.activated', { name: tpl.name }));
    await showTemplates();
    $(`#templates-body [data-toggle="${tpl.id}"]`)?.focus();
  } catch (error) {
    button.disabled = false;
    announce(error instanceof TypeError ? t('common.offline') : t('common.refused', { message: error.message }), { error: true });
  }
}
