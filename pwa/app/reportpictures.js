// A report's public photos for the public detail and "My reports": the reporter's photos,
// then the crew's photo of the repair, each with alt text and a caption saying which it is;
// and how the report ends or when it is expected fixed (reportOutcome).
import { t, formatDate, outcomeLabel, isOverdue } from './i18n.js';
import { h } from './dom.js';
import { localUrl } from './api.js';

/** <figure> elements for the report's processed photos (`data.photos`), after-photos last. */
export function reportPictures(data) {
  const ready = (data.photos || []).filter((p) => p.display);
  const before = ready.filter((p) => p.kind !== 'after');
  const after = ready.filter((p) => p.kind === 'after');
  const category = data.category?.name || '';
  return [
    ...before.map((p, i) => figure(p, t('detail.photoAlt', { n: i + 1, category }), null)),
    ...after.map((p, i) => figure(p, t('detail.afterPhotoAlt', { n: i + 1, category }),
      t('detail.afterPhotoCaption'))),
  ];
}

function figure(photo, alt, caption) {
  const { display } = photo;
  return h('figure', { class: `report-picture${photo.kind === 'after' ? ' is-after' : ''}` },
    h('picture', {},
      display.webp ? h('source', { type: 'image/webp', srcset: localUrl(display.webp) }) : null,
      h('img', { src: localUrl(display.jpeg), alt, width: display.width, height: display.height, loading: 'lazy', decoding: 'async' })),
    caption ? h('figcaption', { text: caption }) : null);
}

/**
 * Where the report stands against the city's promise, for the public detail and "My reports":
 * once closed, how it ended (and who is responsible instead, as a link); while open, the date
 * it is expected fixed by, or "overdue" in words with a mark (never by colour alone).
 */
export function reportOutcome(data) {
  const parts = [];
  if (data.outcome && data.status !== 'resolved') { // "resolved" already says fixed
    parts.push(h('p', { class: `outcome outcome-${data.outcome}` }, h('strong', { text: outcomeLabel(data.outcome) })));
  }
  const who = data.responsible;
  if (who?.name) {
    const link = who.url && /^https?:\/\//i.test(who.url);
    parts.push(h('p', { class: 'responsible' }, link
      ? h('a', { href: who.url, rel: 'noopener noreferrer external', text: t('outcome.responsibleLink', { name: who.name }) })
      : t('outcome.responsible', { name: who.name })));
  }
  if (data.expected_at) {
    const overdue = isOverdue(data);
    parts.push(h('p', { class: overdue ? 'expected is-overdue' : 'expected' },
      overdue ? h('span', { class: 'overdue-mark', 'aria-hidden': 'true', text: '!' }) : null,
      t(overdue ? 'expected.overdue' : 'expected.by', { date: formatDate(data.expected_at) })));
  }
  return parts;
}
