// The action buttons of a report and their small forms (resolve, note, forward, duplicate,
// reject, asset). Which buttons show follows the report's `actions` and `transitions` from the server.
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { preparePhoto } from '../photos.js';
import { departmentChoices } from './departments.js';
import { field, textarea, requireFilled } from './fields.js';
import { assetForm } from './assetform.js';
import { templatePicker } from './templatepicker.js';

let openId = null;
let handlers = null;
let report = null;
let afterPhoto = null; // {blob, name, url}

const can = (data, action) => (data.actions || []).includes(action);
const may = (data, status) => can(data, 'status') && (data.transitions || []).includes(status);

// Order = order on screen: the everyday steps first.
const ACTIONS = [
  { id: 'claim', when: (d, me) => can(d, 'claim') && d.assigned_to?.username !== me?.username, run: { action: 'claim', json: {} } },
  { id: 'start', when: (d) => may(d, 'in_progress'), run: { action: 'status', json: { status: 'in_progress' } }, primary: true },
  { id: 'resolve', when: (d) => can(d, 'resolve') && (d.transitions || []).includes('resolved'), form: resolveForm, primary: true },
  { id: 'acknowledge', when: (d) => may(d, 'acknowledged'), form: acknowledgeForm },
  { id: 'note', when: (d) => can(d, 'note'), form: noteForm },
  { id: 'forward', when: (d) => can(d, 'forward'), form: forwardForm },
  { id: 'duplicate', when: (d) => can(d, 'duplicate'), form: duplicateForm },
  { id: 'asset', when: (d) => can(d, 'asset'), form: () => assetForm(report) },
  { id: 'reject', when: (d) => may(d, 'rejected'), form: rejectForm },
  { id: 'reopen', when: (d) => may(d, 'reopened'), run: { action: 'status', json: { status: 'reopened' } } },
  { id: 'close', when: (d) => may(d, 'closed'), run: { action: 'status', json: { status: 'closed' } } },
];

/** Draw the buttons for `data`; `perform(spec, form)` and `showReporter(button)` do the work. */
export function renderActions(data, me, { perform, showReporter }) {
  report = data;
  handlers = { perform, showReporter };
  const buttons = ACTIONS.filter((a) => a.when(data, me)).map((a) => h('button', {
    type: 'button', class: `btn ${a.primary ? 'btn-primary' : 'btn-secondary'}`, dataset: { action: a.id },
    'aria-expanded': a.form ? String(openId === a.id) : null, 'aria-controls': a.form ? 'action-panel' : null,
    onclick: (e) => onAction(a, e.currentTarget),
  }, t(`action.${a.id}`)));
  const reporter = can(data, 'reporter') && data.has_reporter_email
    ? [h('button', { type: 'button', id: 'show-reporter', class: 'btn btn-secondary', dataset: { action: 'reporter' },
      onclick: (e) => showReporter(e.currentTarget) }, t('action.reporter')),
    h('p', { id: 'reporter-email', class: 'reporter-email', 'aria-live': 'polite', hidden: true })]
    : [];
  $('#action-buttons').replaceChildren(...buttons, ...reporter);
  $('#detail-actions').hidden = buttons.length === 0 && reporter.length === 0;
  const open = ACTIONS.find((a) => a.id === openId && a.when(data, me));
  if (!open) closeActionForm();
  else if ($('#action-panel').firstElementChild?.id !== `${open.id}-form`) renderForm(open, { focus: false });
  // (an open form stays as it is: what was typed survives a refresh of the report)
}

export function closeActionForm() {
  openId = null;
  if (afterPhoto?.url) URL.revokeObjectURL(afterPhoto.url);
  afterPhoto = null;
  $('#action-panel').replaceChildren();
  for (const b of document.querySelectorAll('#action-buttons [aria-expanded]')) b.setAttribute('aria-expanded', 'false');
}

/** Queued actions wait once: their buttons are off until sent (a second "start" would fail). */
export function markPending(kinds) {
  const once = new Set(kinds.filter((kind) => kind !== 'note'));
  for (const button of document.querySelectorAll('#action-buttons [data-action]')) {
    const waiting = once.has(button.dataset.action);
    button.disabled = waiting;
    if (waiting) button.setAttribute('aria-describedby', 'detail-pending');
    else button.removeAttribute('aria-describedby');
  }
}

// The buttons are drawn anew after an action: keep the keyboard user's place (the same button
// if it is still there and usable, else the report's title).
function restoreFocus(actionId) {
  const active = document.activeElement;
  if (active && active !== document.body && document.contains(active) && !active.disabled) return;
  const same = $(`#action-buttons [data-action="${actionId}"]`);
  (same && !same.disabled ? same : $('#detail-title'))?.focus();
}

async function onAction(action, button) {
  if (!action.form) {
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    try { await handlers.perform({ id: action.id, ...action.run }, null); } finally {
      button.removeAttribute('aria-busy');
      if (document.contains(button)) button.disabled = false;
    }
    restoreFocus(action.id);
    return;
  }
  if (openId === action.id) { closeActionForm(); button.focus(); return; }
  closeActionForm();
  openId = action.id;
  button.setAttribute('aria-expanded', 'true');
  renderForm(action, { focus: true });
}

function renderForm(action, { focus }) {
  const form = action.form();
  form.classList.add('action-form');
  form.id = `${action.id}-form`;
  form.noValidate = true;
  form.setAttribute('aria-labelledby', `${action.id}-form-title`);
  form.prepend(h('h3', { id: `${action.id}-form-title`, text: t(`action.${action.id}`) }));
  form.append(h('p', { class: 'field-error form-error', role: 'alert', hidden: true }),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'btn btn-primary', dataset: { submit: action.id } }, t(`action.${action.id}.submit`)),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { closeActionForm(); $(`#action-buttons [data-action="${action.id}"]`)?.focus(); } }, t('common.cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (form.dataset.busy) return; // still looking something up (the asset form's number)
    form.dataset.busy = 'true';
    let spec = null;
    try { spec = await form.collect(); } finally { delete form.dataset.busy; }
    if (!spec) return;
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    let done = false;
    try { done = await handlers.perform({ id: action.id, ...spec }, form); } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
    if (done && openId === action.id) closeActionForm();
    if (done) restoreFocus(action.id);
  });
  $('#action-panel').replaceChildren(form);
  if (focus) form.querySelector('input, select, textarea')?.focus();
}

// ------------------------------------------------------------------ the forms

function resolveForm() {
  const note = textarea('public_note');
  const camera = h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'visually-hidden-file', id: 'resolve-camera' });
  const gallery = h('input', { type: 'file', accept: 'image/*', class: 'visually-hidden-file', id: 'resolve-gallery' });
  const preview = h('div', { id: 'resolve-preview', class: 'photo-previews', 'aria-live': 'polite' });
  const form = h('form', {},
    templatePicker(report, 'resolved', note, 'resolve'),
    field('resolve-note', 'resolve.note', note, { hintKey: 'resolve.noteHint', required: true }),
    h('fieldset', { class: 'photo-choice' },
      h('legend', { text: t('resolve.photo') }),
      h('p', { class: 'hint', text: t('resolve.photoHint') }),
      // The inputs sit inside their labels, so the label (styled as a button) shows the focus.
      h('div', { class: 'button-row' },
        h('label', { class: 'btn btn-secondary file-label' },
          h('span', { class: 'icon-camera', 'aria-hidden': 'true' }), t('resolve.camera'), camera),
        h('label', { class: 'btn btn-secondary file-label' }, t('resolve.gallery'), gallery)),
      preview));
  const pick = async (input) => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    preview.textContent = t('resolve.preparing');
    const prepared = await preparePhoto(file);
    if (afterPhoto?.url) URL.revokeObjectURL(afterPhoto.url);
    afterPhoto = { blob: prepared.blob, name: prepared.name, url: URL.createObjectURL(prepared.blob) };
    renderAfterPreview(preview);
  };
  camera.addEventListener('change', () => pick(camera));
  gallery.addEventListener('change', () => pick(gallery));
  if (afterPhoto) renderAfterPreview(preview);
  form.collect = () => (requireFilled(form)
    ? { action: 'resolve', note: note.value.trim(), photo: afterPhoto ? { blob: afterPhoto.blob, name: afterPhoto.name } : null }
    : null);
  return form;
}

function renderAfterPreview(preview) {
  if (!afterPhoto) { preview.replaceChildren(); return; }
  preview.replaceChildren(h('div', { class: 'photo-preview after-preview' },
    h('img', { src: afterPhoto.url, alt: t('resolve.previewAlt'), width: 96, height: 96 }),
    h('button', { type: 'button', class: 'remove-photo', onclick: () => {
      URL.revokeObjectURL(afterPhoto.url);
      afterPhoto = null;
      preview.replaceChildren();
      announce(t('resolve.photoRemoved'));
      $('#resolve-camera')?.focus();
    } }, t('resolve.removePhoto'))));
  announce(t('resolve.photoAdded'));
}

function noteForm() {
  const text = textarea('text', 4);
  const form = h('form', {}, field('note-text', 'note.text', text, { hintKey: 'note.hint', required: true }));
  form.collect = () => (requireFilled(form) ? { action: 'notes', json: { text: text.value.trim() } } : null);
  return form;
}

function forwardForm() {
  const select = h('select', { name: 'department' }, h('option', { value: '', text: t('forward.choose') }));
  departmentChoices(report.department?.code, report.forward_targets).then((choices) => {
    select.append(...choices.map((d) => h('option', { value: d.code, text: d.name })));
  });
  const reason = textarea('reason');
  const form = h('form', {},
    field('forward-department', 'forward.department', select, { required: true }),
    field('forward-reason', 'forward.reason', reason, { hintKey: 'forward.reasonHint', required: true }));
  form.collect = () => (requireFilled(form)
    ? { action: 'forward', json: { department: select.value, reason: reason.value.trim() } } : null);
  return form;
}

function duplicateForm() {
  const of = h('input', { type: 'text', name: 'of', autocomplete: 'off', spellcheck: 'false' });
  const note = textarea('public_note');
  const form = h('form', {},
    field('duplicate-of', 'duplicate.of', of, { hintKey: 'duplicate.ofHint', required: true }),
    field('duplicate-note', 'duplicate.note', note, { hintKey: 'duplicate.noteHint' }));
  form.collect = () => {
    if (!requireFilled(form)) return null;
    const json = { of: of.value.trim() };
    if (note.value.trim()) json.public_note = note.value.trim();
    return { action: 'duplicate', json };
  };
  return form;
}

// Acknowledging may tell the reporter something (a template, e.g. the expected date); the
// note is optional: an empty one just confirms.
function acknowledgeForm() {
  const note = textarea('public_note');
  const form = h('form', {},
    templatePicker(report, 'acknowledged', note, 'acknowledge'),
    field('acknowledge-note', 'acknowledge.note', note, { hintKey: 'acknowledge.noteHint' }));
  form.collect = () => {
    const json = { status: 'acknowledged' };
    if (note.value.trim()) json.public_note = note.value.trim();
    return { action: 'status', json };
  };
  return form;
}

function rejectForm() {
  const reason = h('select', { name: 'reason' },
    h('option', { value: '', text: t('reject.choose') }),
    ...['not_responsible', 'cannot_fix'].map((code) => h('option', { value: code, text: t(`reject.reason.${code}`) })));
  const note = textarea('public_note');
  // Not the city's: who is responsible instead (name, and a link to report it there), public.
  const who = h('input', { type: 'text', name: 'responsible', maxlength: 200, autocomplete: 'organization' });
  const link = h('input', { type: 'url', name: 'responsible_url', maxlength: 500, inputmode: 'url', placeholder: 'https://' });
  const whoFields = h('div', { class: 'responsible-fields' },
    field('reject-responsible', 'reject.responsible', who, { hintKey: 'reject.responsibleHint', required: true }),
    field('reject-responsible-url', 'reject.responsibleUrl', link));
  const toggle = () => {
    const needed = reason.value === 'not_responsible';
    whoFields.hidden = !needed;
    who.required = needed;
  };
  reason.addEventListener('change', toggle);
  toggle();
  const form = h('form', {},
    field('reject-reason', 'reject.reason', reason, { required: true }),
    whoFields,
    templatePicker(report, 'rejected', note, 'reject'),
    field('reject-note', 'reject.note', note, { hintKey: 'reject.noteHint', required: true }));
  form.collect = () => {
    if (!requireFilled(form)) return null;
    const json = { status: 'rejected', reason: reason.value, public_note: note.value.trim() };
    if (reason.value === 'not_responsible') json.responsible = { name: who.value.trim(), url: link.value.trim() || null };
    return { action: 'status', json };
  };
  return form;
}
