// Admins: what could not be delivered (forwardings to departments' own systems, pushes,
// e-mails) with the last error and a Retry button, and the destinations whose circuit is open.
import { h, $, announce } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { call, getStaff } from './session.js';

const FAILED_URL = '/api/v1/admin/deliveries/failed';
let bound = false;

export function initDeliveries() {
  if (bound) return;
  bound = true;
  $('#deliveries-body').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-retry]');
    if (button) retry(button);
  });
}

const itemName = (item) => t('deliveries.itemName', { kind: t(`deliveries.kind.${item.kind}`), report: item.report });

function failedRow(item) {
  return h('tr', { dataset: { kind: item.kind, id: String(item.id) } },
    h('th', { scope: 'row', text: t(`deliveries.kind.${item.kind}`) }),
    h('td', {}, h('a', { href: `/dispatch/reports/${encodeURIComponent(item.report)}`, text: item.report })),
    h('td', { class: 'break-anywhere', text: item.destination || '–' }),
    h('td', { text: String(item.attempts) }),
    h('td', { text: item.failed_at ? formatDate(item.failed_at) : '–' }),
    h('td', { class: 'break-anywhere cell-error', text: item.last_error || '' }),
    h('td', {}, h('button', {
      type: 'button', class: 'btn btn-secondary', dataset: { retry: `${item.kind}/${item.id}` },
      text: t('deliveries.retry'), 'aria-label': t('deliveries.retryNamed', { name: itemName(item) }),
    })));
}

function circuitRow(circuit) {
  return h('tr', { dataset: { key: circuit.key } },
    h('th', { scope: 'row', class: 'break-anywhere', text: circuit.key }),
    h('td', { text: t(`deliveries.state.${circuit.state}`) }),
    h('td', { text: String(circuit.consecutive_failures) }),
    h('td', { text: circuit.next_probe_at ? formatDate(circuit.next_probe_at) : '–' }),
    h('td', { class: 'break-anywhere cell-error', text: circuit.last_error || '' }));
}

export async function showDeliveries() {
  let failed;
  let circuits;
  try {
    [failed, circuits] = await Promise.all([getStaff(FAILED_URL), getStaff('/api/v1/admin/deliveries/circuits')]);
  } catch (error) {
    if (error.status !== 401) announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return;
  }
  const items = failed.items || [];
  $('#deliveries-summary').textContent = t(items.length ? 'deliveries.summary' : 'deliveries.none', { n: items.length });
  $('#deliveries-body').replaceChildren(...items.map(failedRow));
  $('#deliveries-table').hidden = !items.length;
  const list = circuits.circuits || [];
  $('#circuits-summary').textContent = t(list.some((c) => c.state === 'open') ? 'deliveries.circuitsOpen' : 'deliveries.circuitsClosed');
  $('#circuits-body').replaceChildren(...list.map(circuitRow));
  $('#circuits-table').hidden = !list.length;
}

async function retry(button) {
  const [kind, id] = button.dataset.retry.split('/');
  button.disabled = true;
  try {
    const { data } = await call(`${FAILED_URL}/${kind}/${id}/retry`, { method: 'POST', json: {} });
    announce(t('deliveries.retried', { name: itemName(data) }));
    await showDeliveries();
    $('#deliveries-title').focus();
  } catch (error) {
    button.disabled = false;
    announce(error instanceof TypeError ? t('common.offline') : t('common.refused', { message: error.message }), { error: true });
  }
}
