// The report flow: location (GPS, map, or district + address without a map), category,
// "already reported?", photos, description, e-mail; sent through the offline outbox.
// The parts live in their own modules: reportlocation.js (where), assetpicker.js (which
// signal), nearby.js (already reported?), reportphotos.js (photos), formerrors.js (errors).
import { t, acceptLanguage } from './i18n.js';
import { getJSON, postJSON, ApiError } from './api.js';
import { h, $, announce } from './dom.js';
import * as outbox from './outbox.js';
import { myReportByKey } from './myreports.js';
import { pushSupported, subscribePush, PushDenied } from './push.js';
import { assetLabel } from './assets.js';
import * as picker from './assetpicker.js';
import { showError, clearError, clearAllErrors, showErrors, serverErrors } from './formerrors.js';
import {
  initReportLocation, currentLocation, showLocationMap, relocalizeLocation, resetLocation, recenterMap,
  setLocation, outsideBounds, renderLocationSummary, loadDistricts,
} from './reportlocation.js';
import { initNearby, scheduleNearby, checkNearby, resetNearby } from './nearby.js';
import {
  initReportPhotos, photosReady, chosenPhotos, firstPhotoPlace, resetPhotos, renderPhotoPreviews,
} from './reportphotos.js';

let config = null;
let groups = [];
let lastCreated = null; // the created report shown in the confirmation
let bound = false;

const form = () => $('#report-form');

export async function initReport(appConfig) {
  config = appConfig;
  if (!bound) bindEvents();
  bound = true;
  $('#description').maxLength = config.limits.description_max;
  await Promise.all([loadCategories(), loadDistricts()]);
  renderTexts();
}

/** Called when the view becomes visible (the map needs a visible container). */
export function showReport() {
  showLocationMap();
}

/** After a language switch: reload the named lists and refresh every dynamic text. */
export async function relocalizeReport() {
  await Promise.all([loadCategories(), loadDistricts()]);
  renderTexts();
  relocalizeLocation();
  if (!$('#nearby').hidden) checkNearby();
  picker.relocalize(currentLocation());
  if (lastCreated && !$('#confirmation').hidden) fillConfirmation(lastCreated);
}

function renderTexts() {
  renderLocationSummary();
  updateCounter();
  renderPhotoPreviews();
  $('#photos-hint').textContent = t('photos.hint', { n: config.limits.photos });
  $('#enable-push').hidden = !(pushSupported() && config.push_public_key);
}

// ---------------------------------------------------------------- events

function bindEvents() {
  initReportLocation(config, { onMoved: scheduleNearby });
  $('#group-options').addEventListener('change', (e) => {
    if (e.target.name === 'group') { renderCategories(e.target.value, null); clearError('group'); picker.chooseGroup(e.target.value); }
  });
  $('#category-options').addEventListener('change', (e) => {
    if (e.target.name === 'category') { clearError('category'); scheduleNearby(); }
  });
  $('#description').addEventListener('input', () => { updateCounter(); clearError('description'); });
  $('#email').addEventListener('input', () => clearError('email'));
  $('#address').addEventListener('input', () => clearError('address'));
  initReportPhotos(config);
  initNearby(config, { selectedCategory });
  picker.initAssetPicker({
    config, showError, clearError, onPick: selectAsset, getLocation: currentLocation,
    onCleared: () => { renderLocationSummary(); scheduleNearby(); },
    groupStillChosen: (group) => form().querySelector('input[name="group"]:checked')?.value === group,
  });
  form().addEventListener('submit', submit);
  $('#enable-push').addEventListener('click', enablePush);
  $('#new-report').addEventListener('click', newReport);
}

// ---------------------------------------------------------------- category

async function loadCategories() {
  try {
    const data = await getJSON('/api/v1/categories');
    groups = data.groups || [];
  } catch {
    groups = groups.length ? groups : [];
  }
  const selectedGroup = form().querySelector('input[name="group"]:checked')?.value;
  const selectedCategory = form().querySelector('input[name="category"]:checked')?.value;
  $('#group-options').replaceChildren(...groups.map((g) => choice('group', g.code, g.name, g.description,
    h('img', { class: 'choice-icon', src: `/app/icons/group-${iconName(g.code)}.svg`, alt: '', width: 40, height: 40 }))));
  if (selectedGroup) {
    const input = form().querySelector(`input[name="group"][value="${CSS.escape(selectedGroup)}"]`);
    if (input) { input.checked = true; renderCategories(selectedGroup, selectedCategory); }
  }
  if (!groups.length) showError('group', t('errors.categoriesUnavailable'));
}

const iconName = (code) => (['ampel', 'schild'].includes(code) ? code : 'sonstiges');

function choice(name, value, label, description, icon = null) {
  const id = `${name}-${value}`;
  const descId = `${id}-desc`;
  return h('div', { class: 'choice' },
    h('input', { type: 'radio', name, value, id, 'aria-describedby': description ? descId : null }),
    h('label', { for: id },
      icon,
      h('span', { class: 'choice-text' },
        h('span', { class: 'choice-label', text: label }),
        description ? h('span', { class: 'choice-desc', id: descId, text: description }) : null)));
}

function renderCategories(groupCode, selected) {
  const group = groups.find((g) => g.code === groupCode);
  const fieldset = $('#fs-category');
  if (!group) { fieldset.hidden = true; return; }
  const categories = group.categories || [];
  $('#category-options').replaceChildren(...categories.map((c) => choice('category', c.code, c.name, c.description)));
  fieldset.hidden = false;
  // A group with a single defect (e.g. "sonstiges") needs no second choice.
  const only = categories.length === 1 ? categories[0].code : null;
  const pick = selected && categories.some((c) => c.code === selected) ? selected : only;
  if (pick) form().querySelector(`input[name="category"][value="${CSS.escape(pick)}"]`).checked = true;
  scheduleNearby();
}

const selectedCategory = () => form().querySelector('input[name="category"]:checked')?.value || null;

// ---------------------------------------------------------------- asset (which signal?)

/** Point the report at `asset`: the pin snaps to it (the server snaps the point too). */
function selectAsset(asset) {
  const { lat, lon } = asset.location;
  setLocation(lat, lon, 'map', { asset });
  announce(t('asset.selected', { name: assetLabel(asset) }));
}

// ---------------------------------------------------------------- description

function updateCounter() {
  const max = config.limits.description_max;
  const left = max - $('#description').value.length;
  $('#description-counter').textContent = t('details.counter', { n: left });
}

// ---------------------------------------------------------------- checks before sending

function validate() {
  const errors = [];
  const location = currentLocation();
  if (!location) errors.push(['location', t('errors.location')]);
  else if (outsideBounds(location.lat, location.lon)) errors.push(['location', t('errors.outside')]);
  if (!form().querySelector('input[name="group"]:checked')) errors.push(['group', t('errors.group')]);
  else if (!selectedCategory()) errors.push(['category', t('errors.category')]);
  const description = $('#description').value.trim();
  if (!description) errors.push(['description', t('errors.description')]);
  else if (description.length > config.limits.description_max) errors.push(['description', t('errors.descriptionLong', { n: config.limits.description_max })]);
  const email = $('#email');
  if (email.value.trim() && !email.checkValidity()) errors.push(['email', t('errors.email')]);
  return errors;
}

// ---------------------------------------------------------------- submit

export const foreground = new Set(); // outbox keys whose result this form shows itself

async function submit(event) {
  event.preventDefault();
  clearAllErrors();
  await photosReady();
  const errors = validate();
  if (errors.length) { showErrors(errors); return; }
  const button = $('#submit-report');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = t('submit.sending');
  announce(t('submit.sending'));
  const location = currentLocation();
  const photoPlace = firstPhotoPlace();
  const fields = {
    category: selectedCategory(),
    lat: location.lat.toFixed(6),
    lon: location.lon.toFixed(6),
    description: $('#description').value.trim(),
    address: $('#address').value.trim() || null,
    email: $('#email').value.trim() || null,
    location_source: location.source,
    asset_id: picker.selected()?.id ?? null, // the server snaps the point to it
    ...(photoPlace ? { photo_lat: photoPlace.lat, photo_lon: photoPlace.lon } : {}),
  };
  const record = outbox.createRecord(fields, chosenPhotos(), acceptLanguage());
  foreground.add(record.key);
  let result;
  try {
    await outbox.put(record); // stored BEFORE sending: a crash or lost answer cannot lose it
    await outbox.flush();
    result = outbox.resultFor(record.key) || await sentElsewhere(record.key);
    if (result.outcome === 'failed') await outbox.remove(record.key); // the form shows why
  } catch {
    result = await outbox.send(record); // no IndexedDB (private mode): send directly
    if (result.outcome === 'sent') outbox.events.dispatchEvent(new CustomEvent('sent', { detail: { record, ...result } }));
  } finally {
    foreground.delete(record.key);
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = t('submit');
  }
  if (result.outcome === 'sent') {
    showConfirmation(result.data);
  } else if (result.outcome === 'kept') {
    outbox.registerSync();
    showConfirmation(null);
  } else {
    showErrors(serverErrors(result.error));
  }
}

// Sent by another tab or by the service worker in the meantime, or still waiting.
async function sentElsewhere(key) {
  const waiting = (await outbox.all()).find((r) => r.key === key);
  if (waiting) return waiting.failed ? { outcome: 'failed', error: new ApiError(waiting.failed.status, { error: waiting.failed }) } : { outcome: 'kept' };
  const mine = await myReportByKey(key);
  return { outcome: 'sent', data: mine && { id: mine.id, tracking_token: mine.token, department: mine.department, district: mine.district } };
}

function showConfirmation(data) {
  lastCreated = data;
  form().hidden = true;
  fillConfirmation(data);
  const section = $('#confirmation');
  section.hidden = false;
  section.focus();
  announce($('#confirmation-title').textContent);
  resetForm();
}

function fillConfirmation(data) {
  const sent = Boolean(data);
  $('#confirmation-title').textContent = t(sent ? 'confirm.title' : 'confirm.queuedTitle');
  $('#confirmation-sent').hidden = !sent;
  $('#confirmation-queued').hidden = sent;
  $('#push-result').textContent = '';
  if (!sent) return;
  $('#confirmation-id').textContent = data.id;
  $('#confirmation-department').textContent = data.department?.name || '–';
  $('#confirmation-district').textContent = data.district ? `${data.district.number} ${data.district.name}` : '–';
  $('#enable-push').hidden = !(pushSupported() && config.push_public_key && data.tracking_token);
  $('#enable-push').disabled = false;
}

async function enablePush() {
  const button = $('#enable-push');
  const result = $('#push-result');
  if (!lastCreated?.tracking_token) return;
  button.disabled = true;
  try {
    const subscription = await subscribePush(config.push_public_key);
    await postJSON(`/api/v1/track/${encodeURIComponent(lastCreated.tracking_token)}/push-subscriptions`, subscription);
    result.textContent = t('push.enabled');
    button.hidden = true;
  } catch (error) {
    button.disabled = false;
    result.textContent = t(error instanceof PushDenied ? 'push.denied' : error instanceof TypeError ? 'errors.offline' : 'push.unavailable');
  }
}

function resetForm() {
  form().reset();
  resetPhotos();
  resetLocation();
  $('#fs-category').hidden = true;
  $('#category-options').replaceChildren();
  resetNearby();
  picker.reset();
  clearAllErrors();
  renderTexts();
}

function newReport() {
  $('#confirmation').hidden = true;
  form().hidden = false;
  lastCreated = null;
  recenterMap();
  $('#report-title').focus();
}

