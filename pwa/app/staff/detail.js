// One report for staff: facts, photos, internal notes, history and the actions this user may
// take. Actions go through the offline action queue; the answer replaces the shown report.
import { h, $, announce } from '../dom.js';
import { t, formatDate, statusLabel, getLang } from '../i18n.js';
import { localUrl } from '../api.js';
import { call, currentUser } from './session.js';
import { priorityLabel, personName, placeText } from './labels.js';
import { renderActions, closeActionForm, markPending } from './actionforms.js';
import { showFormError } from './fields.js';
import * as actions from './actionqueue.js';
import { assetLabel } from '../assets.js';
import { renderAssetHistory } from './assethistory.js';
import { initPhotoModeration, renderPhotoModeration } from './photomoderation.js';

let current = null; // {id, data}
let loadTicket = 0;
let navigate = () => {};
const foreground = new Set(); // keys of actions this page is waiting for itself

export function initDetail(nav) { navigate = nav; }

// After a photo action: the report again, from the server (the photo's new state).
initPhotoModeration(async () => {
  if (current) await openDetail(current.id, { back: $('#detail-back').getAttribute('href'), focus: false });
});

/** Show report `id`; `back` is the list path the back link returns to. */
export async function openDetail(id, { back, focus = true }) {
  const mine = ++loadTicket;
  if (current?.data?.id !== id) $('#detail-body').hidden = true; // never another report's facts
  current = { id, data: null };
  $('#detail-back').setAttribute('href', back);
  $('#detail-not-found').hidden = true;
  $('#detail-loading').hidden = false;
  let data;
  let cachedAt = null;
  try {
    const answer = await call(`/api/v1/staff/reports/${encodeURIComponent(id)}`);
    data = answer.data;
    cachedAt = answer.headers?.get('X-MM-Cached') || null;
  } catch (error) {
    if (mine !== loadTicket) return;
    $('#detail-loading').hidden = true;
    if (error.status === 401) return;
    $('#detail-body').hidden = true;
    $('#detail-not-found').hidden = false;
    let reason = 'common.loadFailed';
    if (error instanceof TypeError) reason = 'detail.offlineNoCopy';
    else if ([403, 404].includes(error.status)) reason = 'detail.notFoundText';
    $('#detail-not-found p').textContent = t(reason);
    document.title = `${t('detail.notFoundTitle')} – ${t('staff.title')}`;
    if (focus) $('#report-detail').focus();
    return;
  }
  if (mine !== loadTicket) return;
  $('#detail-loading').hidden = true;
  renderDetail(data, { cachedAt });
  if (focus) $('#detail-title').focus();
}

export function closeDetail() {
  loadTicket += 1;
  current = null;
  closeActionForm();
}


function flagText(flag) {
  const text = t(`flag.${flag}`);
  return text === `flag.${flag}` ? flag : text; // a flag newer than this app: its code
}

function fact(label, value) {
  if (!value) return [];
  return [h('dt', { text: label }), h('dd', {}, value)];
}

function renderDetail(data, { cachedAt = null } = {}) {
  current = { id: data.id, data };
  $('#detail-body').hidden = false;
  $('#detail-title').textContent = data.category?.name || data.id;
  document.title = `${data.category?.name || data.id} – ${t('staff.title')}`;
  const status = $('#detail-status');
  status.className = `badge status-${data.status}`;
  status.textContent = statusLabel(data.status);
  const priority = $('#detail-priority');
  priority.className = `badge prio-${data.priority}`;
  priority.textContent = priorityLabel(data.priority);
  $('#detail-overdue').hidden = !data.overdue;
  $('#detail-stale').hidden = !cachedAt;
  $('#detail-stale').textContent = cachedAt ? t('detail.stale', { time: formatDate(cachedAt) }) : '';
  $('#detail-facts').replaceChildren(
    ...fact(t('detail.id'), data.id),
    ...fact(t('detail.department'), data.department?.name),
    ...fact(t('detail.place'), placeText(data)),
    ...fact(t('detail.asset'), data.asset ? `${assetLabel(data.asset)}${data.asset.retired ? ` (${t('detail.assetRetired')})` : ''}` : null),
    ...fact(t('detail.position'), data.lat != null ? h('a', {
      href: `geo:${data.lat},${data.lon}`, text: `${Number(data.lat).toFixed(5)}, ${Number(data.lon).toFixed(5)}` }) : null),
    ...fact(t('detail.created'), formatDate(data.created_at)),
    ...fact(t('detail.due'), data.due_at ? formatDate(data.due_at) : null),
    ...fact(t('detail.assigned'), data.assigned_to ? personName(data.assigned_to) : t('detail.nobody')),
    ...fact(t('detail.flags'), (data.review_flags || []).map(flagText).join(', ')),
    ...fact(t('detail.duplicateOf'), data.duplicate_of),
    ...fact(t('detail.outcome'), data.outcome ? t(`outcome.${data.outcome}`) : null),
    ...fact(t('detail.responsible'), data.responsible?.name ? h('span', {}, data.responsible.name,
      data.responsible.url ? ' – ' : null,
      data.responsible.url ? h('a', { href: data.responsible.url, rel: 'noopener noreferrer external', text: data.responsible.url }) : null) : null),
    ...fact(t('detail.reporterNotFixed'), data.reporter_not_fixed ? t('queue.reporterNotFixed', { n: data.reporter_not_fixed }) : null),
  );
  renderAssetHistory(data, $('#detail-back').getAttribute('href'));
  $('#detail-description').textContent = data.description || '';
  $('#detail-description').hidden = !data.description;
  renderPhotos(data);
  renderPhotoModeration(data);
  renderNotes(data);
  renderHistory(data);
  renderForwarding(data);
  renderActions(data, currentUser(), { perform, showReporter });
  renderPending();
}

function renderPhotos(data) {
  const photos = (data.photos || []).filter((p) => p.display || p.thumbnail);
  $('#detail-photos').replaceChildren(...photos.map((photo, i) => {
    const size = photo.display || photo.thumbnail;
    const kind = photo.kind === 'after' ? t('detail.photoAfter') : t('detail.photoReport');
    return h('figure', { class: `staff-photo kind-${photo.kind}` },
      h('a', { href: localUrl(size.jpeg), target: '_blank', rel: 'noopener' },
        h('picture', {},
          size.webp ? h('source', { type: 'image/webp', srcset: localUrl(size.webp) }) : null,
          h('img', { src: localUrl(size.jpeg), alt: t('detail.photoAlt', { n: i + 1, kind }), width: size.width,
            height: size.height, loading: 'lazy', decoding: 'async' }))),
      h('figcaption', { text: kind }));
  }));
}

function renderNotes(data) {
  const notes = data.notes || [];
  $('#detail-notes').replaceChildren(...(notes.length ? notes.map((note) => h('li', {},
    h('time', { datetime: note.at, text: formatDate(note.at) }), ' – ',
    h('strong', { text: note.author || '' }), ': ', h('span', { class: 'description', text: note.text })))
    : [h('li', { class: 'hint', text: t('detail.noNotes') })]));
}

// Hand-overs to a department's own Open311 system: sent (with the remote id and status),
// waiting for the next attempt, or given up (an admin can retry it), with the last error.
function forwardingText(row) {
  if (row.state === 'sent') return t('forwarding.sent', { id: row.remote_id || '', status: row.remote_status || '–' });
  if (row.state === 'failed') return t('forwarding.failed', { n: row.attempts });
  return t('forwarding.pending', { n: row.attempts });
}

function renderForwarding(data) {
  const rows = data.forwardings || [];
  $('#forwarding-section').hidden = rows.length === 0;
  $('#detail-forwarding').replaceChildren(...rows.map((row) => h('li', {},
    h('strong', { text: row.department }), ' – ',
    forwardingText(row),
    row.last_error ? h('span', { class: 'history-note', text: row.last_error }) : null)));
}

function renderHistory(data) {
  $('#detail-history').replaceChildren(...(data.history || []).map((event) => h('li', {},
    h('time', { datetime: event.at, text: formatDate(event.at) }), ' – ',
    h('strong', { text: event.to_status ? statusLabel(event.to_status) : '' }),
    event.actor ? h('span', { class: 'hint', text: ` (${event.actor})` }) : null,
    event.public_note ? h('span', { class: 'history-note', text: `${t('detail.publicNote')}: ${event.public_note}` }) : null,
    event.internal_note ? h('span', { class: 'history-note', text: `${t('detail.internalNote')}: ${event.internal_note}` }) : null)));
}

/** Queued actions of this report, shown while they wait for the connection. */
export async function renderPending() {
  const box = $('#detail-pending');
  const user = currentUser();
  if (!current || !user) { box.hidden = true; return; }
  let records = [];
  try { records = (await actions.all(user.username)).filter((r) => r.report === current.id); } catch { /* no IndexedDB */ }
  box.hidden = records.length === 0;
  markPending(records.filter((r) => !r.failed).map((r) => r.kind));
  box.replaceChildren(
    h('h2', { text: t('detail.pending') }),
    h('ul', {}, records.map((r) => h('li', { class: r.failed ? 'is-failed' : '' },
      `${r.label} – ${formatDate(r.created_at)}`,
      r.failed ? h('span', { class: 'field-error', text: ` ${t('outbox.refused', { message: r.failed.message })}` }) : null))));
}

/**
 * Take an action: into the queue, then sent. Returns true when it was sent or queued (the
 * form may close), false when the server refused it (the form shows why).
 */
async function perform({ id, action, method = 'POST', json = null, note = null, photo = null }, form) {
  const user = currentUser();
  const report = current.id;
  const record = actions.createRecord({
    username: user.username, report, kind: id, action, method, json, note, photo, label: t(`action.${id}`), lang: getLang(),
  });
  foreground.add(record.key);
  try {
    await actions.put(record);
    await actions.flush(user.username);
    const result = actions.resultFor(record.key) || { outcome: 'kept' };
    if (result.outcome === 'sent') {
      announce(t(`action.${id}.done`));
      if (current?.id === report) showAnswer(result.data);
      return true;
    }
    if (result.outcome === 'failed') {
      await actions.remove(record.key);
      showFormError(form, result.error, 'action.refused');
      announce(t('action.refused', { message: result.error.message }), { error: true });
      return false;
    }
    announce(result.error?.status === 401 ? t('action.queuedLogin') : t('action.queued'));
    await renderPending();
    return true;
  } finally {
    foreground.delete(record.key);
  }
}

// An action's answer is the updated report; after a forward out of the user's departments
// the server answers {id, visible: false}: done, and no longer theirs, so back to the list.
function showAnswer(data) {
  if (data?.visible === false) {
    announce(t('action.gone'));
    navigate($('#detail-back').getAttribute('href'), { replace: true });
    return;
  }
  if (data) renderDetail(data);
}

/** Sent later (connection back): show the fresh report if it is open. */
actions.events.addEventListener('sent', (e) => {
  const { record, data } = e.detail;
  if (foreground.has(record.key)) return;
  if (current?.id === record.report) showAnswer(data);
});
actions.events.addEventListener('change', () => renderPending());

async function showReporter(button) {
  const out = $('#reporter-email');
  try {
    const { data } = await call(`/api/v1/staff/reports/${encodeURIComponent(current.id)}/reporter`);
    out.replaceChildren(
      data?.email ? h('a', { href: `mailto:${data.email}`, text: data.email }) : t('detail.noEmail'),
      ...[data?.name, data?.phone].filter(Boolean).map((text) => ` · ${text}`));
    button.hidden = true;
  } catch (error) {
    out.textContent = error instanceof TypeError ? t('detail.reporterOffline') : t('detail.reporterFailed', { message: error.message });
  }
  out.hidden = false;
}
