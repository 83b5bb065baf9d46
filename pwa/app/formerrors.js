// The report form's field errors: a message under the field, aria-invalid and aria-describedby
// on its inputs, focus on the first one, one announcement; and the server's answer mapped
// onto the same fields. Stateless: it reads and writes only the form's markup.
import { t } from './i18n.js';
import { $, announce } from './dom.js';

const form = () => $('#report-form');

// Where focus goes for a field's error (in the form's order, which serverErrors sorts by).
const ERROR_TARGETS = {
  'asset-number': () => $('#asset-number'),
  location: () => $('#district'),
  address: () => $('#address'),
  group: () => form().querySelector('input[name="group"]'),
  category: () => form().querySelector('input[name="category"]:checked') || form().querySelector('input[name="category"]'),
  photos: () => $('#photos'),
  description: () => $('#description'),
  email: () => $('#email'),
};
// The inputs marked aria-invalid (every radio of a group).
const INVALID_TARGETS = {
  'asset-number': () => [$('#asset-number')],
  location: () => [$('#district')],
  address: () => [$('#address')],
  group: () => [...form().querySelectorAll('input[name="group"]')],
  category: () => [...form().querySelectorAll('input[name="category"]')],
  photos: () => [$('#photos')],
  description: () => [$('#description')],
  email: () => [$('#email')],
};

/** Show `message` under `field` and mark its inputs invalid. */
export function showError(field, message) {
  const el = $(`#${field}-error`);
  el.textContent = message;
  el.hidden = false;
  for (const input of INVALID_TARGETS[field]()) {
    input.setAttribute('aria-invalid', 'true');
    const ids = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
    ids.add(`${field}-error`);
    input.setAttribute('aria-describedby', [...ids].join(' '));
  }
}

/** Hide `field`'s error and unmark its inputs. */
export function clearError(field) {
  const el = $(`#${field}-error`);
  if (!el) return;
  el.hidden = true;
  el.textContent = '';
  for (const input of INVALID_TARGETS[field]()) input.removeAttribute('aria-invalid');
}

/** Hide every field error. */
export function clearAllErrors() { Object.keys(ERROR_TARGETS).forEach(clearError); }

/** Show `errors` ([[field, message], …]), focus the first and announce them. */
export function showErrors(errors) {
  for (const [field, message] of errors) showError(field, message);
  const [first] = errors;
  const target = ERROR_TARGETS[first[0]]();
  (target && !target.disabled ? target : $(`#${first[0]}-error`))?.focus?.();
  announce(errors.length === 1 ? first[1] : t('errors.count', { n: errors.length, first: first[1] }), { error: true });
}

/** Server answer → errors at the fields. */
export function serverErrors(error) {
  if (error.code === 'outside_service_area') return [['location', t('errors.outside')]];
  if (error.status === 413) return [['photos', t('errors.photoTooBig', { name: '' })]];
  if (error.status === 415) return [['photos', t('errors.photoType')]];
  const map = { lat: 'location', lon: 'location', location_source: 'location', category: 'category',
    description: 'description', email: 'email', address: 'address', photos: 'photos', asset_id: 'asset-number' };
  const errors = [];
  const seen = new Set();
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const field = map[name];
    if (!field || seen.has(field)) continue;
    seen.add(field);
    const text = Array.isArray(messages) ? messages.join(' ') : String(messages);
    errors.push([field, `${t(`errors.${field === 'category' ? 'category' : field}`)} (${text})`]);
  }
  if (!errors.length) errors.push(['description', t('errors.server', { message: error.message })]);
  const order = Object.keys(ERROR_TARGETS);
  return errors.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
}
