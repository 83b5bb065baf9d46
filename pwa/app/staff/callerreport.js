// The service desk: a report for a caller (phone, counter) without a map — an address from
// the place search, a category, the description and the caller's optional contact — then
// a printable slip with the tracking link and the short code (nothing else about the caller).
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { initPlaceSearch, resetPlaceSearch } from '../placesearch.js';
import { call } from './session.js';
import { loadCity, localName } from './departments.js';
import { field, input, textarea, select, setError, requireFilled, showFormError, clearFormError } from './fields.js';

let bound = false;
let place = null; // {label, lat, lon} chosen in the search
let key = null; // one Idempotency-Key per filled form: a retried send files once

export function initCallerReport() {
  if (bound) return;
  bound = true;
  $('#caller-form').addEventListener('submit', submit);
  $('#caller-print').addEventListener('click', () => window.print());
  $('#caller-again').addEventListener('click', newForm);
  initPlaceSearch({ onChoose: (chosen) => { place = chosen; setError($('#place-search'), null); } });
  $('#place-search').addEventListener('input', () => { place = null; });
}

export async function showCallerReport() {
  let city;
  let languages;
  try {
    [city, languages] = await Promise.all([loadCity(), fetch('/app/i18n/languages.json').then((r) => r.json())]);
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return;
  }
  if ($('#caller-fields').childElementCount) return;
  const categories = city.categories.filter((c) => c.active !== false).map((c) => [c.code, localName(c)]);
  $('#caller-fields').replaceChildren(
    field('caller-category', 'caller.category', select('category', [['', t('caller.choose')], ...categories]), { required: true }),
    field('caller-description', 'caller.description', textarea('description', 4), { required: true }),
    field('caller-address', 'caller.address', input('address', { autocomplete: 'off', maxlength: 300 }), { hintKey: 'caller.addressHint' }),
    field('caller-name', 'caller.name', input('name', { autocomplete: 'off', maxlength: 200 })),
    field('caller-phone', 'caller.phone', input('phone', { type: 'tel', autocomplete: 'off', maxlength: 40 })),
    field('caller-email', 'caller.email', input('email', { type: 'email', autocomplete: 'off', maxlength: 254 }), { hintKey: 'caller.emailHint' }),
    field('caller-language', 'caller.language', select('language', languages.map((l) => [l.code, l.name]))),
  );
}

function newForm() {
  const form = $('#caller-form');
  form.reset();
  resetPlaceSearch();
  place = null;
  key = null;
  clearFormError(form);
  $('#caller-slip').hidden = true;
  form.hidden = false;
  $('#place-search').focus();
}

async function submit(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!requireFilled(form)) return;
  const search = $('#place-search');
  if (!place) {
    setError(search, t('caller.placeRequired'));
    search.focus();
    announce(t('common.checkFields'), { error: true });
    return;
  }
  const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
  const body = {
    category: value('category'), description: value('description'), lat: place.lat, lon: place.lon,
    address: value('address') || place.label, location_source: 'address', language: value('language'),
    name: value('name') || null, phone: value('phone') || null, email: value('email') || null,
  };
  key ??= crypto.randomUUID();
  try {
    const { data } = await call('/api/v1/staff/reports', { method: 'POST', json: body, headers: { 'Idempotency-Key': key } });
    showSlip(data, form, body);
  } catch (error) {
    const fields = { ...(error.fields || {}) };
    for (const name of ['lat', 'lon', 'location']) {
      if (fields[name]) { fields.place = fields[name]; delete fields[name]; }
    }
    error.fields = fields;
    showFormError(form, error);
  }
}

function showSlip(data, form, body) {
  const category = form.querySelector('[name="category"]').selectedOptions[0].textContent;
  $('#slip-body').replaceChildren(
    h('dt', { text: t('slip.number') }), h('dd', { class: 'slip-code', text: data.id }),
    h('dt', { text: t('slip.category') }), h('dd', { text: category }),
    h('dt', { text: t('slip.place') }), h('dd', { text: body.address }),
    h('dt', { text: t('slip.link') }), h('dd', { class: 'slip-url', text: data.tracking_url }),
    h('dt', { text: t('slip.code') }), h('dd', { class: 'slip-code', text: data.slip_code }),
  );
  form.hidden = true;
  $('#caller-slip').hidden = false;
  $('#slip-title').focus();
  announce(t('caller.filed', { id: data.id }));
}
