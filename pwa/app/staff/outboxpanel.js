// "Waiting for a connection": how many crew actions are queued, and which (with those the
// server refused, which can be discarded after reading why).
import { h, $, announce } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import * as actions from './actionqueue.js';
import { currentUser } from './session.js';

export async function renderOutbox() {
  const user = currentUser();
  let records = [];
  if (user) {
    try { records = await actions.all(user.username); } catch { /* no IndexedDB */ }
  }
  const waiting = records.filter((r) => !r.failed).length;
  const failed = records.length - waiting;
  $('#outbox-panel').hidden = records.length === 0;
  $('#outbox-status').textContent = [
    waiting ? t('outbox.actionsWaiting', { n: waiting }) : null,
    failed ? t('outbox.actionsFailed', { n: failed }) : null,
  ].filter(Boolean).join(' · ');
  $('#outbox-list').replaceChildren(...records.map((record) => h('li', { class: record.failed ? 'is-failed' : '', dataset: { key: record.key } },
    h('a', { href: `/crew/reports/${encodeURIComponent(record.report)}`, text: `${record.label} – ${record.report}` }),
    h('span', { class: 'hint', text: ` ${formatDate(record.created_at)}` }),
    record.failed ? [
      h('span', { class: 'field-error', text: t('outbox.refused', { message: record.failed.message }) }),
      h('button', { type: 'button', class: 'btn btn-secondary discard-action', onclick: () => discard(record) },
        t('outbox.discard')),
    ] : null)));
}

async function discard(record) {
  await actions.remove(record.key);
  await renderOutbox();
  announce(t('outbox.discarded'));
  ($('#outbox-panel').hidden ? $('#main') : $('#outbox-status')).focus();
}

actions.events.addEventListener('change', renderOutbox);
