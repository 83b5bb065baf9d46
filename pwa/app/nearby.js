// "Already reported?": open reports of the chosen category near the chosen point (the chosen
// signal's own first), each with "follow it instead" (e-mail and/or push) rather than a
// duplicate report. Shown only online; offline, reporting works without it.
import { t, formatDistance, formatDate, statusLabel } from './i18n.js';
import { getJSON, postJSON, ApiError } from './api.js';
import { h, $, announce } from './dom.js';
import { pushSupported, subscribePush, PushDenied } from './push.js';
import { assetLabel } from './assets.js';
import * as picker from './assetpicker.js';
import { currentLocation } from './reportlocation.js';

let config = null;
let selectedCategory = () => null; // the form's chosen category code
let nearbyTimer = null;
let nearbyRequest = 0;

/** Bind the list's "follow" buttons; `hooks.selectedCategory` tells the chosen category. */
export function initNearby(appConfig, hooks) {
  config = appConfig;
  selectedCategory = hooks.selectedCategory;
  $('#nearby-list').addEventListener('click', onNearbyClick);
}

/** Look again shortly (the point or the category changed; changes in quick succession ask once). */
export function scheduleNearby() {
  clearTimeout(nearbyTimer);
  nearbyTimer = setTimeout(checkNearby, 300);
}

/** Ask the server for open reports nearby and show them (or hide the section). */
export async function checkNearby() {
  const category = selectedCategory();
  const section = $('#nearby');
  const location = currentLocation();
  if (!location || !category) { section.hidden = true; return; }
  const ticket = ++nearbyRequest;
  const params = new URLSearchParams({
    lat: location.lat.toFixed(6), lon: location.lon.toFixed(6), category,
    radius_m: String(config.limits.nearby_radius_m),
  });
  const selectedAsset = picker.selected();
  if (selectedAsset) params.set('asset_id', String(selectedAsset.id));
  // A district's middle point says nothing about distance: only the same asset's reports.
  if (location.source === 'district') params.set('approximate', 'true');
  let data;
  try {
    data = await getJSON(`/api/v1/reports/nearby?${params}`);
  } catch {
    if (ticket === nearbyRequest) section.hidden = true; // offline: no prompt, reporting still works
    return;
  }
  if (ticket !== nearbyRequest) return;
  const features = data.features || [];
  // The selected asset's own open reports first ("follow it instead"), then those nearby.
  const sameAsset = selectedAsset ? features.filter((f) => f.properties.same_asset) : [];
  const others = features.filter((f) => !sameAsset.includes(f));
  section.hidden = features.length === 0;
  section.classList.toggle('has-same-asset', sameAsset.length > 0);
  $('#nearby-asset-lead').hidden = sameAsset.length === 0;
  $('#nearby-asset-lead').textContent = sameAsset.length ? t('nearby.sameAsset', { name: assetLabel(selectedAsset) }) : '';
  $('#nearby-lead').hidden = sameAsset.length > 0 && others.length === 0;
  $('#nearby-list').replaceChildren(...sameAsset.map((f) => nearbyItem(f, true)), ...others.map((f) => nearbyItem(f, false)));
  if (sameAsset.length) announce($('#nearby-asset-lead').textContent);
  else if (features.length) announce(t('nearby.found', { n: features.length }));
}

function nearbyItem(feature, sameAsset) {
  const p = feature.properties;
  const selectedAsset = picker.selected();
  const panelId = `follow-${p.id}`;
  return h('li', { class: `nearby-item${sameAsset ? ' same-asset' : ''}`, dataset: { id: p.id } },
    p.thumb ? h('img', { class: 'nearby-thumb', src: p.thumb, alt: '', width: 64, height: 64,
      loading: 'lazy' }) : null,
    h('p', { class: 'nearby-head' },
      h('strong', { text: p.category_name }), ' ',
      sameAsset
        ? h('span', { class: 'nearby-distance', text: t('nearby.sameAssetBadge', { name: assetLabel(selectedAsset) }) })
        : h('span', { class: 'nearby-distance', text: t('nearby.distance', { distance: formatDistance(p.distance_m) }) })),
    h('p', { class: 'nearby-meta' },
      h('span', { class: `badge status-${p.status}`, text: statusLabel(p.status) }), ' ',
      h('span', { text: t('nearby.since', { date: formatDate(p.created_at) }) })),
    h('button', { type: 'button', class: 'btn btn-secondary follow-report', 'aria-expanded': 'false',
      'aria-controls': panelId, dataset: { id: p.id }, text: t('nearby.follow') }),
    followPanel(p.id, panelId));
}

function followPanel(id, panelId) {
  const emailId = `${panelId}-email`;
  const pushId = `${panelId}-push`;
  const canPush = pushSupported() && config.push_public_key;
  return h('div', { class: 'follow-panel', id: panelId, hidden: true },
    h('p', { class: 'hint', text: t('follow.lead') }),
    h('div', { class: 'field' },
      h('label', { for: emailId, text: t('follow.email') }),
      h('input', { type: 'email', id: emailId, class: 'follow-email', autocomplete: 'email', maxlength: 254 })),
    canPush ? h('div', { class: 'check' },
      h('input', { type: 'checkbox', id: pushId, class: 'follow-push' }),
      h('label', { for: pushId, text: t('follow.push') })) : null,
    h('p', { class: 'field-error follow-error', hidden: true }),
    h('button', { type: 'button', class: 'btn btn-primary follow-confirm', dataset: { id }, text: t('follow.confirm') }));
}

async function onNearbyClick(e) {
  const toggle = e.target.closest('button.follow-report');
  if (toggle) {
    const panel = document.getElementById(toggle.getAttribute('aria-controls'));
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      const email = panel.querySelector('.follow-email');
      if (!email.value) email.value = $('#email').value.trim();
      email.focus();
    }
    return;
  }
  const confirm = e.target.closest('button.follow-confirm');
  if (confirm) await follow(confirm);
}

async function follow(button) {
  const panel = button.closest('.follow-panel');
  const item = button.closest('li');
  const errorEl = panel.querySelector('.follow-error');
  const emailInput = panel.querySelector('.follow-email');
  const email = emailInput.value.trim();
  const wantPush = panel.querySelector('.follow-push')?.checked;
  errorEl.hidden = true;
  emailInput.removeAttribute('aria-invalid');
  const fail = (message, input = null) => {
    errorEl.textContent = message;
    errorEl.hidden = false;
    errorEl.id ||= `${panel.id}-error`;
    if (input) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', errorEl.id); input.focus(); }
    announce(message, { error: true });
  };
  if (email && !emailInput.checkValidity()) return fail(t('errors.email'), emailInput);
  if (!email && !wantPush) return fail(t('follow.needSomething'), emailInput);
  button.disabled = true;
  const body = { email: email || null };
  try {
    if (wantPush) {
      try {
        body.push_subscription = await subscribePush(config.push_public_key);
      } catch (error) {
        if (!email) throw error;
        announce(t(error instanceof PushDenied ? 'push.denied' : 'push.unavailable'));
      }
    }
    await postJSON(`/api/v1/reports/${encodeURIComponent(button.dataset.id)}/followers`, body);
    const done = h('p', { class: 'follow-done', tabindex: '-1', text: t('follow.done') });
    panel.replaceWith(done);
    item.querySelector('.follow-report').remove();
    done.focus();
    announce(t('follow.done'));
  } catch (error) {
    button.disabled = false;
    if (error instanceof PushDenied) fail(t('push.denied'));
    else if (error instanceof ApiError && error.fields.email) fail(t('errors.email'), emailInput);
    else if (error instanceof ApiError) fail(error.message);
    else if (error instanceof TypeError) fail(t('errors.offline'));
    else fail(t('push.unavailable'));
  }
}

/** A new, empty form: nothing nearby shown. */
export function resetNearby() {
  $('#nearby').hidden = true;
  $('#nearby-list').replaceChildren();
}
