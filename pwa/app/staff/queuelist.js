// One list item per report (crew queue and dispatcher triage): large links with priority,
// status, category, place and age in text, so nothing depends on colour.
import { h } from '../dom.js';
import { t, statusLabel } from '../i18n.js';
import { priorityLabel, ageText, personName, placeText, distanceText } from './labels.js';
import { distanceMeters } from './queue.js';
import { assetLabel } from '../assets.js';

/** Fill `list` with links to `${base}/<id>`; `waitingIds` marks reports with queued actions. */
export function renderQueueItems(list, features, { base, near = null, waitingIds = new Set() }) {
  list.replaceChildren(...features.map((feature) => {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const meters = near ? distanceMeters(near, { lat, lon }) : null;
    const facts = [
      t('queue.age', { age: ageText(p.created_at) }),
      meters !== null ? distanceText(meters) : null,
      p.assigned_to ? t('queue.assigned', { name: personName(p.assigned_to) }) : null,
    ].filter(Boolean).join(' · ');
    return h('li', {},
      h('a', { class: `queue-item prio-edge-${p.priority}`, href: `${base}/${encodeURIComponent(p.id)}`, dataset: { id: p.id } },
        h('span', { class: 'badges' },
          h('span', { class: `badge prio-${p.priority}`, text: priorityLabel(p.priority) }), ' ',
          h('span', { class: `badge status-${p.status}`, text: statusLabel(p.status) }),
          p.overdue ? [' ', h('span', { class: 'badge overdue', text: t('queue.overdue') })] : null,
          // The reporter said "not fixed": reopened one priority higher (their comment is in the history).
          p.reporter_not_fixed ? [' ', h('span', { class: 'badge reporter-not-fixed', text: t('queue.reporterNotFixed', { n: p.reporter_not_fixed }) })] : null,
          waitingIds.has(p.id) ? [' ', h('span', { class: 'badge status-waiting', text: t('queue.waiting') })] : null),
        h('strong', { class: 'queue-item-title', text: p.category?.name || p.id }),
        placeText(p) ? h('span', { class: 'queue-item-place', text: placeText(p) }) : null,
        p.asset ? h('span', { class: 'queue-item-asset', text: assetLabel(p.asset) }) : null,
        h('span', { class: 'hint', text: facts }),
        p.description ? h('span', { class: 'queue-item-desc', text: p.description }) : null));
  }));
}
