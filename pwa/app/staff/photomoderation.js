// Photo moderation in the staff detail (dispatchers and admins): every photo of the report
// with its state; the private original on request (every view audited, never cached) with the
// areas the detectors hid drawn as boxes; hide/show, turn, restore, release; and one more area
// to hide, drawn with the pointer or typed as percentages (the keyboard way). Online only:
// the answers re-render the public copies in the background (202).
import { h, $, announce } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { localUrl } from '../api.js';
import { call } from './session.js';
import { field, clearFormError, showFormError } from './fields.js';

const BOX_FIELDS = ['x', 'y', 'width', 'height'];
let reload = async () => {};

/** `refresh()` reloads the shown report after an action. */
export function initPhotoModeration(refresh) { reload = refresh; }

const photoUrl = (report, photo, action) =>
  `/api/v1/staff/reports/${encodeURIComponent(report)}/photos/${encodeURIComponent(photo)}/${action}`;

function section() {
  let box = $('#photo-moderation');
  if (!box) {
    box = h('section', { id: 'photo-moderation', class: 'photo-moderation', 'aria-labelledby': 'photo-moderation-title' });
    $('#detail-photos').after(box);
  }
  return box;
}

/** Show the moderation panel of `data` (hidden for people who may not moderate). */
export function renderPhotoModeration(data) {
  const box = section();
  const photos = data.photos || [];
  box.hidden = !(data.actions || []).includes('photos') || photos.length === 0;
  if (box.hidden) { box.replaceChildren(); return; }
  box.replaceChildren(
    h('h2', { id: 'photo-moderation-title', text: t('photos.title') }),
    h('p', { class: 'hint', text: t('photos.lead') }),
    h('ul', { class: 'photo-moderation-list' }, photos.map((photo, i) => photoItem(data, photo, i + 1))),
    ...[photoLog(data)].filter(Boolean));
}

function stateText(photo) {
  const parts = [t(`photos.status.${photo.status}`)];
  if (photo.hidden_until_redrawn) parts.push(t('photos.redrawing'));
  else parts.push(photo.hidden ? t('photos.hidden') : photo.public ? t('photos.public') : t('photos.notPublic'));
  if (photo.rotation) parts.push(t('photos.turned', { deg: photo.rotation }));
  const auto = photo.regions?.auto?.length || 0;
  const staff = photo.regions?.staff?.length || 0;
  parts.push(t('photos.regionCount', { auto, staff }));
  return parts.join(' · ');
}

function photoItem(data, photo, n) {
  const titleId = `photo-mod-${photo.id}-title`;
  const item = h('li', { class: 'photo-mod', dataset: { photo: photo.id }, 'aria-labelledby': titleId },
    h('h3', { id: titleId, tabindex: '-1', text: t('photos.photoN', { n }) }),
    h('p', { class: 'photo-mod-state', text: stateText(photo) }),
    photo.failure_reason ? h('p', { class: 'hint', text: t('photos.reason', { reason: photo.failure_reason }) }) : null,
    photo.thumbnail ? h('img', { class: 'photo-mod-public', src: localUrl(photo.thumbnail.jpeg), alt: t('photos.publicAlt', { n }),
      width: photo.thumbnail.width, height: photo.thumbnail.height }) : null,
    buttons(data, photo),
    staffList(data, photo),
    h('div', { class: 'photo-mod-preview', hidden: true }));
  return item;
}

function button(key, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'btn btn-secondary', text: t(key), onclick, ...extra });
}

function buttons(data, photo) {
  const act = (action, json) => (e) => send(data.id, photo, action, json, e.currentTarget);
  const canRender = photo.status === 'ready' || photo.status === 'withheld';
  return h('div', { class: 'action-buttons photo-mod-buttons' },
    photo.preview ? button('photos.showOriginal', (e) => togglePreview(data, photo, e.currentTarget),
      { 'aria-expanded': 'false', 'data-action': 'original' }) : h('p', { class: 'hint', text: t('photos.noOriginal') }),
    photo.hidden ? button('photos.unhide', act('unhide'), { 'data-action': 'unhide' })
      : button('photos.hide', act('hide'), { 'data-action': 'hide' }),
    canRender ? button('photos.rotate', act('rotate', { degrees: 90 }), { 'data-action': 'rotate' }) : null,
    canRender && photo.has_original && (photo.rotation || photo.regions?.staff?.length)
      ? button('photos.restore', act('restore'), { 'data-action': 'restore' }) : null,
    photo.status === 'withheld' ? button('photos.release', act('release'), { 'data-action': 'release' }) : null);
}

async function send(report, photo, action, json, control, form = null) {
  if (control) control.disabled = true;
  try {
    const { status } = await call(photoUrl(report, photo.id, action), { method: 'POST', json: json ?? {} });
    announce(t(status === 202 ? 'photos.doneRendering' : 'photos.done', { action: t(`photos.action.${action}`) }));
    await reload();
    focusPhoto(photo);
    return true;
  } catch (error) {
    if (form) showFormError(form, error, 'photos.refused');
    announce(error instanceof TypeError ? t('common.offline') : t('photos.refused', { message: error.message }), { error: true });
    return false;
  } finally {
    if (control) control.disabled = false;
  }
}

// After the report was drawn again, the keyboard goes on where it was: at this photo.
function focusPhoto(photo) {
  document.querySelector(`.photo-mod[data-photo="${CSS.escape(photo.id)}"] h3`)?.focus();
}

function togglePreview(data, photo, control) {
  const panel = control.closest('.photo-mod').querySelector('.photo-mod-preview');
  const open = panel.hidden;
  panel.hidden = !open;
  control.setAttribute('aria-expanded', String(open));
  control.textContent = t(open ? 'photos.hideOriginal' : 'photos.showOriginal');
  if (open && !panel.firstChild) panel.append(...previewParts(data, photo));
}

const pct = (v) => `${(v * 100).toFixed(2)}%`;

function drawBox(frame, box, cls, label) {
  const [x0, y0, x1, y1] = box;
  const el = h('div', { class: `region-box ${cls}`, title: label });
  Object.assign(el.style, { left: pct(x0), top: pct(y0), width: pct(x1 - x0), height: pct(y1 - y0) });
  frame.append(el);
  return el;
}

function previewParts(data, photo) {
  const n = (data.photos || []).indexOf(photo) + 1;
  const img = h('img', { src: localUrl(photo.preview), alt: t('photos.originalAlt', { n }), class: 'photo-original', draggable: 'false' });
  const frame = h('div', { class: 'region-frame' }, img);
  for (const region of photo.regions?.auto || []) drawBox(frame, region.box, 'region-auto', t(`photos.kind.${region.kind}`));
  for (const region of photo.regions?.staff || []) drawBox(frame, region.box, 'region-staff', t('photos.kind.region'));
  const form = regionForm(data, photo, frame);
  enablePointer(frame, form);
  return [
    h('p', { class: 'hint', text: t('photos.originalHint') }),
    h('p', { class: 'region-legend' }, h('span', { class: 'legend-auto', text: t('photos.legendAuto') }), ' ',
      h('span', { class: 'legend-staff', text: t('photos.legendStaff') }), ' ',
      h('span', { class: 'legend-new', text: t('photos.legendNew') })),
    frame, form];
}

// The box being drawn or typed: one element per frame, updated from the form's values.
function showDraft(frame, form) {
  const [x, y, w, hgt] = BOX_FIELDS.map((name) => Number(form.elements[name].value) / 100);
  let draft = frame.querySelector('.region-new');
  if (![x, y, w, hgt].every(Number.isFinite) || w <= 0 || hgt <= 0) { draft?.remove(); return; }
  draft ??= drawBox(frame, [0, 0, 0, 0], 'region-new', t('photos.legendNew'));
  Object.assign(draft.style, { left: pct(x), top: pct(y), width: pct(Math.min(w, 1 - x)), height: pct(Math.min(hgt, 1 - y)) });
}

function regionForm(data, photo, frame) {
  const id = (name) => `region-${photo.id}-${name}`;
  const number = (name) => h('input', { type: 'number', name, min: 0, max: 100, step: 0.1, inputmode: 'decimal' });
  const form = h('form', { class: 'region-form', novalidate: true, 'aria-labelledby': id('legend') },
    h('h4', { id: id('legend'), text: t('photos.addRegion') }),
    h('p', { class: 'hint', id: id('hint'), text: t('photos.addRegionHint') }),
    h('div', { class: 'region-fields' }, BOX_FIELDS.map((name) => field(id(name), `photos.field.${name}`, number(name)))),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'btn btn-primary', text: t('photos.addRegionSubmit') }));
  form.addEventListener('input', () => showDraft(frame, form));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormError(form);
    const values = Object.fromEntries(BOX_FIELDS.map((name) => [name, form.elements[name].value.trim()]));
    const missing = BOX_FIELDS.filter((name) => values[name] === '' || !Number.isFinite(Number(values[name])));
    if (missing.length) {
      showFormError(form, { message: t('photos.fillAll'), fields: Object.fromEntries(missing.map((m) => [m, [t('photos.needNumber')]])) },
        'photos.refused');
      return;
    }
    const json = Object.fromEntries(BOX_FIELDS.map((name) => [name, Number(values[name]) / 100]));
    await send(data.id, photo, 'regions', json, form.querySelector('button[type=submit]'), form);
  });
  return form;
}

// Drawing with a pointer fills the same form (rounded to 0.1 %), so both ways send alike.
function enablePointer(frame, form) {
  let start = null;
  const at = (e) => {
    const r = frame.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
  };
  const fill = (a, b) => {
    const values = { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(a[0] - b[0]), height: Math.abs(a[1] - b[1]) };
    for (const name of BOX_FIELDS) form.elements[name].value = (values[name] * 100).toFixed(1);
    showDraft(frame, form);
  };
  frame.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    start = at(e);
    frame.setPointerCapture(e.pointerId);
  });
  frame.addEventListener('pointermove', (e) => { if (start) fill(start, at(e)); });
  frame.addEventListener('pointerup', (e) => {
    if (!start) return;
    fill(start, at(e));
    start = null;
    form.querySelector('button[type=submit]').focus(); // the box is ready to send
  });
}

function staffList(data, photo) {
  const regions = photo.regions?.staff || [];
  if (!regions.length) return h('p', { class: 'hint', text: t('photos.noStaffRegions') });
  return h('ul', { class: 'staff-regions', 'aria-label': t('photos.staffRegions') }, regions.map((region, i) => {
    const [x0, y0, x1, y1] = region.box;
    const label = t('photos.regionN', { n: i + 1, x: (x0 * 100).toFixed(1), y: (y0 * 100).toFixed(1),
      w: ((x1 - x0) * 100).toFixed(1), h: ((y1 - y0) * 100).toFixed(1) });
    return h('li', {}, label, ' ', photo.has_original ? h('button', { type: 'button', class: 'btn btn-secondary',
      text: t('photos.removeRegion'), 'aria-label': t('photos.removeRegionN', { n: i + 1 }),
      onclick: (e) => remove(data.id, photo, i, e.currentTarget) }) : null);
  }));
}

async function remove(report, photo, index, control) {
  control.disabled = true;
  try {
    await call(photoUrl(report, photo.id, `regions/${index}`), { method: 'DELETE' });
    announce(t('photos.doneRendering', { action: t('photos.action.region_remove') }));
    await reload();
    focusPhoto(photo);
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('photos.refused', { message: error.message }), { error: true });
    control.disabled = false;
  }
}

function photoLog(data) {
  const log = data.photo_log || [];
  if (!log.length) return null;
  return h('details', { class: 'photo-log' }, h('summary', { text: t('photos.log') }),
    h('ul', {}, log.map((e) => h('li', {}, h('time', { datetime: e.at, text: formatDate(e.at) }), ' – ',
      `${e.actor}: ${t(`photos.action.${e.action.replace(/^photo_/, '')}`)} (${e.photo || ''})`))));
}
