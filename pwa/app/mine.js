// "My reports": the reports sent from this device (tokens in IndexedDB) and those waiting.
import { t, formatDate, statusLabel } from './i18n.js';
import { request, postJSON, ApiError } from './api.js';
import { h, $, announce, markReady } from './dom.js';
import { addMyReport, getMyReports, getTracked, setTracked } from './myreports.js';
import * as outbox from './outbox.js';
import { reportPictures, reportOutcome } from './reportpictures.js';

let bound = false;

export async function showMine() {
  if (!bound) {
    $('#my-reports').addEventListener('click', onClick);
    bound = true;
  }
  const list = $('#my-reports');
  let waiting = [];
  let mine = [];
  try { [waiting, mine] = await Promise.all([outbox.all(), getMyReports()]); } catch { /* no IndexedDB */ }
  $('#mine-empty').hidden = mine.length + waiting.length > 0;
  const refreshed = [];
  list.replaceChildren(
    ...waiting.map((record) => h('li', { class: `my-report ${record.failed ? 'is-failed' : 'is-waiting'}`, dataset: { key: record.key } },
      h('h2', { text: t(record.failed ? 'mine.failedTitle' : 'mine.waitingTitle') }),
      h('p', {}, h('span', { class: `badge status-${record.failed ? 'failed' : 'waiting'}`, text: t(record.failed ? 'mine.failed' : 'mine.waiting') }), ' ',
        h('span', { class: 'hint', text: formatDate(record.created_at) })),
      h('p', { class: 'description', text: record.fields.description }),
      record.failed ? h('p', { class: 'field-error', text: record.failed.message }) : null,
      record.failed ? h('button', { type: 'button', class: 'btn btn-secondary discard-failed', dataset: { key: record.key }, text: t('mine.discard') }) : null)),
    ...mine.map((r) => {
      const item = h('li', { class: 'my-report', dataset: { id: r.id, token: r.token } },
        h('h2', { text: r.category || r.id }),
        h('p', { class: 'hint', text: `${t('mine.id')} ${r.id} · ${formatDate(r.created_at)}` }),
        h('div', { class: 'my-report-body' }, h('p', { class: 'hint', text: t('mine.loading') })));
      const cached = getTracked(r.token);
      if (cached?.data) renderTracked(item, cached.data, false);
      refreshed.push(refresh(item, r.token));
      return item;
    }));
  Promise.all(refreshed).then(() => markReady('mine')); // every report shows its current status
}

/**
 * A tracking link (from an e-mail, or another device): look the report up, keep it in "My
 * reports" on this device, and show the list without the secret in the address bar.
 * Returns whether the link worked.
 */
export async function adoptTrackingLink(token) {
  let answer;
  try {
    answer = await request(`/api/v1/track/${encodeURIComponent(token)}`);
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 404;
    announce(t(gone ? 'mine.linkInvalid' : 'errors.offline'), { error: true });
    return gone;  // offline: keep the link in the address bar to try again
  }
  const data = answer.data;
  try {
    await addMyReport({ id: data.id, token, created_at: data.created_at,
      category: data.category?.name || data.id, department: data.department || null,
      district: data.district || null });
  } catch { /* no IndexedDB: still shown below */ }
  setTracked(token, answer.etag, data);
  announce(t('mine.linkAdded', { id: data.id }));
  return true;
}

async function refresh(item, token) {
  const cached = getTracked(token);
  try {
    const headers = cached?.etag ? { 'If-None-Match': cached.etag } : {};
    const answer = await request(`/api/v1/track/${encodeURIComponent(token)}`, { headers });
    if (answer.status === 304 && cached?.data) { renderTracked(item, cached.data, false); return; }
    setTracked(token, answer.etag, answer.data);
    renderTracked(item, answer.data, false);
  } catch (error) {
    if (cached?.data) renderTracked(item, cached.data, true);
    else item.querySelector('.my-report-body').replaceChildren(h('p', { class: 'hint',
      text: error instanceof ApiError && error.status === 404 ? t('mine.gone') : t('errors.offline') }));
  }
}

function renderTracked(item, data, stale) {
  item.querySelector('h2').textContent = data.category?.name || data.id;
  const history = (data.history || []).slice().reverse();
  // A photo withheld (its faces and plates could not be checked) or hidden by staff: the
  // tracking answer says "withheld" for both; the reporter learns it is not lost.
  const withheld = (data.uploads || []).filter((upload) => upload.status === 'withheld').length;
  const pictures = reportPictures(data);
  const body = [
    h('p', {}, h('span', { class: `badge status-${data.status}`, text: statusLabel(data.status) }),
      data.department ? h('span', { class: 'hint', text: ` ${data.department.name}` }) : null),
    ...reportOutcome(data),
    stale ? h('p', { class: 'hint', text: t('mine.stale') }) : null,
    data.address ? h('p', { text: data.address }) : null,
    pictures.length ? h('h3', { text: t('mine.photos') }) : null,
    pictures.length ? h('div', { class: 'detail-photos' }, ...pictures) : null,
    withheld ? h('p', { class: 'hint photo-withheld', text: t('mine.photoWithheld', { n: withheld }) }) : null,
    h('h3', { text: t('detail.history') }),
    h('ol', { class: 'history' }, ...history.map((event) => h('li', {},
      h('time', { datetime: event.at, text: formatDate(event.at) }), ' – ',
      h('strong', { text: statusLabel(event.status) }),
      event.note ? h('span', { text: `: ${event.note}` }) : null))),
  ];
  if (data.status === 'resolved') {
    // "Not fixed" takes a comment for the crew (sent with the answer; "fixed" ignores it).
    const noteId = `not-fixed-note-${data.id}`;
    body.push(h('div', { class: 'fixed-question', role: 'group', 'aria-label': t('mine.fixedQuestion') },
      h('p', { text: t('mine.fixedQuestion') }),
      h('label', { for: noteId, text: t('mine.notFixedComment') }),
      h('textarea', { id: noteId, class: 'not-fixed-note', rows: '2', maxlength: '2000' }),
      h('button', { type: 'button', class: 'btn btn-primary answer-fixed', dataset: { answer: 'yes', token: item.dataset.token }, text: t('mine.fixedYes') }),
      h('button', { type: 'button', class: 'btn btn-secondary answer-fixed', dataset: { answer: 'no', token: item.dataset.token }, text: t('mine.fixedNo') })));
  }
  item.querySelector('.my-report-body').replaceChildren(...body.filter(Boolean));
}

async function onClick(e) {
  const discard = e.target.closest('button.discard-failed');
  if (discard) {
    await outbox.remove(discard.dataset.key);
    announce(t('mine.discarded'));
    await showMine();
    $('#mine-title')?.focus();
    return;
  }
  const button = e.target.closest('button.answer-fixed');
  if (!button) return;
  const item = button.closest('li');
  const token = button.dataset.token;
  item.querySelectorAll('button.answer-fixed').forEach((b) => { b.disabled = true; });
  try {
    const fixed = button.dataset.answer === 'yes';
    const note = fixed ? '' : (item.querySelector('textarea.not-fixed-note')?.value || '').trim();
    const data = await postJSON(`/api/v1/track/${encodeURIComponent(token)}/fixed`, { fixed, ...(note ? { note } : {}) });
    setTracked(token, null, data);
    renderTracked(item, data, false);
    announce(t(fixed ? 'mine.thanksFixed' : 'mine.thanksNotFixed'));
    item.querySelector('h2').setAttribute('tabindex', '-1');
    item.querySelector('h2').focus();
  } catch (error) {
    item.querySelectorAll('button.answer-fixed').forEach((b) => { b.disabled = false; });
    announce(error instanceof TypeError ? t('errors.offline') : error.message, { error: true });
  }
}
