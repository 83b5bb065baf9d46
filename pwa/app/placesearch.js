// Address search for the map-free path: a WAI-ARIA combobox (an input with a listbox of
// suggestions; arrow keys move, Enter chooses, Escape closes, then clears). Suggestions come
// from our own server (/api/v1/places), which alone asks the city's geocoder, if any: what
// the citizen types never goes to a third party from the browser.
import { t } from './i18n.js';
import { getJSON } from './api.js';
import { h, $, announce } from './dom.js';

const MIN_CHARS = 3;
const DEBOUNCE_MS = 250;
const LIMIT = 6;

let onChoose = () => {};
let places = [];
let active = -1;
let timer = null;
let ticket = 0;

/** Bind the search field; `hooks.onChoose(place)` gets {label, lat, lon, kind, district}. */
export function initPlaceSearch(hooks) {
  onChoose = hooks.onChoose;
  const input = $('#place-search');
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', onKey);
  input.addEventListener('blur', () => setTimeout(close, 150)); // a click on an option first
  const list = $('#place-options');
  list.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the field
  list.addEventListener('click', (e) => {
    const option = e.target.closest('[role="option"]');
    if (option) choose(Number(option.dataset.index));
  });
}

/** A new, empty form. */
export function resetPlaceSearch() {
  $('#place-search').value = '';
  places = [];
  close();
}

async function search() {
  const query = $('#place-search').value.trim();
  const mine = ++ticket;
  if (query.length < MIN_CHARS) { places = []; render(); return; }
  let found;
  try {
    found = (await getJSON(`/api/v1/places?${new URLSearchParams({ q: query, limit: String(LIMIT) })}`)).places;
  } catch {
    if (mine === ticket) { places = []; render(); status(t('place.failed')); }
    return;
  }
  if (mine !== ticket) return;
  places = found || [];
  active = -1;
  render();
  status(places.length ? t('place.found', { n: places.length }) : t('place.none'));
}

function status(text) {
  $('#place-status').textContent = text;
}

function render() {
  const input = $('#place-search');
  const list = $('#place-options');
  list.replaceChildren(...places.map((place, index) => h('li', {
    role: 'option', id: `place-option-${index}`, class: 'place-option',
    'aria-selected': String(index === active), dataset: { index },
  }, h('span', { text: place.label }),
  h('span', { class: 'hint', text: ` – ${place.district.name}${place.kind === 'street' ? `, ${t('place.street')}` : ''}` }))));
  const open = places.length > 0;
  list.hidden = !open;
  input.setAttribute('aria-expanded', String(open));
  if (open && active >= 0) input.setAttribute('aria-activedescendant', `place-option-${active}`);
  else input.removeAttribute('aria-activedescendant');
}

function close() {
  active = -1;
  $('#place-options').hidden = true;
  $('#place-search').setAttribute('aria-expanded', 'false');
  $('#place-search').removeAttribute('aria-activedescendant');
}

function onKey(e) {
  const open = !$('#place-options').hidden;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    if (!places.length) return;
    e.preventDefault();
    const step = e.key === 'ArrowDown' ? 1 : -1;
    active = open ? (active + step + places.length) % places.length : (step > 0 ? 0 : places.length - 1);
    render();
    $(`#place-option-${active}`)?.scrollIntoView({ block: 'nearest' });
  } else if (e.key === 'Enter') {
    if (open && active >= 0) { e.preventDefault(); choose(active); }
    else if (open) e.preventDefault(); // never submit the form from the search field
  } else if (e.key === 'Escape') {
    if (open) { e.preventDefault(); close(); }
    else if (e.target.value) { e.preventDefault(); e.target.value = ''; places = []; status(''); }
  }
}

function choose(index) {
  const place = places[index];
  if (!place) return;
  $('#place-search').value = place.label;
  close();
  onChoose(place);
  announce(t('place.chosen', { label: place.label }));
}
