// Form fields with a visible label, hint and error wired up for screen readers, and the checks
// and server-error display every staff form shares.
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';

/** A labelled field around `control` (its id becomes `id`); `label` overrides t(labelKey). */
export function field(id, labelKey, control, { hintKey = null, required = false, label: text = null } = {}) {
  control.id = id;
  control.setAttribute('aria-describedby', [hintKey ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '));
  if (required) control.required = true;
  const isCheck = control.type === 'checkbox';
  const label = h('label', { for: id }, text ?? t(labelKey),
    required ? [' ', h('span', { class: 'required', text: t('common.required') })] : null);
  return h('div', { class: isCheck ? 'check' : 'field' },
    isCheck ? [control, label] : [label, control],
    hintKey ? h('p', { class: 'hint', id: `${id}-hint`, text: t(hintKey) }) : null,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

export const input = (name, attrs = {}) => h('input', { type: 'text', name, ...attrs });
export const textarea = (name, rows = 3) => h('textarea', { name, rows, maxlength: 2000 });
export const select = (name, options) => h('select', { name },
  ...options.map(([value, text]) => h('option', { value, text })));

export function setError(control, message) {
  const error = $(`#${CSS.escape(control.id)}-error`);
  control.setAttribute('aria-invalid', message ? 'true' : 'false');
  if (!error) return;
  error.textContent = message || '';
  error.hidden = !message;
}

/** Check required fields; mark and focus the first empty one. True when all are filled. */
export function requireFilled(form) {
  let first = null;
  for (const control of form.querySelectorAll('[required]')) {
    const empty = !String(control.value || '').trim();
    setError(control, empty ? t('common.fieldRequired') : null);
    if (empty && !first) first = control;
  }
  clearFormError(form);
  if (first) {
    first.focus();
    announce(t('common.checkFields'), { error: true });
  }
  return !first;
}

export function clearFormError(form) {
  const box = form.querySelector('.form-error');
  if (box) { box.textContent = ''; box.hidden = true; }
}

/** Show a refusal from the server in the form (field messages where the field is known). */
export function showFormError(form, error, messageKey = 'common.refused') {
  if (!form) return;
  const box = form.querySelector('.form-error');
  const message = error instanceof TypeError ? t('common.offline') : t(messageKey, { message: error.message });
  if (box) { box.textContent = message; box.hidden = false; }
  let first = null;
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!control) continue;
    // Radios: the message belongs to their group (a fieldset with role radiogroup); the
    // focus goes to the chosen radio.
    const group = control.type === 'radio' ? control.closest('[role="radiogroup"]') : null;
    setError(group || control, [].concat(messages).join(' '));
    first ??= group ? (group.querySelector('input:checked') || control) : control;
  }
  first?.focus();
}
