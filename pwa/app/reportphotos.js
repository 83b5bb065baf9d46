// The report form's photos: picking them (shrunk in photos.js, at most config.limits.photos),
// their previews and removal, and "use the photo's location" when one carries GPS (exif.js;
// for HEIC, which browsers cannot decode, the server's preview answer says both).
// This module owns the chosen photos; the form asks for them when it sends.
import { t } from './i18n.js';
import { h, $, announce } from './dom.js';
import { preparePhoto } from './photos.js';
import { photoLocation } from './exif.js';
import { showError, clearError } from './formerrors.js';
import { setLocation } from './reportlocation.js';

let config = null;
let photos = []; // [{blob, name, url}]
let photoJobs = Promise.resolve();
let photoPlace = null; // the first photo's GPS, sent along so staff see a far-away photo

/** Bind the photo input and the previews' remove buttons. */
export function initReportPhotos(appConfig) {
  config = appConfig;
  $('#photos').addEventListener('change', pickPhotos);
  $('#photo-previews').addEventListener('click', (e) => {
    const button = e.target.closest('button.remove-photo');
    if (button) removePhoto(Number(button.dataset.index));
  });
}

/** Resolves when every picked photo has been prepared. */
export const photosReady = () => photoJobs;

/** The chosen photos as the outbox stores them. */
export const chosenPhotos = () => photos.map(({ blob, name }) => ({ blob, name }));

/** The first photo's GPS position ({lat, lon}), or null. */
export const firstPhotoPlace = () => photoPlace;

/** A new, empty form: no photos, no photo location. */
export function resetPhotos() {
  photoPlace = null;
  $('#use-photo-location').hidden = true;
  photos.forEach((p) => p.url && URL.revokeObjectURL(p.url));
  photos = [];
}

function pickPhotos(e) {
  const files = [...e.target.files];
  e.target.value = '';
  const room = config.limits.photos - photos.length;
  if (files.length > room) announce(t('photos.tooMany', { n: config.limits.photos }), { error: true });
  const chosen = files.slice(0, Math.max(0, room));
  clearError('photos');
  if (!chosen.length) return;
  announce(t('photos.processing'));
  photoJobs = photoJobs.then(async () => {
    for (const file of chosen) {
      if (photos.length >= config.limits.photos) break;
      const place = await photoLocation(file);
      if (place) offerPhotoLocation(place);
      const prepared = await preparePhoto(file);
      if (prepared.blob.size > config.limits.photo_max_bytes) {
        showError('photos', t('errors.photoTooBig', { name: file.name }));
        continue;
      }
      const shown = prepared.resized || /^image\/(jpeg|png|webp|gif)$/.test(file.type);
      const photo = { ...prepared, url: shown ? URL.createObjectURL(prepared.blob) : null };
      photos.push(photo);
      if (!shown) {
        // The browser cannot show it (HEIC): our server renders a preview and reads where
        // it was taken. Offline, the file name stands in until the report is sent.
        const preview = await serverPreview(file);
        if (preview) {
          photo.url = preview.preview;
          if (preview.place) offerPhotoLocation(preview.place);
        }
      }
    }
    renderPhotoPreviews();
    announce(t('photos.count', { n: photos.length }));
  });
}

// A preview and the EXIF position of a photo the browser cannot decode, from our server
// (nothing is stored there); null offline or when the server refuses the file.
async function serverPreview(file) {
  try {
    const body = new FormData();
    body.append('photos', file, file.name || 'foto');
    const response = await fetch('/api/v1/photo-previews', { method: 'POST', body, credentials: 'same-origin' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// "Use the photo's location": offered when a picked photo carries GPS coordinates.
function offerPhotoLocation(place) {
  photoPlace ??= place;
  const button = $('#use-photo-location');
  if (!button) return;
  button.hidden = false;
  button.onclick = () => {
    setLocation(place.lat, place.lon, 'photo');
    announce(t('location.summaryPhoto'));
  };
}

function removePhoto(index) {
  const [removed] = photos.splice(index, 1);
  if (removed?.url) URL.revokeObjectURL(removed.url);
  renderPhotoPreviews();
  announce(t('photos.removed', { n: photos.length }));
  const next = $('#photo-previews button.remove-photo') || $('#photos').labels?.[0] || $('#photos');
  next.focus();
}

/** Draw the previews with their remove buttons; the input is disabled when full. */
export function renderPhotoPreviews() {
  $('#photo-previews').replaceChildren(...photos.map((photo, i) => h('li', { class: 'photo-preview' },
    photo.url
      ? h('img', { src: photo.url, alt: t('photos.previewAlt', { n: i + 1 }), width: 96, height: 96 })
      : h('span', { class: 'photo-placeholder', text: photo.name }),
    h('button', { type: 'button', class: 'remove-photo', dataset: { index: i },
      'aria-label': t('photos.remove', { n: i + 1 }) }, h('span', { 'aria-hidden': 'true', text: '×' }),
    h('span', { class: 'remove-text', text: t('photos.removeShort') })))));
  const full = photos.length >= config.limits.photos;
  $('#photos').disabled = full;
  $('#fs-photos .file-label').classList.toggle('is-disabled', full);
}
