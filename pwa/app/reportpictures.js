// A report's public photos for the public detail and "My reports": the reporter's photos,
// then the crew's photo of the repair, each with alt text and a caption saying which it is.
import { t } from './i18n.js';
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
